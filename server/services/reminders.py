"""Reminder rows and push deliveries: what the clock process does (content/reminders.toml).

* ``sync_patients`` plans patients' reminder rows up to a horizon from her
  timeline (engine.reminders.plan, catch-up included): new keys are added,
  pending rows that no longer apply are cancelled, sent rows stay as history.
* ``handle_due_reminders`` claims due rows. A row past its ``useful_until`` is
  skipped ("expired": the catch-up rule); a lab or checklist step is skipped
  when the item is done; a care-team step raises its flag; a patient step
  becomes one Delivery per device of the patient and of family members who
  share that kind of item.
* ``escalate_unacknowledged`` pushes urgent flags again after urgent_ack_hours.
* ``claim_deliveries`` / ``record_results`` send each Delivery at most once per
  attempt, with retries for 429 and 5xx until the message's TTL runs out.
* ``delete_history`` deletes finished deliveries and handled reminder rows
  once they are older than the retention period (HISTORY_RETENTION_DAYS).

Rows are claimed with ``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so two clocks
never take the same row; SQLite has one writer (BEGIN IMMEDIATE).

One bad row never stops the others (docs/decisions.md): a patient whose
planning fails keeps the reason and the count on her row and is tried again
later, backing off; a due reminder that cannot be handled is marked
``failed`` with the reason; a message that cannot go records why on its
delivery. Database errors are not a row's: they end the step, which the clock
reports.
"""

from __future__ import annotations

import logging
import traceback
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Iterable, Mapping, NamedTuple
from zoneinfo import ZoneInfo

from sqlalchemy import delete, insert, or_, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, selectinload

from ..clock.push import PushResult
from ..engine.content.model import Content
from ..engine.reminders import PlannedReminder, item_days, plan
from ..models import (
    Checklist,
    Clinic,
    Course,
    Delivery,
    FamilyLink,
    Flag,
    LabResult,
    Patient,
    PushSubscription,
    Reminder,
    User,
)
from . import flags as flag_service
from .notify import notify_care_team, topic_for
from .patients import History, clinic_settings, compute_timeline

#: a delivery claimed longer ago than this was interrupted (a crashed clock): retry it
STALE_CLAIM = timedelta(minutes=5)
#: retries back off 30 s, 1 min, 2 min ... up to this
MAX_BACKOFF = timedelta(hours=1)
MIN_TTL = 60
MAX_TTL = 28 * 24 * 3600
#: a patient whose planning failed is tried again after 5 min, 10, 20 ... up to this
MAX_PLAN_BACKOFF = timedelta(days=1)

log = logging.getLogger(__name__)


def failure_reason(error: BaseException) -> str:
    """What went wrong, for a row and the log: the error's class (and a domain
    error's code), never its message, which may quote the stored values."""
    code = getattr(error, "code", None)
    return (type(error).__name__ + (f" ({code})" if isinstance(code, str) else ""))[:80]


def _log_failure(what: str, error: BaseException) -> None:
    """A row's failure in the log: where it was raised, without the message."""
    log.error("%s: %s\n%s", what, failure_reason(error), "".join(traceback.format_tb(error.__traceback__)))


def for_update(query, session: Session, of):
    """``FOR UPDATE OF <of> SKIP LOCKED`` where the database has it (PostgreSQL).

    ``of`` names the claimed table: eager joins (a patient's clinic) must not be locked.
    """
    if session.get_bind().dialect.name == "postgresql":
        return query.with_for_update(skip_locked=True, of=of)
    return query


# --- planning -----------------------------------------------------------------------


class Planned(NamedTuple):
    rows: int  # reminder rows added
    failed: int  # patients whose planning failed (recorded on their rows)


def planning_content(patient: Patient, content: Content) -> Content:
    """The content a patient's reminders are planned from (her protocol's): the one
    place that chooses it."""
    return content.of(patient.protocol)


