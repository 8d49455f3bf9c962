"""The audit log of staff access to patient data: every read or change by staff."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from ..models import ApiKey, AuditEvent, User

#: A read of a clinic-wide list (an action ending ``.list``, no patient) by the same
#: person within this span of the last one written is not written again: the
#: nurse's queue polls every 15 s and would otherwise write 240 rows an hour that
#: say nothing more than "the queue was open". A list left open still writes one
#: row every 10 minutes, so the log shows when it was open to within that span.
#: Reads of one patient's record are never folded (docs/decisions.md, "tidy").
LIST_READ_WINDOW = timedelta(minutes=10)


def is_list_read(action: str, patient_id: int | None) -> bool:
    """Whether ``action`` reads a clinic-wide list rather than one patient's data."""
    return patient_id is None and action.endswith(".list")


def record(session: Session, actor: User, action: str, patient_id: int | None, now: datetime) -> None:
    """Note, in ``session``, that staff member ``actor`` did ``action`` (a fixed
    name, never a value) at ``now``; nothing for patients and family members, and
    nothing for a list read already written for them within ``LIST_READ_WINDOW``."""
    if not actor.is_staff:
        return
    if is_list_read(action, patient_id) and session.scalar(
            select(AuditEvent.id).where(AuditEvent.clinic_id == actor.clinic_id, AuditEvent.actor_id == actor.id,
                                        AuditEvent.action == action, AuditEvent.patient_id.is_(None),
                                        AuditEvent.at > now - LIST_READ_WINDOW, AuditEvent.at <= now)
            .limit(1)) is not None:
        return
    session.add(AuditEvent(clinic_id=actor.clinic_id, actor_id=actor.id, action=action, patient_id=patient_id, at=now))


def events(session: Session, clinic_id: int, limit: int, before_id: int | None = None, *,
           actor_id: int | None = None, patient_id: int | None = None, action: str | None = None,
           since: datetime | None = None, until: datetime | None = None) -> list[AuditEvent]:
    """The clinic's events, newest first, ``limit`` at most, older than event
    ``before_id`` (the next page); only those of ``actor_id``, about
    ``patient_id``, whose action is ``action`` or begins with it followed by a
    dot (``denied`` finds ``denied.patient``), at ``since`` or later and before ``until``."""
    query = select(AuditEvent).where(AuditEvent.clinic_id == clinic_id)
    if before_id is not None:
        query = query.where(AuditEvent.id < before_id)
    if actor_id is not None:
        query = query.where(AuditEvent.actor_id == actor_id)
    if patient_id is not None:
        query = query.where(AuditEvent.patient_id == patient_id)
    if action:
        pattern = action.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        query = query.where(or_(AuditEvent.action == action, AuditEvent.action.like(f"{pattern}.%", escape="\\")))
    if since is not None:
        query = query.where(AuditEvent.at >= since)
    if until is not None:
        query = query.where(AuditEvent.at < until)
    return list(session.scalars(query.order_by(AuditEvent.id.desc()).limit(limit)))


def record_erasure(session: Session, account: User, patient_id: int | None, at: datetime) -> None:
    """Note that ``account`` erased itself (DELETE /me), and with it patient
    ``patient_id``'s record: the one event the log keeps of a patient or family
    member, so that the care team learns why a patient is gone. Ids only; the
    log has no foreign key to either (migration 0004)."""
    session.add(AuditEvent(clinic_id=account.clinic_id, actor_id=account.id, action="account.erase",
                           patient_id=patient_id, at=at))


def record_key_import(session: Session, key: ApiKey, patient_ids: list[int], at: datetime) -> None:
    """Note a laboratory's import with a clinic API key: the key is the actor (its id in
    ``actor_id``, action ``labs.import_fhir``), one event per patient results were stored for."""
    session.add_all(AuditEvent(clinic_id=key.clinic_id, actor_id=key.id, action="labs.import_fhir",
                               patient_id=patient_id, at=at) for patient_id in patient_ids)


def record_denial(session: Session, actor: User, action: str, patient_id: int | None) -> None:
    """Note that ``actor``, whatever their role, was refused ``action`` (a fixed
    name such as ``denied.patient``): a record they may not see (404) or may not
    do this to (403). Ids only, never what the request carried; ``patient_id``
    only for a patient of the actor's own clinic (the caller decides)."""
    session.add(AuditEvent(clinic_id=actor.clinic_id, actor_id=actor.id, action=action, patient_id=patient_id))

