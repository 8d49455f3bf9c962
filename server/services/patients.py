"""Patients, their courses and their timeline with each item's status."""

from __future__ import annotations

import logging
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Iterable, Iterator, Mapping
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session

from ..engine import inputs as engine_inputs
from ..engine.content.model import Content
from ..engine.dates import parse_date
from ..engine.schedule import propose_course
from ..engine.timeline import Item, Timeline, item_to_json, monitoring_end, timeline, warning_to_json
from ..models import (
    AuditEvent,
    CalendarFeed,
    Checklist,
    Clinic,
    Course,
    Delivery,
    FamilyLink,
    Flag,
    InviteCode,
    LabResult,
    Patient,
    Pregnancy,
    PushSubscription,
    Reminder,
    Snooze,
    User,
)
from ..timeutil import local_today, utcnow
from . import accounts, figures
from .errors import Conflict, InvalidInput, NotFound

log = logging.getLogger(__name__)


def clinic_settings(clinic: Clinic, content: Content) -> Mapping[str, Any]:
    return engine_inputs.resolve_settings(clinic.settings or {}, content)


def engine_patient(patient: Patient) -> engine_inputs.Patient:
    return engine_inputs.Patient(
        sex=patient.sex,
        childbearing_potential=patient.childbearing_potential,
        breastfeeding=patient.breastfeeding,
        pregnancies=tuple(engine_inputs.Pregnancy(p.reported_on, p.ended_on) for p in patient.pregnancies),
        baseline=dict(patient.baseline or {}),
        language=patient.language,
        timezone=patient.timezone,
        protocol=patient.protocol,
        cervical_screening=patient.cervical_screening,
        listeria_until=patient.listeria_until,
    )


def engine_courses(courses: Iterable[Course]) -> tuple[engine_inputs.Course, ...]:
    return engine_inputs.check_courses([
        engine_inputs.make_course([date.fromisoformat(d) for d in c.infusions], c.status,
                                  doses=[engine_inputs.Dose(d.get("mg"), d.get("route")) for d in c.doses]
                                  if c.doses else None)
        for c in courses
    ])


def protocol_content(patient: Patient, content: Content) -> Content:
    """The content of the protocol ``patient`` follows (CLINICAL.md 1)."""
    return content.of(patient.protocol)


def lab_context(patient: Patient, stored: Iterable[LabResult], new: Iterable[engine_inputs.LabResult],
                content: Content) -> tuple[tuple[engine_inputs.LabResult, ...], tuple[date, ...]]:
    """What the lab rules of her protocol read besides a result (CLINICAL.md 7.4):
    her standing results with ``new`` ones, in date order (a new result after the
    stored ones of its day), and each course's first date. UnusableRecord when
    her stored courses are ones the engine cannot use."""
    results = sorted([*engine_labs(stored, content), *new], key=lambda r: r.taken_on)
    with stored_record(patient.id):
        starts = tuple(course.first for course in engine_courses(patient.courses))
    return tuple(results), starts


def engine_labs(results: Iterable[LabResult], content: Content) -> tuple[engine_inputs.LabResult, ...]:
    """Current results with a value ("sample taken" reports have none) in date order.

    Stored numbers are canonical and were checked when recorded: they are taken
    as they are, so that a result kept from before the plausible ranges of
    CLINICAL.md 4.1 (v2) still counts rather than making the record unusable."""
    made = [
        engine_inputs.LabResult(r.analyte, r.value, r.taken_on, r.ref_low, r.ref_high, r.patient_reported, r.unit,
                                r.value_as_recorded if r.value_num is not None else r.value, r.unit_as_recorded)
        for r in results if r.value is not None and r.withdrawn_at is None
    ]
    return tuple(sorted(made, key=lambda r: r.taken_on))


def lab_results_of(session: Session, patient_id: int, analyte: str | None = None,
                   withdrawn: bool = False) -> list[LabResult]:
    """The patient's results in date order: those that stand, or also the
    withdrawn and corrected ones (``withdrawn``: her export, the history)."""
    query = select(LabResult).where(LabResult.patient_id == patient_id)
    if not withdrawn:
        query = query.where(LabResult.withdrawn_at.is_(None))
    if analyte is not None:
        query = query.where(LabResult.analyte == analyte)
    return list(session.scalars(query.order_by(LabResult.taken_on, LabResult.id)))