def sync_patients(session: Session, patients: list[Patient], now: datetime, content: Content,
                  horizon: timedelta) -> Planned:
    """Plan the reminder rows of ``patients`` up to ``now + horizon``: the
    reminders still useful at ``now`` (engine.reminders.plan).

    Planned keys not yet in the table are added; pending rows whose key is no
    longer planned are cancelled (a cancelled key planned again comes back);
    sent and skipped rows are history and stay as they are. A handful of
    queries per batch, whatever its size.

    A patient whose plan cannot be computed (a stored record the engine
    cannot use, a bug) keeps the reason and the count on her row; her rows
    stay as they were and she is tried again after a backoff (her
    ``reminders_until`` is set so that ``patients_to_plan`` takes her then).
    """
    if not patients:
        return Planned(0, 0)
    ids = [p.id for p in patients]
    until = now + horizon
    courses: dict[int, list[Course]] = {pid: [] for pid in ids}
    for course in session.scalars(select(Course).where(Course.patient_id.in_(ids)).order_by(Course.id)):
        courses[course.patient_id].append(course)
    results: dict[int, list[LabResult]] = {pid: [] for pid in ids}
    for result in session.scalars(select(LabResult).where(LabResult.patient_id.in_(ids),
                                                          LabResult.withdrawn_at.is_(None))
                                  .order_by(LabResult.taken_on, LabResult.id)):
        results[result.patient_id].append(result)
    plans: dict[int, list[PlannedReminder]] = {}
    failed: list[Patient] = []
    for patient in patients:
        try:
            history = History(patient, courses[patient.id], results[patient.id], [])
            settings = clinic_settings(patient.clinic, content)
            own = planning_content(patient, content)
            # Only the days she can be reminded of now: a whole timeline is years of monthly items.
            days = item_days(patient.timezone, own, now, until)
            plans[patient.id] = plan(compute_timeline(history, content, days).items, patient.timezone, settings,
                                     own, now, until)
        except SQLAlchemyError:
            raise
        except Exception as error:  # noqa: BLE001 - one patient's record, recorded on her row
            _log_failure(f"planning the reminders of patient {patient.id} failed", error)
            patient.plan_error = failure_reason(error)
            patient.plan_attempts = (patient.plan_attempts or 0) + 1
            wait = min(MAX_PLAN_BACKOFF, timedelta(minutes=5) * 2 ** min(patient.plan_attempts - 1, 16))
            patient.reminders_until = now + horizon - timedelta(days=1) + wait
            failed.append(patient)
    planned_ids = list(plans)
    # Rows these plans may name: a key's instant and useful time are within a
    # day of the planned ones (time zone, quiet hours), and every planned
    # reminder is useful at ``now`` or later.
    rows: dict[tuple[int, str], Reminder] = {
        (row.patient_id, row.key): row for row in session.scalars(select(Reminder).where(
            Reminder.patient_id.in_(planned_ids),
            or_(Reminder.due_at >= now - timedelta(days=1), Reminder.useful_until >= now - timedelta(days=1))))
    } if planned_ids else {}
    planned: set[tuple[int, str]] = set()
    new_rows = []
    for patient_id, reminders_of in plans.items():
        for reminder in reminders_of:
            planned.add((patient_id, reminder.key))
            row = rows.get((patient_id, reminder.key))
            if row is None:
                new_rows.append(_row_values(patient_id, reminder, now))
            elif row.status in ("pending", "cancelled"):
                row.status, row.outcome, row.handled_at = "pending", None, None
                row.due_at, row.useful_until = reminder.at, reminder.useful_until
    for key, row in rows.items():
        if row.status == "pending" and row.useful_until >= now and key not in planned:
            row.status, row.outcome, row.handled_at = "cancelled", "no longer planned", now
    if new_rows:
        # A key already stored outside the rows read above stays as it is.
        session.execute(_insert_new(session).on_conflict_do_nothing(index_elements=["patient_id", "key"]),
                        new_rows)
    if planned_ids:
        session.execute(update(Patient).where(Patient.id.in_(planned_ids))
                        .values(reminders_until=until, plan_error=None, plan_attempts=0)
                        .execution_options(synchronize_session=False))
        for patient in patients:
            if patient.id in plans:
                session.expire(patient, ["reminders_until", "plan_error", "plan_attempts"])
    return Planned(len(new_rows), len(failed))


