"""The audit log of staff access to patient data (CLINICAL.md section 6)."""

from __future__ import annotations

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from ..models import AuditEvent, User


def record(session: Session, actor: User, action: str, patient_id: int | None) -> None:
    """Note that staff member ``actor`` did ``action`` (a fixed name, never a value).

    A change is logged in its own transaction (``session``): both or neither.
    A read is logged at once, before the data is read, in a short transaction
    of its own: the read-only session cannot write, and the read holds no lock.
    """
    if not actor.is_staff:
        return
    row = {"clinic_id": actor.clinic_id, "actor_id": actor.id, "action": action, "patient_id": patient_id}
    if session.info.get("read_only"):
        with session.info["database"].writer_beside(session) as writer:
            writer.execute(insert(AuditEvent), [row])
            writer.commit()
    else:
        session.add(AuditEvent(**row))


def events(session: Session, clinic_id: int, limit: int, before_id: int | None = None) -> list[AuditEvent]:
    query = select(AuditEvent).where(AuditEvent.clinic_id == clinic_id)
    if before_id is not None:
        query = query.where(AuditEvent.id < before_id)
    return list(session.scalars(query.order_by(AuditEvent.id.desc()).limit(limit)))
