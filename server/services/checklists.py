"""The monthly checklist: what to ask, and what an answer means at once."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any, Mapping

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..engine.content.model import Content
from ..engine.timeline import checklist_period
from ..engine.triage import asked_questions, check_answers, triage
from ..models import Checklist, Flag, Patient, User
from . import figures, submissions
from . import flags as flag_service
from .errors import Conflict, InvalidInput
from .patients import engine_courses, engine_patient, stored_record

#: a checklist may be entered late (offline, forgot to send) up to this many days
MAX_LATE_DAYS = 60


def _opens_days(content: Content) -> int:
    return next(rule for rule in content.items if rule.kind == "checklist").window_before_days


def current(session: Session, patient: Patient, today: date, content: Content) -> dict[str, Any]:
    content = content.of(patient.protocol)  # her protocol's checklist (weekly for CLL)
    with stored_record(patient.id):
        period, due = checklist_period(engine_courses(patient.courses), today, _opens_days(content), content)
    language = patient.language
    submitted = session.scalar(select(Checklist.id).where(Checklist.patient_id == patient.id,
                                                          Checklist.period == period)) is not None
    questions = []
    for q in asked_questions(engine_patient(patient), content):
        texts = content.text(language, "questions", q.code)
        questions.append({"code": q.code, "group": q.group, "level": q.level, "text": texts["text"],
                          "signs": list(texts.get("signs", ())), "why": texts["why"]})
    return {"period": period, "due": due.isoformat() if due else None, "submitted": submitted,
            "questions": questions}


def advice(patient: Patient, level: str, content: Content) -> dict[str, Any]:
    clinic = patient.clinic
    text = content.of(patient.protocol).text(patient.language, "levels", level, "advice").format(
        clinic_phone=clinic.phone, emergency_number=clinic.emergency_number)
    return {"level": level, "text": text, "phone": clinic.phone, "emergency_number": clinic.emergency_number}


def first_answer(session: Session, patient_id: int, client_id: str) -> dict[str, Any] | None:
    """The body first answered for this client_id, if it was stored."""
    row = session.execute(select(Checklist.id, Checklist.response).where(
        Checklist.patient_id == patient_id, Checklist.client_id == client_id)).first()
    return None if row is None else {"id": row.id, **row.response}


def submit(session: Session, patient: Patient, submitter: User, data: Mapping[str, Any], today: date,
           now: datetime, content: Content) -> tuple[dict[str, Any], bool]:
    """Check, triage and store a checklist, raising its flag; (response body, created).

    The same ``client_id`` again gives the first answer and stores nothing,
    even when that answer would no longer pass (an offline queue replayed
    weeks later). A second checklist for the same monthly period is a
    :class:`Conflict`. The caller commits.
    """
    client_id = str(data["client_id"])
    first = first_answer(session, patient.id, client_id)
    if first is not None:
        return first, False
    answered_on = _checked_date(data["answered_on"], today)
    content = content.of(patient.protocol)
    who = engine_patient(patient)
    answers = check_answers(data["answers"], who, content)  # the request's own input: a 400
    with stored_record(patient.id):  # her stored record: a 409 the care team can repair
        courses = engine_courses(patient.courses)
        result = triage(who, courses, answered_on, answers, content, note=data.get("note"))
        period, _ = checklist_period(courses, answered_on, _opens_days(content), content)
    body = {"level": result.level, "reasons": list(result.reasons),
            "advice": advice(patient, result.level, content), "flag_id": None}
    checklist = Checklist(patient_id=patient.id, client_id=client_id, answered_on=answered_on, period=period,
                          answers=answers, note=data.get("note"), level=result.level,
                          reasons=list(result.reasons), response=body, submitted_by_id=submitter.id,
                          created_at=now)
    if not submissions.add_once(session, checklist):
        first = first_answer(session, patient.id, client_id)
        if first is not None:
            return first, False
        raise Conflict("checklist_already_submitted",
                       "The checklist for this month is already sent. If something worries you, "
                       "call your MS team.", "answered_on")
    figures.forget(patient)  # the list's adherence figures count her checklists
    flag = _flag_for_care_team(session, patient, checklist, answers, today, now, content)
    if flag is not None:
        checklist.response = {**body, "flag_id": flag.id}
    return {"id": checklist.id, **checklist.response}, True


def _checked_date(answered_on: date, today: date) -> date:
    if answered_on > today:
        raise InvalidInput("answered_on", "answered_on is in the future.")
    if answered_on < today - timedelta(days=MAX_LATE_DAYS):
        raise InvalidInput("answered_on", f"answered_on is more than {MAX_LATE_DAYS} days ago.")
    return answered_on


def _flag_for_care_team(session: Session, patient: Patient, checklist: Checklist, answers: Mapping[str, bool],
                        today: date, now: datetime, content: Content) -> Flag | None:
    """The checklist's flag, if its level raises one: a snoozed question still
    counts for the patient's advice, not for the flag."""
    level, reasons = checklist.level, checklist.reasons
    if not flag_service.raises_flag(level, content):
        return None
    snoozed = flag_service.active_snoozes(session, patient.id, today) & {c for c, yes in answers.items() if yes}
    if snoozed:
        kept = {code: answer for code, answer in answers.items() if code not in snoozed}
        level, reasons = triage(engine_patient(patient), engine_courses(patient.courses), checklist.answered_on,
                                kept, content, note=checklist.note)
        if not flag_service.raises_flag(level, content):
            return None
    return flag_service.raise_flag(session, patient.id, patient.clinic_id, level, "checklist", checklist.id,
                                   reasons, now, content)