def _insert_new(session: Session):
    """INSERT ... ON CONFLICT for this database, on the table rather than the ORM
    class: Core's executemany is the fastest way in for thousands of rows on
    both databases (bench/clock.py), where the ORM's bulk path and RETURNING
    cost several times as much."""
    dialect = session.get_bind().dialect.name
    return (postgresql_insert if dialect == "postgresql" else sqlite_insert)(Reminder.__table__)


def _row_values(patient_id: int, r: PlannedReminder, now: datetime) -> dict[str, Any]:
    return {"patient_id": patient_id, "key": r.key, "codes": list(r.codes), "kind": r.kind,
            "occurrence": r.occurrence, "item_due": r.due, "step": r.step, "audience": r.audience,
            "due_at": r.at, "useful_until": r.useful_until, "unless": r.unless, "flag_level": r.flag,
            "text_key": r.text, "status": "pending", "created_at": now}


def mark_stale(session: Session, patient_ids: Iterable[int] | None = None, clinic_id: int | None = None) -> None:
    """Something changed the timeline: the clock re-plans these patients on its next tick."""
    query = update(Patient).values(reminders_until=None)
    if patient_ids is not None:
        query = query.where(Patient.id.in_(list(patient_ids)))
    if clinic_id is not None:
        query = query.where(Patient.clinic_id == clinic_id)
    session.execute(query)


def patients_to_plan(session: Session, now: datetime, horizon: timedelta, limit: int) -> list[Patient]:
    """Patients whose plan is stale or ends within a day (re-planned daily)."""
    due = now + horizon - timedelta(days=1)
    query = select(Patient).where(or_(Patient.reminders_until.is_(None), Patient.reminders_until < due)) \
        .order_by(Patient.id).limit(limit).options(selectinload(Patient.pregnancies))
    return list(session.scalars(for_update(query, session, Patient)))


# --- due reminders -----------------------------------------------------------------


class _Evidence(NamedTuple):
    """What the patients of a batch of due rows have done, read in two queries:
    the dates they answered a checklist, and (analyte, date) of their lab results."""

    checklists: dict[int, list[date]]
    labs: dict[int, list[tuple[str, date]]]


def _evidence(session: Session, rows: list[Reminder], content: Content) -> _Evidence:
    """The checklists and lab results that may make these rows "done" (rows ``unless`` done)."""
    found = _Evidence({}, {})
    checking = [row for row in rows if row.unless == "done" and row.item_due is not None]
    checklist_rows = [row for row in checking if row.kind == "checklist"]
    lab_rows = [row for row in checking if row.kind != "checklist"]
    if checklist_rows:
        opens = next(rule for rule in content.items if rule.kind == "checklist").window_before_days
        since = min(row.item_due for row in checklist_rows) - timedelta(days=opens)
        for patient_id, answered_on in session.execute(select(Checklist.patient_id, Checklist.answered_on).where(
                Checklist.patient_id.in_({row.patient_id for row in checklist_rows}), Checklist.answered_on >= since)):
            found.checklists.setdefault(patient_id, []).append(answered_on)
    if lab_rows:
        # The widest window a clinic may set: each row applies its clinic's own.
        widest = int(content.settings["lab_window_days"].max or 0)
        since = min(row.item_due for row in lab_rows) - timedelta(days=widest)
        for patient_id, analyte, taken_on in session.execute(
                select(LabResult.patient_id, LabResult.analyte, LabResult.taken_on).where(
                    LabResult.patient_id.in_({row.patient_id for row in lab_rows}),
                    LabResult.withdrawn_at.is_(None), LabResult.taken_on >= since)):
            found.labs.setdefault(patient_id, []).append((analyte, taken_on))
    return found


