"""The monthly checklist: what to ask, and what an answer means at once."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any, Mapping

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..engine.protocol import Content
from ..engine.timeline import checklist_month
from ..engine.triage import asked_questions, check_answers, triage
from ..errors import api_error
from ..models import Checklist, Patient, User
from . import flags as flag_service
from .patients import courses_of, engine_courses, engine_patient

#: a checklist may be entered late (offline, forgot to send) up to this many days
MAX_LATE_DAYS = 60


def _opens_days(content: Content) -> int:
    return next(rule for rule in content.items if rule.kind == "checklist").window_before_days


def current(session: Session, patient: Patient, today: date, content: Content) -> dict[str, Any]:
    period, due = checklist_month(engine_courses(courses_of(session, patient.id)), today, _opens_days(content),
                                  content)
    language = patient.language
    submitted = session.scalar(select(Checklist.id).where(Checklist.patient_id == patient.id,
                                                          Checklist.period == period)) is not None
    return {
        "period": period,
        "due": due.isoformat() if due else None,
        "submitted": submitted,
        "questions": [
            {
                "code": q.code,
                "group": q.group,
                "text": content.text(language, "questions", q.code, "text"),
                "why": content.text(language, "questions", q.code, "why"),
            }
            for q in asked_questions(engine_patient(patient), content)
        ],
    }


def advice(patient: Patient, level: str, content: Content) -> dict[str, Any]:
    clinic = patient.clinic
    text = content.text(patient.language, "levels", level, "advice").format(
        clinic_phone=clinic.phone, emergency_number=clinic.emergency_number)
    return {"level": level, "text": text, "phone": clinic.phone, "emergency_number": clinic.emergency_number}


def find(session: Session, patient_id: int, client_id: str) -> Checklist | None:
    return session.scalar(select(Checklist).where(Checklist.patient_id == patient_id,
                                                  Checklist.client_id == client_id))


def submit(session: Session, patient: Patient, submitter: User, data: Mapping[str, Any], today: date,
           now: datetime, content: Content) -> tuple[dict[str, Any], bool]:
    """Store a checklist and raise its flag; (response body, created).

    The same ``client_id`` again returns the first body and writes nothing. A
    second checklist for the same monthly period is a 409.
    """
    client_id = str(data["client_id"])
    first = find(session, patient.id, client_id)
    if first is not None:
        return first.response, False
    answered_on: date = data["answered_on"]
    if answered_on > today:
        raise api_error(400, "invalid_value", "answered_on is in the future.", "answered_on")
    if answered_on < today - timedelta(days=MAX_LATE_DAYS):
        raise api_error(400, "invalid_value", f"answered_on is more than {MAX_LATE_DAYS} days ago.", "answered_on")
    who = engine_patient(patient)
    answers = check_answers(data["answers"], who, content)
    courses = engine_courses(courses_of(session, patient.id))
    result = triage(who, courses, answered_on, answers, content)
    period, _ = checklist_month(courses, answered_on, _opens_days(content), content)
    already = session.scalar(select(Checklist.id).where(Checklist.patient_id == patient.id,
                                                        Checklist.period == period))
    if already is not None:
        raise api_error(409, "checklist_already_submitted",
                        "The checklist for this month is already sent. If something worries you, call your MS team.",
                        "answered_on")

    checklist = Checklist(patient_id=patient.id, client_id=client_id, answered_on=answered_on, period=period,
                          answers=answers, note=data.get("note"), level=result.level, reasons=list(result.reasons),
                          response={}, submitted_by_id=submitter.id, created_at=now)
    try:
        with session.begin_nested():
            session.add(checklist)
    except IntegrityError:
        # The same client_id (or period) was stored by a concurrent request.
        again = find(session, patient.id, client_id)
        if again is not None:
            return again.response, False
        raise api_error(409, "checklist_already_submitted", "The checklist for this month is already sent.",
                        "answered_on") from None

    # A snoozed question still counts for the patient's advice, not for the flag.
    flag_level, flag_reasons = result.level, result.reasons
    yes = {code for code, answer in answers.items() if answer}
    snoozed = flag_service.active_snoozes(session, patient.id, today) if yes else set()
    if snoozed & yes:
        kept = {code: answer for code, answer in answers.items() if code not in snoozed}
        flag_level, flag_reasons = triage(who, courses, answered_on, kept, content)
    flag_id = None
    if flag_service.raises_flag(flag_level, content):
        flag = flag_service.raise_flag(session, patient, flag_level, "checklist", checklist.id, flag_reasons,
                                       now, content)
        session.flush()
        flag_id = flag.id
    checklist.response = {
        "id": checklist.id,
        "level": result.level,
        "reasons": list(result.reasons),
        "advice": advice(patient, result.level, content),
        "flag_id": flag_id,
    }
    return checklist.response, True


def listing(session: Session, patient_id: int) -> list[Checklist]:
    return list(session.scalars(select(Checklist).where(Checklist.patient_id == patient_id)
                                .order_by(Checklist.answered_on.desc(), Checklist.id.desc())))