def listing(session: Session, patient_id: int) -> list[Checklist]:
    return list(session.scalars(select(Checklist).where(Checklist.patient_id == patient_id)
                                .order_by(Checklist.answered_on.desc(), Checklist.id.desc())))


def _worded(code: str, language: str, content: Content) -> dict[str, Any]:
    texts = content.text(language, "questions", code)
    return {"code": code, "text": texts["text"], "signs": list(texts.get("signs", ()))}


def history(session: Session, patient: Patient, content: Content, *, for_staff: bool = False) -> list[dict[str, Any]]:
    """The patient's checklists, newest first, each with what she answered "yes"
    to (worded in her language) and what the care team did with it.

    ``team`` is None when the checklist raised no flag (its level needs none, or
    the question was snoozed) and, for a routine one, no nurse has marked it read
    yet; ``status`` ``read`` with ``read_at`` when one has; otherwise its flag's
    status, when it was acknowledged and resolved, and the outcome code. The
    nurse's note stays with the care team, and so does who read it
    (``read_by_email``: only ``for_staff``, None for the patient).
    """
    checklists = listing(session, patient.id)
    flags = {flag.source_id: flag for flag in session.scalars(select(Flag).where(
        Flag.patient_id == patient.id, Flag.source == "checklist",
        Flag.source_id.in_([c.id for c in checklists])))} if checklists else {}
    readers = ({} if not for_staff else dict(session.execute(select(User.id, User.email).where(
        User.id.in_({c.read_by_id for c in checklists if c.read_by_id is not None}))).all()))
    known = {q.code for q in content.questions}
    items = []
    for c in checklists:
        flag = flags.get(c.id)
        yes = [_worded(code, patient.language, content) if code in known else {"code": code, "text": code, "signs": []}
               for code, answer in c.answers.items() if answer]
        team = None if flag is None else {
            "status": flag.status, "acknowledged_at": flag.acknowledged_at, "resolved_at": flag.resolved_at,
            "outcome": flag.outcome}
        if team is None and c.read_at is not None:
            team = {"status": "read", "acknowledged_at": None, "resolved_at": None, "outcome": None,
                    "read_at": c.read_at, "read_by_email": readers.get(c.read_by_id)}
        items.append({"id": c.id, "answered_on": c.answered_on.isoformat(), "period": c.period, "level": c.level,
                      "reasons": list(c.reasons), "answers": dict(c.answers), "note": c.note, "yes": yes,
                      "team": team})
    return items