def _is_done(row: Reminder, now_local: date, settings: Mapping[str, Any], content: Content,
             evidence: _Evidence) -> bool:
    """Is the lab draw or checklist this row reminds of done by now?"""
    due = row.item_due
    if row.kind == "checklist":
        opens = next(rule for rule in content.items if rule.kind == "checklist").window_before_days
        return any(due - timedelta(days=opens) <= answered_on <= now_local
                   for answered_on in evidence.checklists.get(row.patient_id, ()))
    window = timedelta(days=settings["lab_window_days"])
    wanted = {code: set(next(rule for rule in content.items if rule.code == code).analytes) for code in row.codes}
    taken = {analyte for analyte, taken_on in evidence.labs.get(row.patient_id, ())
             if due - window <= taken_on <= now_local}
    return all(analytes & taken for analytes in wanted.values())


def _recipients(session: Session, patient_ids: list[int]) -> dict[int, list[tuple[int, int, list | None]]]:
    """Per patient, the devices that hear her reminders: (user id, subscription id, shared kinds).

    Shared kinds is None for the patient herself (she hears everything) and the
    family member's chosen kinds otherwise. One query per batch of reminders.
    """
    own = session.execute(
        select(User.patient_id, User.id, PushSubscription.id)
        .join(PushSubscription, PushSubscription.user_id == User.id)
        .where(User.patient_id.in_(patient_ids), User.active.is_(True)))
    family = session.execute(
        select(FamilyLink.patient_id, User.id, PushSubscription.id, FamilyLink.shares)
        .join(User, User.id == FamilyLink.user_id).join(PushSubscription, PushSubscription.user_id == User.id)
        .where(FamilyLink.patient_id.in_(patient_ids), FamilyLink.revoked_at.is_(None), User.active.is_(True)))
    found: dict[int, list[tuple[int, int, list | None]]] = {pid: [] for pid in patient_ids}
    for patient_id, user_id, subscription_id in own:
        found[patient_id].append((user_id, subscription_id, None))
    for patient_id, user_id, subscription_id, shares in family:
        found[patient_id].append((user_id, subscription_id, list(shares or [])))
    return found


def reminder_payload(patient: Patient, row: Reminder, content: Content, topic: str,
                     settings: Mapping[str, Any] | None = None) -> dict[str, str]:
    """Lock-screen safe by default: no item name unless the patient opted in.
    ``settings``: the clinic's resolved settings, which pick an item's words
    (valaciclovir for med.aciclovir); None: the item's default words."""
    language = patient.language
    if patient.detailed_notifications:
        code = row.codes[0]
        variant = content.word_variant(code, settings) if settings is not None else None
        title = content.item_text(language, code, "title", variant)
        body = content.text(language, "reminders", row.text_key or "today")
    else:
        title = content.text(language, "reminders", "generic_title")
        body = content.text(language, "reminders", "generic_body")
    return {"title": title, "body": body, "url": "/#/today", "tag": topic}


def _ttl(until: datetime, now: datetime) -> int:
    return max(MIN_TTL, min(MAX_TTL, int((until - now).total_seconds())))


def handle_due_reminders(session: Session, now: datetime, content: Content, limit: int) -> int:
    """Claim and handle up to ``limit`` due rows; returns how many were handled."""
    query = select(Reminder).where(Reminder.status == "pending", Reminder.due_at <= now) \
        .order_by(Reminder.due_at, Reminder.id).limit(limit)
    rows = list(session.scalars(for_update(query, session, Reminder)))
    if not rows:
        return 0
    patient_ids = sorted({row.patient_id for row in rows})
    patients = {p.id: p for p in session.scalars(select(Patient).where(Patient.id.in_(patient_ids)))}
    recipients = _recipients(session, patient_ids)
    evidence = _evidence(session, rows, content)
    settings_of: dict[int, Mapping[str, Any]] = {}
    deliveries = []
    for row in rows:
        row.handled_at = now
        try:
            deliveries += _handle(session, row, patients[row.patient_id], recipients, evidence, settings_of, now,
                                  content)
        except SQLAlchemyError:
            raise
        except Exception as error:  # noqa: BLE001 - this row's failure, recorded on it
            _log_failure(f"reminder {row.id} could not be handled", error)
            row.status, row.outcome = "failed", failure_reason(error)[:40]
    if deliveries:
        session.execute(insert(Delivery.__table__), deliveries)  # Core executemany, as _insert_new
    return len(rows)


