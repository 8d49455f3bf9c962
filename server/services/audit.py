"""The audit log of staff access to patient data (CLINICAL.md section 6)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models import AuditEvent, User


def record(session: Session, actor: User, action: str, patient_id: int | None) -> None:
    """Note that staff member ``actor`` did ``action`` (a fixed name, never a value)."""
    if actor.is_staff:
        session.add(AuditEvent(clinic_id=actor.clinic_id, actor_id=actor.id, action=action,
                               patient_id=patient_id))


def events(session: Session, clinic_id: int, limit: int, before_id: int | None = None) -> list[AuditEvent]:
    query = select(AuditEvent).where(AuditEvent.clinic_id == clinic_id)
    if before_id is not None:
        query = query.where(AuditEvent.id < before_id)
    return list(session.scalars(query.order_by(AuditEvent.id.desc()).limit(limit)))
