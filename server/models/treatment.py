"""Treatment courses: the infusion dates, given or planned."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from ..db import Base
from ..timeutil import utcnow


class Course(Base):
    """A treatment course as its infusion dates (CLINICAL.md 1: courses can be interrupted)."""

    __tablename__ = "courses"

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), index=True)
    #: ISO dates, sorted
    infusions: Mapped[list[Any]]
    #: protocol cll: parallel to ``infusions``, each {"mg": number|null, "route": "iv"|"sc"|null}; null: none recorded
    doses: Mapped[list[Any] | None]
    status: Mapped[str] = mapped_column(String(10))  # "given" | "planned"
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