def _handle(session: Session, row: Reminder, patient: Patient, recipients, evidence: _Evidence,
            settings_of: dict[int, Mapping[str, Any]], now: datetime, content: Content) -> list[dict[str, Any]]:
    """Decide one due row (its status and outcome); returns the deliveries to make for it."""
    content = content.of(patient.protocol)  # her protocol's items and words
    if now > row.useful_until:
        row.status, row.outcome = "skipped", "expired"
        return []
    if patient.clinic_id not in settings_of:
        settings_of[patient.clinic_id] = clinic_settings(patient.clinic, content)
    if row.unless == "done" and _is_done(row, now.astimezone(ZoneInfo(patient.timezone)).date(),
                                         settings_of[patient.clinic_id], content, evidence):
        row.status, row.outcome = "skipped", "done"
        return []
    if row.audience == "care_team":
        # In a savepoint: a flag that fails half-way leaves nothing behind.
        with session.begin_nested():
            flag = flag_service.raise_flag(session, patient.id, patient.clinic_id, row.flag_level, "adherence",
                                           row.id, [f"{code}.{row.step}" for code in row.codes], now, content)
        row.status, row.outcome = "sent", f"flag {flag.id}"
        return []
    topic = topic_for(patient.id, row.codes[0] if len(row.codes) == 1 else row.kind, row.occurrence)
    payload = reminder_payload(patient, row, content, topic, settings_of[patient.clinic_id])
    ttl = _ttl(row.useful_until, now)
    devices = [(user_id, subscription_id) for user_id, subscription_id, shares in recipients[patient.id]
               if shares is None or row.kind in shares]
    row.status, row.outcome = "sent", f"{len(devices)} devices" if devices else "no_channel"
    return [{"reminder_id": row.id, "flag_id": None, "purpose": "reminder", "subscription_id": subscription_id,
             "user_id": user_id, "patient_id": patient.id, "payload": payload, "topic": topic, "urgency": "normal",
             "ttl_seconds": ttl, "status": "pending", "attempts": 0, "next_attempt_at": now,
             "expires_at": now + timedelta(seconds=ttl), "created_at": now} for user_id, subscription_id in devices]


# --- care team ---------------------------------------------------------------------


def escalate_unacknowledged(session: Session, now: datetime, content: Content) -> int:
    """Urgent flags still open after the clinic's urgent_ack_hours: pushed again, marked escalated."""
    candidates = session.scalars(for_update(select(Flag).where(
        Flag.level == "urgent", Flag.status == "open", Flag.escalated_at.is_(None),
        Flag.created_at <= now - timedelta(hours=1)), session, Flag))
    count = 0
    clinics: dict[int, Mapping[str, Any]] = {}
    for flag in candidates:
        try:
            if flag.clinic_id not in clinics:
                clinics[flag.clinic_id] = clinic_settings(session.get(Clinic, flag.clinic_id), content)
            if flag.created_at <= now - timedelta(hours=clinics[flag.clinic_id]["urgent_ack_hours"]):
                with session.begin_nested():  # a flag that fails half-way leaves nothing behind
                    notify_care_team(session, flag, "escalation", now, content)
                flag.escalated_at = now
                count += 1
        except SQLAlchemyError:
            raise
        except Exception as error:  # noqa: BLE001 - tried again next tick; the flag stays in the queue
            _log_failure(f"urgent flag {flag.id} could not be escalated", error)
    return count


# --- sending -----------------------------------------------------------------------


