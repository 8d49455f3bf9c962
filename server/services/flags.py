"""Flags: raised from checklists and lab results, triaged by the care team."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Iterable

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..engine.content.model import Content
from ..engine.dates import add_months
from ..models import Checklist, Flag, Patient, Snooze, User
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


# --- the care team's working queue (issue 17) ------------------------------------------------

#: a patient's group is at most this many flags long in the queue (the rest are in her record)
QUEUE_FLAGS = 500


def _emails(session: Session, user_ids: Iterable[int | None]) -> dict[int, str]:
    wanted = {i for i in user_ids if i is not None}
    if not wanted:
        return {}
    return dict(session.execute(select(User.id, User.email).where(User.id.in_(wanted))).all())


def patient_queue(session: Session, clinic_id: int, status: str | None, level: str | None) -> list[dict[str, Any]]:
    """The clinic's flags not yet resolved, one group per patient.

    ``status`` (open or acknowledged) and ``level`` keep only those flags. A group
    holds its flags (most severe, then newest first), its highest level, and the
    instants of its oldest and newest flag. Groups with a flag nobody has looked
    at come first, then by highest level, then the newest flag first: a new urgent
    flag lands at the top of the urgent ones, where the nurse sees it."""
    query = (select(Flag, Patient.display_name, Patient.hospital_number, Patient.protocol)
             .join(Patient, Patient.id == Flag.patient_id)
             .where(Flag.clinic_id == clinic_id, Flag.status != "resolved"))
    if status is not None:
        query = query.where(Flag.status == status)
    if level is not None:
        query = query.where(Flag.level == level)
    rows = session.execute(query.order_by(Flag.level_rank.desc(), Flag.created_at.desc(), Flag.id.desc())
                           .limit(QUEUE_FLAGS)).all()
    emails = _emails(session, (flag.acknowledged_by_id for flag, _, _, _ in rows))
    groups: dict[int, dict[str, Any]] = {}
    for flag, name, number, protocol in rows:
        group = groups.setdefault(flag.patient_id, {
            "patient_id": flag.patient_id, "display_name": name, "hospital_number": number, "protocol": protocol,
            "level": flag.level, "level_rank": flag.level_rank, "oldest_at": flag.created_at,
            "newest_at": flag.created_at, "open": 0, "acknowledged": 0, "flags": []})
        group["oldest_at"] = min(group["oldest_at"], flag.created_at)
        group["newest_at"] = max(group["newest_at"], flag.created_at)
        group[flag.status] += 1
        group["flags"].append((flag, emails.get(flag.acknowledged_by_id)))
    return sorted(groups.values(), key=lambda g: (g["open"] == 0, -g["level_rank"], -g["newest_at"].timestamp()))


def resolved(session: Session, clinic_id: int, limit: int, patient_id: int | None = None) -> list[tuple]:
    """The clinic's resolved flags, last resolved first: (flag, patient name, who
    acknowledged, who resolved, the patient's protocol); ``patient_id``: hers only."""
    query = (select(Flag, Patient.display_name, Patient.protocol).join(Patient, Patient.id == Flag.patient_id)
             .where(Flag.clinic_id == clinic_id, Flag.status == "resolved"))
    if patient_id is not None:
        query = query.where(Flag.patient_id == patient_id)
    rows = session.execute(query.order_by(Flag.resolved_at.desc(), Flag.id.desc()).limit(limit)).all()
    emails = _emails(session, [f.acknowledged_by_id for f, _, _ in rows] + [f.resolved_by_id for f, _, _ in rows])
    return [(flag, name, emails.get(flag.acknowledged_by_id), emails.get(flag.resolved_by_id), protocol)
            for flag, name, protocol in rows]


def checklists_to_read(session: Session, clinic_id: int, since: date,
                       limit: int) -> list[tuple[Checklist, str, str]]:
    """The clinic's checklists answered on or after ``since`` whose level is routine
    (CLINICAL.md 3: no flag, but on the list of checklists to read; a note alone
    makes a checklist routine) not yet marked read, newest first, with the patient's name
    and protocol."""
    return list(session.execute(
        select(Checklist, Patient.display_name, Patient.protocol).join(Patient, Patient.id == Checklist.patient_id)
        .where(Patient.clinic_id == clinic_id, Checklist.level == "routine", Checklist.answered_on >= since,
               Checklist.read_at.is_(None))
        .order_by(Checklist.answered_on.desc(), Checklist.id.desc()).limit(limit)).all())


def mark_read(checklist: Checklist, nurse: User, now: datetime) -> None:
    """Mark a routine checklist read by ``nurse`` at ``now``: it leaves the list of
    checklists to read. Marking it again changes nothing (the first reader and
    instant stay). A checklist of another level is not on that list: its flag,
    if any, is what the care team acknowledges and resolves (Conflict)."""
    if checklist.level != "routine":
        raise Conflict("checklist_not_to_read", "Only a checklist on the list to read can be marked read.")
    if checklist.read_at is None:
        checklist.read_by_id, checklist.read_at = nurse.id, now
