"""The audit log: who of the staff read or changed what."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from ..db import Base
from ..timeutil import utcnow


class AuditEvent(Base):
    """A read or change of patient data by staff: who, what, which patient, when.

    Never the health values themselves: ``action`` is a fixed name such as
    ``labs.read`` and there is no free-text column.

    ``actor_id`` and ``patient_id`` have no foreign key (migration 0004): the
    log outlives an erased patient or account (DELETE /me) and keeps their ids.
    """

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    clinic_id: Mapped[int] = mapped_column(ForeignKey("clinics.id"), index=True)
    actor_id: Mapped[int]
    action: Mapped[str] = mapped_column(String(40))
    #: None for reads of the clinic's patient list as a whole
    patient_id: Mapped[int | None] = mapped_column(index=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