@dataclass(frozen=True)
class Outgoing:
    delivery_id: int
    subscription_id: int
    subscription: dict[str, Any]
    payload: dict[str, Any]
    ttl: int
    urgency: str
    topic: str
    attempts: int
    expires_at: datetime


def claim_deliveries(session: Session, now: datetime, limit: int) -> list[Outgoing]:
    """Pending deliveries due now, marked "sending" (the caller commits before sending).

    One UPDATE ... RETURNING claims the batch (rows another clock holds are
    skipped), one SELECT reads their devices.
    """
    table = Delivery.__table__
    # A clock killed mid-send leaves rows "sending": after a while they go out
    # again. The message keeps its Topic, so a copy replaces the first one.
    session.execute(update(table).where(table.c.status == "sending", table.c.claimed_at < now - STALE_CLAIM)
                    .values(status="pending"))
    session.execute(update(table).where(table.c.status == "pending", table.c.expires_at <= now)
                    .values(status="expired"))
    due = for_update(select(table.c.id).where(table.c.status == "pending", table.c.next_attempt_at <= now)
                     .order_by(table.c.next_attempt_at, table.c.id).limit(limit), session, table)
    claimed = session.execute(
        update(table).where(table.c.id.in_(due.scalar_subquery()))
        .values(status="sending", claimed_at=now, attempts=table.c.attempts + 1)
        .returning(table.c.id, table.c.subscription_id, table.c.payload, table.c.expires_at, table.c.urgency,
                   table.c.topic, table.c.attempts)).all()
    if not claimed:
        return []
    subscriptions = PushSubscription.__table__
    devices = {row.id: row for row in session.execute(select(subscriptions).where(
        subscriptions.c.id.in_({row.subscription_id for row in claimed if row.subscription_id})))}
    gone = [row.id for row in claimed if row.subscription_id not in devices]
    if gone:  # the device was deleted (410) since the row was made
        session.execute(update(table).where(table.c.id.in_(gone)).values(status="gone"))
    out = [Outgoing(row.id, row.subscription_id,
                    {"endpoint": devices[row.subscription_id].endpoint,
                     "keys": {"p256dh": devices[row.subscription_id].p256dh,
                              "auth": devices[row.subscription_id].auth}},
                    dict(row.payload), _ttl(row.expires_at, now), row.urgency, row.topic, row.attempts,
                    row.expires_at)
           for row in claimed if row.subscription_id in devices]
    return sorted(out, key=lambda item: item.delivery_id)  # RETURNING has no order of its own


def record_results(session: Session, answers: Iterable[tuple[Outgoing, PushResult]], now: datetime) -> None:
    """What the push service said about these deliveries.

    Plain UPDATEs (no ORM objects): one for all the messages delivered, one for
    the devices that took them (their channel works, for the delivery view),
    and one or three for each other answer.
    """
    table = Delivery.__table__
    sent: dict[int, list[int]] = {}
    working: set[int] = set()
    for item, result in answers:
        if result.outcome == "sent":
            sent.setdefault(result.status, []).append(item.delivery_id)
            working.add(item.subscription_id)
            continue
        this = update(table).where(table.c.id == item.delivery_id)
        if result.outcome == "gone":
            # This device is gone: so are its other pending messages.
            session.execute(update(table).where(table.c.subscription_id == item.subscription_id,
                                                table.c.status.in_(("pending", "sending")))
                            .values(status="gone", subscription_id=None))
            session.execute(this.values(status="gone", subscription_id=None, last_status=result.status,
                                        last_error=None))
            session.execute(delete(PushSubscription.__table__).where(
                PushSubscription.__table__.c.id == item.subscription_id))
        elif result.outcome == "retry":
            wait = timedelta(seconds=result.retry_after) if result.retry_after is not None else \
                min(MAX_BACKOFF, timedelta(seconds=30 * 2 ** (item.attempts - 1)))
            if now + wait >= item.expires_at:
                session.execute(this.values(status="expired", last_status=result.status, last_error=result.reason))
            else:
                session.execute(this.values(status="pending", next_attempt_at=now + wait,
                                            last_status=result.status, last_error=result.reason))
        else:
            session.execute(this.values(status="failed", last_status=result.status, last_error=result.reason))
    for status, ids in sent.items():
        session.execute(update(table).where(table.c.id.in_(ids)).values(status="sent", sent_at=now,
                                                                         last_status=status, last_error=None))
    if working:
        # Another clock may be stamping the same devices right now (a device takes messages
        # from both): skip those rows, which it stamps with the same minute, rather than wait
        # for them in an order that can deadlock.
        subscriptions = PushSubscription.__table__
        free = for_update(select(subscriptions.c.id).where(subscriptions.c.id.in_(sorted(working)))
                          .order_by(subscriptions.c.id), session, subscriptions)
        session.execute(update(subscriptions).where(subscriptions.c.id.in_(free.scalar_subquery()))
                        .values(last_success_at=now))