def page_of_patients(session: Session, clinic_id: int, page: int, per_page: int) -> tuple[list[Patient], int]:
    """One page of the clinic's patients by name, and how many there are in all."""
    base = select(Patient).where(Patient.clinic_id == clinic_id)
    total = session.scalar(select(func.count()).select_from(base.subquery()))
    patients = list(session.scalars(base.order_by(Patient.display_name, Patient.id)
                                    .offset((page - 1) * per_page).limit(per_page)))
    return patients, total


def create_patient(session: Session, clinic: Clinic, fields: Mapping[str, Any], creator: User, now: datetime,
                   config: Mapping) -> tuple[Patient, str, datetime]:
    """A new patient of ``clinic`` and a single-use enrollment code for their account.

    ``fields["protocol"]`` (default "ms") is set here: a protocol decides her whole
    record, so update_patient changes it only while she has no course recorded."""
    fields = dict(fields)
    fields["hospital_number"] = hospital_number(session, clinic.id, fields.get("hospital_number"), None)
    _check_birth(fields.get("date_of_birth"), fields["timezone"], now)
    patient = Patient(clinic_id=clinic.id, created_at=now, **fields)
    _flush_number(session, lambda: session.add(patient))
    code, expires = accounts.issue_code(session, patient, "enrollment", creator, now,
                                        config["ENROLLMENT_CODE_DAYS"])
    return patient, code, expires


def hospital_number(session: Session, clinic_id: int, number: str | None, patient_id: int | None) -> str | None:
    """``number`` without surrounding blanks (blank: None); Conflict when another
    patient of the clinic has it (lab imports match patients on it, issue 19)."""
    number = (number or "").strip() or None
    if number is not None and session.scalar(select(Patient.id).where(
            Patient.clinic_id == clinic_id, Patient.hospital_number == number, Patient.id != (patient_id or 0))):
        raise Conflict("hospital_number_taken", "Another patient of the clinic has this hospital number.",
                       "hospital_number")
    return number


def _flush_number(session: Session, change) -> None:
    """Make ``change`` and flush it: the unique index decides between two requests racing for one
    hospital number (the loser gets the Conflict the check above gives)."""
    try:
        with session.begin_nested():
            change()
    except IntegrityError:
        raise Conflict("hospital_number_taken", "Another patient of the clinic has this hospital number.",
                       "hospital_number") from None


def _check_birth(born: date | None, tz_name: str, now: datetime) -> None:
    """Refuse a date of birth after her today (a typo such as 2062 for 1962)."""
    if born is not None and born > local_today(tz_name, now):
        raise InvalidInput("date_of_birth", "The date of birth is after today: check the year.")


def update_patient(patient: Patient, fields: Mapping[str, Any], session: Session | None = None) -> None:
    """Change the fields given; her reminders are re-planned by the clock.

    ``protocol`` changes only while she has no course recorded (a wrong choice at
    enrolment): with courses, Conflict ``protocol_has_courses`` and nothing is
    changed, since her courses were recorded, checked and warned on under the
    other protocol's rules (an MS course is not a CLL schedule)."""
    if fields.get("protocol", patient.protocol) != patient.protocol and patient.courses:
        raise Conflict("protocol_has_courses",
                       "Her protocol can change only while she has no course recorded: remove her courses first.",
                       "protocol")
    if "date_of_birth" in fields:
        _check_birth(fields["date_of_birth"], fields.get("timezone", patient.timezone), utcnow())
    if "hospital_number" in fields and session is not None:
        fields = {**fields, "hospital_number": hospital_number(session, patient.clinic_id,
                                                                 fields["hospital_number"], patient.id)}
    pregnancies = fields.get("pregnancies")
    for name, value in fields.items():
        if name != "pregnancies" and name != "hospital_number":
            setattr(patient, name, value)
    if "hospital_number" in fields and session is not None:
        _flush_number(session, lambda: setattr(patient, "hospital_number", fields["hospital_number"]))
    if pregnancies is not None:
        patient.pregnancies = [Pregnancy(reported_on=p["reported_on"], ended_on=p.get("ended_on"))
                               for p in pregnancies]
    figures.record_changed(patient)  # sex, pregnancy, time zone, protocol...: the clock re-plans


