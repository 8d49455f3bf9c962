"""Monthly symptom checklists as answered, with their triage, and snoozed questions."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..db import Base
from ..timeutil import utcnow


class Checklist(Base):
    """One monthly symptom checklist as the patient answered it."""

    __tablename__ = "checklists"
    __table_args__ = (
        # The client's id makes a resubmission (offline outbox replay) harmless.
        UniqueConstraint("patient_id", "client_id"),
        # One checklist per monthly period: a second one is a conflict.
        UniqueConstraint("patient_id", "period"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # No index of its own: both unique constraints begin with it (migration 0003).
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"))
    client_id: Mapped[str] = mapped_column(String(36))
    answered_on: Mapped[date]
    #: month n of the checklist.monthly item it answers (0 before the first)
    period: Mapped[int]
    answers: Mapped[dict[str, Any]]
    note: Mapped[str | None] = mapped_column(Text)
    level: Mapped[str] = mapped_column(String(10))
    reasons: Mapped[list[Any]]
    #: the body first returned (without its id), returned again for the same client_id
    response: Mapped[dict[str, Any]]
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: the nurse who first marked this routine checklist read, and when: it then leaves
    #: the list of checklists to read (migration 0015); None: not read yet
    read_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    read_at: Mapped[datetime | None]


class Snooze(Base):
    """A nurse's decision not to raise flags for one question code of one patient."""

    __tablename__ = "snoozes"

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), index=True)
    code: Mapped[str] = mapped_column(String(40))
    #: last local date (inclusive) the snooze holds
    until: Mapped[date]
    reason: Mapped[str | None] = mapped_column(Text)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