def delivery_overview(session: Session, clinic_id: int, patient_ids: list[int]) -> dict[int, dict[str, Any]]:
    """Per patient: the last delivered push, the devices and calendar feeds that can reach her."""
    from sqlalchemy import func

    from ..models import CalendarFeed
    last = dict(session.execute(select(Delivery.patient_id, func.max(Delivery.sent_at)).where(
        Delivery.patient_id.in_(patient_ids), Delivery.status == "sent", Delivery.purpose == "reminder")
        .group_by(Delivery.patient_id)).all())
    devices = dict(session.execute(select(User.patient_id, func.count(PushSubscription.id))
                                   .join(PushSubscription, PushSubscription.user_id == User.id)
                                   .where(User.patient_id.in_(patient_ids), User.active.is_(True))
                                   .group_by(User.patient_id)).all())
    feeds = dict(session.execute(select(CalendarFeed.patient_id, func.count(CalendarFeed.id)).where(
        CalendarFeed.patient_id.in_(patient_ids), CalendarFeed.revoked_at.is_(None))
        .group_by(CalendarFeed.patient_id)).all())
    return {pid: {"last_delivered_at": last.get(pid), "push_devices": devices.get(pid, 0),
                  "calendar_feeds": feeds.get(pid, 0),
                  "reachable": bool(devices.get(pid, 0) or feeds.get(pid, 0))} for pid in patient_ids}


# --- history ---------------------------------------------------------------------------

#: deliveries that will not be sent again
FINISHED_DELIVERIES = ("sent", "gone", "failed", "expired")
#: reminder rows the clock will not take again
HANDLED_REMINDERS = ("sent", "skipped", "cancelled", "failed")


class Deleted(NamedTuple):
    deliveries: int
    reminders: int


def delete_history(session: Session, before: datetime, limit: int) -> Deleted:
    """Delete up to ``limit`` finished deliveries made before ``before``, then up
    to ``limit`` handled reminder rows due before it that no delivery names.

    Rows another clock is deleting are skipped (SKIP LOCKED); the BRIN indexes
    on the two instants find old rows without an index over all of history.
    """
    old_deliveries = for_update(select(Delivery.id).where(
        Delivery.status.in_(FINISHED_DELIVERIES), Delivery.created_at < before).limit(limit), session, Delivery)
    deliveries = session.execute(delete(Delivery).where(Delivery.id.in_(old_deliveries.scalar_subquery()))
                                 .execution_options(synchronize_session=False)).rowcount
    still_named = select(Delivery.id).where(Delivery.reminder_id == Reminder.id).exists()
    old_reminders = for_update(select(Reminder.id).where(
        Reminder.status.in_(HANDLED_REMINDERS), Reminder.due_at < before, ~still_named).limit(limit),
        session, Reminder)
    removed = session.execute(delete(Reminder).where(Reminder.id.in_(old_reminders.scalar_subquery()))
                              .execution_options(synchronize_session=False)).rowcount
    return Deleted(deliveries, removed)
