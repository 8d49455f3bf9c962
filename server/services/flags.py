"""Flags: raised from checklists and lab results, triaged by the care team."""

from __future__ import annotations

from datetime import date, datetime
from typing import Iterable

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..engine.content.model import Content
from ..engine.dates import add_months
from ..models import Flag, Patient, Snooze, User
from . import notify
from .errors import Conflict, InvalidInput


def open_counts(session: Session, patient_ids: Iterable[int]) -> dict[int, int]:
    """Patient id -> her flags not yet resolved (patients without any are left out)."""
    return dict(session.execute(
        select(Flag.patient_id, func.count()).where(Flag.patient_id.in_(list(patient_ids)), Flag.status != "resolved")
        .group_by(Flag.patient_id)).all())


def raises_flag(level: str, content: Content) -> bool:
    """Flags are raised from content's flag_from level up ("routine" stays on the record)."""
    return content.level_rank(level) >= content.level_rank(content.care_team.flag_from)


def raise_flag(session: Session, patient_id: int, clinic_id: int, level: str, source: str, source_id: int,
               reasons: Iterable[str], now: datetime, content: Content) -> Flag:
    flag = Flag(clinic_id=clinic_id, patient_id=patient_id, level=level,
                level_rank=content.level_rank(level), source=source, source_id=source_id,
                reasons=list(reasons), status="open", created_at=now)
    session.add(flag)
    session.flush()
    if level in content.care_team.push_levels:
        notify.notify_care_team(session, flag, "flag", now, content)
    return flag


def queue(session: Session, clinic_id: int, status: str | None, limit: int) -> list:
    """The clinic's flags, most severe first, then oldest first.

    Plain rows rather than ORM objects: the queue is read far more often than
    it changes, and rows are several times cheaper to load (bench/api.py).
    """
    table = Flag.__table__
    query = select(table).where(table.c.clinic_id == clinic_id)
    if status is not None:
        query = query.where(table.c.status == status)
    return list(session.execute(query.order_by(table.c.level_rank.desc(), table.c.created_at, table.c.id)
                                .limit(limit)))


def acknowledge(flag: Flag, nurse: User, now: datetime) -> None:
    if flag.status != "open":
        raise Conflict("flag_not_open", f"This flag is already {flag.status}.")
    flag.status = "acknowledged"
    flag.acknowledged_by_id = nurse.id
    flag.acknowledged_at = now


def resolve(flag: Flag, nurse: User, outcome: str, note: str | None, now: datetime) -> None:
    if flag.status == "resolved":
        raise Conflict("flag_resolved", "This flag is already resolved.")
    if flag.acknowledged_at is None:  # resolving implies having looked at it
        flag.acknowledged_by_id, flag.acknowledged_at = nurse.id, now
    flag.status = "resolved"
    flag.resolved_by_id = nurse.id
    flag.resolved_at = now
    flag.outcome = outcome
    flag.note = note


def snoozes_in_force(session: Session, patient_id: int, today: date) -> list[Snooze]:
    return list(session.scalars(
        select(Snooze).where(Snooze.patient_id == patient_id, Snooze.until >= today).order_by(Snooze.until)
    ))


def active_snoozes(session: Session, patient_id: int, today: date) -> set[str]:
    """The question codes snoozed for this patient on ``today``."""
    return set(session.scalars(select(Snooze.code).where(Snooze.patient_id == patient_id, Snooze.until >= today)))


def snooze(session: Session, patient: Patient, code: str, until: date, reason: str | None, nurse: User,
           today: date, now: datetime, content: Content) -> Snooze:
    """Stop raising flags for question ``code`` of this patient until ``until`` (inclusive)."""
    if code not in content.question_codes:
        raise InvalidInput("code", f"{code!r} is not a checklist question code.", "unknown_code")
    if until < today:
        raise InvalidInput("until", "The snooze must end today or later.")
    months = content.care_team.snooze_max_months
    if until > add_months(today, months):
        raise InvalidInput("until", f"A snooze lasts at most {months} month(s).")
    entry = Snooze(patient_id=patient.id, code=code, until=until, reason=reason, created_by_id=nurse.id,
                   created_at=now)
    session.add(entry)
    return entry