def add_course(patient: Patient, infusions: list, status: str, creator: User,
               now: datetime, content: Content | None = None, route: str | None = None) -> Course:
    """Record a course; refuses one that overlaps a recorded course, or a "given"
    course with infusions after the patient's today (that is a planned one).

    ``infusions`` are dates or (date, mg, route) triples; a dose or route is
    for protocol cll only, and a course holds at most its protocol's
    ``max_course_dates`` (``content``: checked when given)."""
    dates, doses = _administrations(patient, infusions, route, content)
    new = _checked_course(patient, dates, status, patient.courses, now, "infusions", doses)
    course = Course(infusions=[d.isoformat() for d in new.infusions], status=status, created_by_id=creator.id,
                    created_at=now, doses=_stored_doses(new))
    patient.courses.append(course)
    figures.record_changed(patient)  # the clock re-plans her reminders
    return course


@dataclass(frozen=True)
class History:
    """Everything the engine needs about one patient, loaded once."""

    patient: Patient
    courses: list[Course]
    results: list[LabResult]
    checklists: list[Checklist]


def load_history(session: Session, patient: Patient) -> History:
    return History(
        patient,
        list(patient.courses),
        lab_results_of(session, patient.id),
        list(session.scalars(select(Checklist).where(Checklist.patient_id == patient.id))),
    )


def compute_timeline(history: History, content: Content, between: tuple[date, date] | None = None) -> Timeline:
    """The patient's timeline (only the items touching ``between``, when given: engine.timeline);
    UnusableRecord when her stored record is one the engine cannot use."""
    patient = history.patient
    with stored_record(patient.id):
        # timeline() follows the patient's protocol (engine_patient carries it).
        return timeline(engine_patient(patient), engine_courses(history.courses),
                        engine_labs(history.results, content), clinic_settings(patient.clinic, content), content,
                        between)


# --- item status ----------------------------------------------------------------


