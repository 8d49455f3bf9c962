"""Flags raised for the care team to triage, and the outcomes that close them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..db import Base
from ..timeutil import utcnow

#: how a nurse closes a flag: the outcomes a resolved flag records
OUTCOMES = (
    "called_patient",
    "lab_ordered",
    "referred_haematology",
    "referred_nephrology",
    "referred_endocrinology",
    "no_action_needed",
    # the result it came from was withdrawn or corrected (CLINICAL.md section 6)
    "entered_in_error",
)

FLAG_STATUSES = ("open", "acknowledged", "resolved")


class Flag(Base):
    """Something worrying for the care team to triage: open -> acknowledged -> resolved."""

    __tablename__ = "flags"
    __table_args__ = (Index("ix_flags_queue", "clinic_id", "status", "level_rank", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    clinic_id: Mapped[int] = mapped_column(ForeignKey("clinics.id"))
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), index=True)
    level: Mapped[str] = mapped_column(String(10))
    #: the level's rank in content/checklist.toml, so the queue sorts in the database
    level_rank: Mapped[int]
    source: Mapped[str] = mapped_column(String(12))  # "checklist" | "lab"
    source_id: Mapped[int]
    reasons: Mapped[list[Any]]
    status: Mapped[str] = mapped_column(String(12), default="open")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    acknowledged_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    acknowledged_at: Mapped[datetime | None]
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    resolved_at: Mapped[datetime | None]
    #: one of OUTCOMES once resolved
    outcome: Mapped[str | None] = mapped_column(String(30))
    note: Mapped[str | None] = mapped_column(Text)
    #: an urgent flag still unacknowledged after urgent_ack_hours is pushed again
    escalated_at: Mapped[datetime | None]
