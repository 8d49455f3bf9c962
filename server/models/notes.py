"""The care team's own writing about a patient: nurse notes, and why a course was corrected."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..db import Base
from ..timeutil import utcnow


class NurseNote(Base):
    """A dated, signed note by a member of the care team on a patient's record.

    Never shown to the patient or her family, never logged, never pushed: only
    the staff of her clinic read it (GET /patients/{id}/notes)."""

    __tablename__ = "nurse_notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), index=True)
    #: the signature: who wrote it (kept when the account is later disabled)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class CourseChange(Base):
    """A course corrected or removed by the care team: what it was before, who changed it, when and why
    (CLINICAL.md 6: a correction keeps the original).

    ``course_id`` has no foreign key: the row outlives a removed course."""

    __tablename__ = "course_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), index=True)
    course_id: Mapped[int]
    action: Mapped[str] = mapped_column(String(10))  # "corrected" | "removed"
    #: the course as it stood before the change
    infusions_before: Mapped[list[Any]]
    status_before: Mapped[str] = mapped_column(String(10))
    reason: Mapped[str | None] = mapped_column(Text)
    changed_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    changed_at: Mapped[datetime] = mapped_column(default=utcnow)