@dataclass(frozen=True)
class StatusRules:
    """The windows that decide an item's status (site settings and content/)."""

    lab_window: timedelta
    weekly_window: timedelta
    checklist_opens: timedelta
    checklist_missed: timedelta
    lab_analytes: Mapping[str, tuple[str, ...]]
    #: items of one administration day (CLINICAL.md 7.2 scope "dose"): due on that day only
    day_only: frozenset[str] = frozenset()

    @classmethod
    def of(cls, settings: Mapping[str, Any], content: Content) -> "StatusRules":
        checklist = next(rule for rule in content.items if rule.kind == "checklist")
        window = timedelta(days=settings["lab_window_days"])
        return cls(
            lab_window=window,
            # Weekly tests are 7 days apart: a result counts for the nearest one only.
            weekly_window=min(window, timedelta(days=(content.weekly_cbc.interval_days
                                                      if content.weekly_cbc else 7) // 2)),
            checklist_opens=timedelta(days=checklist.window_before_days),
            checklist_missed=timedelta(days=checklist.missed_after_days),
            # Labs the app records: the monitoring labs. A lab with no analyte (the
            # pregnancy test on F_k) is done in the clinic, like an appointment.
            lab_analytes={rule.code: rule.analytes for rule in content.items if rule.kind == "lab" and rule.analytes},
            day_only=frozenset(rule.code for rule in content.items if rule.scope == "dose"),
        )


def item_status(item: Item, today: date, rules: StatusRules, lab_days: Mapping[str, list[date]],
                checklist_periods: set[int]) -> tuple[str, bool]:
    """(status, tracked): tracked items are those the app records as done."""
    if item.kind == "lab" and item.code in rules.lab_analytes:
        window = rules.weekly_window if item.cadence == "weekly" else rules.lab_window
        low, high = item.due - window, item.due + window
        if any(low <= day <= high for analyte in rules.lab_analytes[item.code] for day in lab_days.get(analyte, ())):
            return "done", True
        return ("upcoming" if today < low else "due" if today <= high else "overdue"), True
    if item.kind == "checklist":
        if item.month in checklist_periods:
            return "done", True
        if today < item.due - rules.checklist_opens:
            return "upcoming", True
        return ("due" if today <= item.due + rules.checklist_missed else "missed"), True
    if item.code in rules.day_only:  # the premedication of one dose: that day, not the week around it
        return ("upcoming" if today < item.due else "due" if today == item.due else "done"), False
    if item.due is None:  # a window: diet, medication, precautions...
        if today < item.start:
            return "upcoming", False
        return ("due" if item.end is None or today <= item.end else "done"), False
    # Appointments, screening and scans are recorded in the clinic's own systems;
    # here they are due around their day and "done" once it has passed.
    if today < item.due - rules.lab_window:
        return "upcoming", False
    return ("due" if today <= item.due + rules.lab_window else "done"), False


def _status_inputs(history: History, content: Content) -> tuple[StatusRules, dict[str, list[date]], set[int]]:
    """What item_status needs besides the item: the windows, the days each analyte
    was sampled, and the checklist periods answered."""
    content = protocol_content(history.patient, content)
    rules = StatusRules.of(clinic_settings(history.patient.clinic, content), content)
    lab_days: dict[str, list[date]] = {}
    for r in history.results:
        lab_days.setdefault(r.analyte, []).append(r.taken_on)
    return rules, lab_days, {c.period for c in history.checklists}


def timeline_with_status(history: History, today: date, content: Content, language: str,
                         kinds: Iterable[str] | None = None, start: date | None = None,
                         end: date | None = None) -> tuple[Timeline, list[dict[str, Any]]]:
    result = compute_timeline(history, content)
    rules, lab_days, periods = _status_inputs(history, content)
    content = protocol_content(history.patient, content)  # her protocol's words
    allowed = set(kinds) if kinds is not None else None
    out = []
    for item in result.items:
        if allowed is not None and item.kind not in allowed:
            continue
        last_day = item.due if item.due is not None else item.end
        if start is not None and last_day is not None and last_day < start:
            continue
        if end is not None and item.on > end:
            continue
        status, tracked = item_status(item, today, rules, lab_days, periods)
        out.append({**item_to_json(item, content, language), "status": status, "tracked": tracked})
    return result, out


def adherence(history: History, today: date, content: Content) -> dict[str, Any]:
    """Labs and checklists due so far: done on time, overdue, missed (CLINICAL.md 2.2)."""
    result = compute_timeline(history, content)
    rules, lab_days, periods = _status_inputs(history, content)
    counts = {"done": 0, "overdue": 0, "missed": 0}
    due_so_far = 0
    for item in result.items:
        if item.kind not in ("lab", "checklist") or item.due > today:
            continue
        status, tracked = item_status(item, today, rules, lab_days, periods)
        if not tracked:  # the pregnancy test: recorded in the clinic's own systems
            continue
        if status in counts:
            counts[status] += 1
        if status != "upcoming":
            due_so_far += 1
    return {
        "done_on_time": counts["done"],
        "due_so_far": due_so_far,
        "overdue_labs": counts["overdue"],
        "missed_checklists": counts["missed"],
        "rate": round(counts["done"] / due_so_far, 3) if due_so_far else None,
    }


def warnings_json(result: Timeline, content: Content, language: str) -> list[dict[str, Any]]:
    """The warnings on her planned courses (CLINICAL.md 2.3) as the API shows them to the care team."""
    return [warning_to_json(warning, content, language) for warning in result.warnings]


def course_warnings_of(session: Session, patient: Patient, content: Content, language: str) -> list[dict[str, Any]]:
    """The warnings on her planned courses; UnusableRecord when her stored record is one the engine cannot use."""
    return warnings_json(compute_timeline(load_history(session, patient), content),
                         protocol_content(patient, content), language)


def monitoring_end_of(patient: Patient, content: Content, session: Session | None = None) -> date | None:
    """The day monitoring ends; UnusableRecord when her stored courses are ones the engine cannot use.

    A protocol whose monitoring ends with its last item (CLINICAL.md 7.2) needs
    her results too (a CD4 recovery moves it): given ``session``, they count."""
    own = protocol_content(patient, content)
    if not own.monitoring_months and session is not None:
        return compute_timeline(load_history(session, patient), content).monitoring_ends
    with stored_record(patient.id):
        return monitoring_end(engine_courses(patient.courses), own)


def proposed_course(patient: Patient, start: date, route: str, content: Content) -> list[dict[str, Any]]:
    """A proposed course for her protocol (CLINICAL.md 7.1, its content's [proposal]):
    nothing is saved. Conflict for a protocol that has no proposal (the MS courses
    are 5 or 3 days)."""
    own = protocol_content(patient, content)
    if own.proposal is None:
        raise Conflict("no_proposal", "A proposed schedule exists for the CLL protocol only.", "protocol")
    return [{"on": day.isoformat(), "mg": dose.mg, "route": dose.route}
            for day, dose in propose_course(start, route, own)]


def export(session: Session, patient: Patient) -> dict[str, Any]:
    """Everything held about the patient (GDPR Art. 15 and 20): her account,
    answers, results, the care team's flags with their notes and outcomes,
    snoozes with their reasons, family access and codes, devices subscribed to
    push (endpoints only: the keys are secrets of the browser), calendar feeds
    (never their secret), every reminder and message planned or sent about her,
    and the audit log of the staff who read or changed her record.

    The record itself (courses, pregnancies, baseline) is the caller's
    ``patient`` entry (the same as GET /patients/{id})."""
    pid = patient.id

    def day(value):
        return value.isoformat() if value is not None else None

    def rows(model, *where, order=None):
        return session.scalars(select(model).where(*where).order_by(order if order is not None else model.id))

    account = session.scalar(select(User).where(User.patient_id == pid))
    emails = dict(session.execute(select(User.id, User.email).where(User.id.in_(
        select(AuditEvent.actor_id).where(AuditEvent.patient_id == pid)
        .union(select(Flag.acknowledged_by_id).where(Flag.patient_id == pid),
               select(Flag.resolved_by_id).where(Flag.patient_id == pid),
               select(Snooze.created_by_id).where(Snooze.patient_id == pid),
               select(Delivery.user_id).where(Delivery.patient_id == pid),
               select(CalendarFeed.user_id).where(CalendarFeed.patient_id == pid))))).all())
    roles = dict(session.execute(select(User.id, User.role).where(User.id.in_(list(emails)))).all())

    def person(user_id):
        return None if user_id is None else {"id": user_id, "email": emails.get(user_id),
                                             "role": roles.get(user_id)}

    subscriptions = [] if account is None else rows(PushSubscription, PushSubscription.user_id == account.id)
    return {
        "exported_at": utcnow().isoformat(),
        "account": None if account is None else {"email": account.email, "role": account.role,
                                                 "created_at": day(account.created_at)},
        "checklists": [{"answered_on": day(c.answered_on), "answers": dict(c.answers), "note": c.note,
                        "level": c.level, "reasons": list(c.reasons)}
                       for c in rows(Checklist, Checklist.patient_id == pid)],
        "lab_results": [{"id": r.id, "analyte": r.analyte, "value": r.value, "unit": r.unit,
                         "ref_low": r.ref_low, "ref_high": r.ref_high, "value_as_recorded": r.value_as_recorded,
                         "unit_as_recorded": r.unit_as_recorded, "taken_on": day(r.taken_on),
                         "patient_reported": r.patient_reported, "withdrawn_at": day(r.withdrawn_at),
                         "withdrawal_reason": r.withdrawal_reason, "replaced_by_id": r.replaced_by_id}
                        for r in lab_results_of(session, pid, withdrawn=True)],
        "flags": [{"level": f.level, "source": f.source, "reasons": list(f.reasons), "status": f.status,
                   "created_at": day(f.created_at), "acknowledged_by": person(f.acknowledged_by_id),
                   "acknowledged_at": day(f.acknowledged_at), "resolved_by": person(f.resolved_by_id),
                   "resolved_at": day(f.resolved_at), "outcome": f.outcome, "note": f.note,
                   "escalated_at": day(f.escalated_at)}
                  for f in rows(Flag, Flag.patient_id == pid)],
        "snoozes": [{"code": s.code, "until": day(s.until), "reason": s.reason, "created_by": person(s.created_by_id),
                     "created_at": day(s.created_at)} for s in rows(Snooze, Snooze.patient_id == pid)],
        "family": [{"email": link.user.email, "shares": list(link.shares), "since": day(link.created_at),
                    "revoked_at": day(link.revoked_at)}
                   for link in rows(FamilyLink, FamilyLink.patient_id == pid)],
        "codes": [{"kind": c.kind, "created_at": day(c.created_at), "expires_at": day(c.expires_at),
                   "used_at": day(c.used_at)} for c in rows(InviteCode, InviteCode.patient_id == pid)],
        "push_subscriptions": [{"endpoint": s.endpoint, "created_at": day(s.created_at),
                                "last_success_at": day(s.last_success_at)} for s in subscriptions],
        "calendar_feeds": [{"owner": person(f.user_id), "created_at": day(f.created_at),
                            "revoked_at": day(f.revoked_at), "last_fetched_at": day(f.last_fetched_at)}
                           for f in rows(CalendarFeed, CalendarFeed.patient_id == pid)],
        "reminders": [{"kind": r.kind, "codes": list(r.codes), "occurrence": day(r.occurrence), "step": r.step,
                       "audience": r.audience, "due_at": day(r.due_at), "useful_until": day(r.useful_until),
                       "status": r.status, "outcome": r.outcome, "handled_at": day(r.handled_at)}
                      for r in rows(Reminder, Reminder.patient_id == pid, order=Reminder.due_at)],
        "deliveries": [{"purpose": d.purpose, "recipient": person(d.user_id), "payload": dict(d.payload),
                        "status": d.status, "attempts": d.attempts, "last_status": d.last_status,
                        "created_at": day(d.created_at), "sent_at": day(d.sent_at), "expires_at": day(d.expires_at)}
                       for d in rows(Delivery, Delivery.patient_id == pid)],
        "access_log": [{"at": day(e.at), "action": e.action, "by": person(e.actor_id)}
                       for e in rows(AuditEvent, AuditEvent.patient_id == pid)],
    }


# --- records the engine cannot use ----------------------------------------------------

#: the ``status_error`` (and 409 code) of a patient whose stored record the engine cannot use
RECORD_NEEDS_CORRECTION = "record_needs_correction"
#: what a listing shows instead of her figures
NO_ADHERENCE = {"done_on_time": None, "due_so_far": None, "overdue_labs": None, "missed_checklists": None,
                "rate": None}
#: what a stored value the engine cannot compute with raises: a date whose arithmetic
#: leaves date's years 1..9999 (ValueError, OverflowError), a date outside the
#: accepted range or an overlap (InputError, a ValueError), an unknown time zone
#: (a KeyError), a value of the wrong type. Anything else is a bug and stays a 500.
_UNUSABLE = (ValueError, ArithmeticError, LookupError, TypeError)


class UnusableRecord(Conflict):
    """The patient's stored record is one the engine cannot compute with: rows
    written around the API's checks (a course on 9999-12-31, a pregnancy in
    year 9999, an unknown time zone). Listings show her with an error marker
    and go on; her timeline answers 409; the care team corrects or removes the
    entry (PATCH or DELETE of the course or pregnancy)."""

    def __init__(self) -> None:
        super().__init__(RECORD_NEEDS_CORRECTION,
                         "This patient's record has a date the timeline cannot use. The care team can correct or "
                         "remove the course or pregnancy.")


@contextmanager
def stored_record(patient_id: int) -> Iterator[None]:
    """Engine work on patient ``patient_id``'s stored record: what her record
    makes the engine raise becomes UnusableRecord (the rule of one broken row,
    docs/decisions.md). Database errors pass as they are."""
    try:
        yield
    except SQLAlchemyError:
        raise
    except _UNUSABLE as error:
        # Only the class: the message may quote her stored dates.
        log.warning("patient %s: the engine cannot use the stored record (%s)", patient_id, type(error).__name__)
        raise UnusableRecord() from error


def today_of(patient: Patient, now: datetime | None = None) -> date:
    """The patient's local date; UnusableRecord for a stored time zone that does not exist."""
    with stored_record(patient.id):
        return local_today(patient.timezone, now)


def patient_summary(session: Session, patient: Patient, now: datetime, content: Content) -> dict[str, Any]:
    """A patient's line of the clinic's list: her adherence figures, or null
    figures and ``status_error`` when her stored record is one the engine
    cannot use (one broken record never fails the list)."""
    try:
        history = load_history(session, patient)
        return {"adherence": adherence(history, today_of(patient, now), content)}
    except UnusableRecord as error:
        return {"adherence": dict(NO_ADHERENCE), "status_error": error.code}


# --- corrections: the care team corrects or removes a course or a pregnancy ----------------


def _administrations(patient: Patient, infusions: list, route: str | None,
                     content: Content | None) -> tuple[list[date], list[engine_inputs.Dose] | None]:
    """Dates and doses from the API's administrations (dates or (date, mg, route));
    InvalidInput when a dose or route is given for a protocol without doses, or
    there are more dates than the protocol allows in one course."""
    dates, doses = [], []
    for index, value in enumerate(infusions):
        day, mg, own_route = value if isinstance(value, tuple) else (value, None, None)
        dates.append(day)
        doses.append(engine_inputs.Dose(float(mg) if mg is not None else None, own_route or route))
    has_doses = any(dose != engine_inputs.Dose() for dose in doses)
    if has_doses and patient.protocol != "cll":
        where = "route" if route is not None else f"infusions.{next(i for i, d in enumerate(doses) if d.mg or d.route)}"
        raise InvalidInput(where, "doses and routes are recorded for the CLL protocol only")
    for index, dose in enumerate(doses):
        if dose.mg is not None and not 0 < dose.mg <= engine_inputs.MAX_DOSE_MG:
            raise InvalidInput(f"infusions.{index}", f"a dose must be above 0 and at most "
                                                     f"{engine_inputs.MAX_DOSE_MG} mg")
    if content is not None and len(dates) > content.of(patient.protocol).max_course_dates:
        raise InvalidInput("infusions", f"a course holds at most "
                                        f"{content.of(patient.protocol).max_course_dates} dates")
    return dates, doses if has_doses else None


def _stored_doses(course: engine_inputs.Course) -> list[dict[str, Any]] | None:
    return [{"mg": dose.mg, "route": dose.route} for dose in course.doses] if course.doses else None


def _checked_course(patient: Patient, infusions: Iterable[date], status: str, others: Iterable[Course],
                    now: datetime, field: str, doses: list[engine_inputs.Dose] | None = None) -> engine_inputs.Course:
    """The course as the engine takes it, refused (InputError on ``field`` or
    ``infusions``) when it is "given" with infusions after the patient's today
    (that is a planned one) or overlaps one of ``others``."""
    new = engine_inputs.make_course(list(infusions), status, "infusions", doses)
    today = now.astimezone(ZoneInfo(patient.timezone)).date()
    if status == "given" and new.last > today:
        raise InvalidInput(field, f"{new.last.isoformat()} is in the future: record the course as planned")
    engine_inputs.check_courses([*engine_courses(others), new], "infusions")
    return new


def course_of(patient: Patient, course_id: int) -> Course:
    """The patient's course ``course_id``; NotFound for any other (another patient's included)."""
    found = next((course for course in patient.courses if course.id == course_id), None)
    if found is None:
        raise NotFound("No such course.")
    return found


def update_course(patient: Patient, course: Course, fields: Mapping[str, Any], now: datetime,
                  content: Content | None = None) -> Course:
    """Correct a recorded course: its ``infusions``, its ``status``, or both
    (the fields given; the others stay). The rules of :func:`add_course`
    apply, against the patient's other courses; stored infusions that are not
    sent again must be in the accepted range themselves (InvalidInput on
    ``infusions``: send them corrected). The clock re-plans her reminders."""
    if "infusions" in fields:
        infusions, doses = _administrations(patient, list(fields["infusions"]), fields.get("route"), content)
    else:
        infusions = [parse_date(day, "infusions") for day in course.infusions]
        doses = [engine_inputs.Dose(d.get("mg"), d.get("route")) for d in course.doses] if course.doses else None
    status = fields.get("status", course.status)
    field = "infusions" if "infusions" in fields or "status" not in fields else "status"
    new = _checked_course(patient, infusions, status, [c for c in patient.courses if c is not course], now, field,
                          doses)
    course.infusions = [day.isoformat() for day in new.infusions]
    course.doses = _stored_doses(new)
    course.status = status
    figures.record_changed(patient)
    return course


def remove_course(session: Session, patient: Patient, course: Course) -> None:
    """Delete a course recorded in error; the clock re-plans her reminders (and
    cancels the pending ones it no longer plans)."""
    patient.courses.remove(course)
    session.delete(course)
    figures.record_changed(patient)


def pregnancy_of(patient: Patient, pregnancy_id: int) -> Pregnancy:
    """The patient's pregnancy ``pregnancy_id``; NotFound for any other."""
    found = next((p for p in patient.pregnancies if p.id == pregnancy_id), None)
    if found is None:
        raise NotFound("No such pregnancy.")
    return found


def update_pregnancy(patient: Patient, pregnancy: Pregnancy, fields: Mapping[str, Any]) -> Pregnancy:
    """Correct a reported pregnancy: ``reported_on``, ``ended_on`` (None: not
    ended), or both; an end before the report is refused, naming the field
    sent. The clock re-plans her reminders."""
    # Stored dates not sent again must be in range too: a correction never keeps a broken one.
    reported_on = parse_date(fields.get("reported_on", pregnancy.reported_on), "reported_on")
    ended_on = fields.get("ended_on", pregnancy.ended_on)  # None sent: not ended
    ended_on = None if ended_on is None else parse_date(ended_on, "ended_on")
    if ended_on is not None and ended_on < reported_on:
        field = "ended_on" if "ended_on" in fields else "reported_on"
        raise InvalidInput(field, "The pregnancy would end before it was reported.")
    pregnancy.reported_on, pregnancy.ended_on = reported_on, ended_on
    patient.pregnancies.sort(key=lambda p: p.reported_on)  # the relationship's order
    figures.record_changed(patient)
    return pregnancy


def remove_pregnancy(patient: Patient, pregnancy: Pregnancy) -> None:
    """Delete a pregnancy reported in error (the relationship deletes the row);
    the clock re-plans her reminders."""
    patient.pregnancies.remove(pregnancy)
    figures.record_changed(patient)


# --- entering a course: what saving it would give, before it is saved (issue 17) ------------

#: the warnings that, on a course entered as given, point at mistyped dates rather than at a plan
DATE_CHECKS = ("course.too_soon", "course.during_pregnancy")


def preview_course(session: Session, patient: Patient, infusions: list, status: str,
                   replaces: Course | None, now: datetime, content: Content, language: str) -> dict[str, Any]:
    """What recording this course (or correcting ``replaces`` to it) would give, with
    nothing written: the refusal add_course or update_course would raise (the same
    InvalidInput), else ``course`` (its number k among her courses in date order),
    ``warnings`` (CLINICAL.md 2.3, on her planned courses as they would stand) and
    ``checks``: for a course entered as given, those of the engine's warnings it would
    have were it planned that point at its dates (DATE_CHECKS: too soon after the course
    before it, during a pregnancy), so that mistyped dates are seen before they are saved."""
    others = [c for c in patient.courses if c is not replaces]
    dates, doses = _administrations(patient, infusions, None, content)
    new = _checked_course(patient, dates, status, others, now, "infusions", doses)
    history = load_history(session, patient)

    def warnings_with(candidate_status: str) -> tuple[int, list[dict[str, Any]]]:
        candidate = Course(infusions=[d.isoformat() for d in new.infusions], status=candidate_status,
                           doses=_stored_doses(new))
        result = compute_timeline(History(patient, [*others, candidate], history.results, history.checklists),
                                  content)
        k = 1 + sum(1 for c in others if date.fromisoformat(min(c.infusions)) < new.first)
        # The words of her protocol's warnings (course.dose_limit is CLL's alone).
        return k, warnings_json(result, protocol_content(patient, content), language)

    k, warnings = warnings_with(status)
    checks: list[dict[str, Any]] = []
    if status == "given":
        checks = [w for w in warnings_with("planned")[1] if w["course"] == k and w["code"] in DATE_CHECKS]
    return {"course": k, "infusions": [d.isoformat() for d in new.infusions], "status": status,
            "warnings": warnings, "checks": checks}
