"""The monthly checklist: what to ask, and what an answer means at once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Mapping

from sqlalchemy import bindparam, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from ..db import DriverStatement
from ..engine.errors import InputError
from ..engine.protocol import Content
from ..engine.timeline import checklist_month
from ..engine.triage import asked_questions, check_answers, triage
from ..errors import HTTPError, api_error
from ..models import Checklist, Patient, User
from . import flags as flag_service
from .patients import Record, engine_courses, engine_patient, record_of

#: a checklist may be entered late (offline, forgot to send) up to this many days
MAX_LATE_DAYS = 60


def _opens_days(content: Content) -> int:
    return next(rule for rule in content.items if rule.kind == "checklist").window_before_days


def current(session: Session, patient: Patient, today: date, content: Content) -> dict[str, Any]:
    period, due = checklist_month(engine_courses(patient.courses), today, _opens_days(content),
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


def advice(record: Record, level: str, content: Content) -> dict[str, Any]:
    text = content.text(record.language, "levels", level, "advice").format(
        clinic_phone=record.clinic_phone, emergency_number=record.emergency_number)
    return {"level": level, "text": text, "phone": record.clinic_phone, "emergency_number": record.emergency_number}


# Core statements built once, run on a connection: submission is the most
# frequent write, and the ORM's unit of work and statement building cost several
# times more than running these. Its one INSERT runs on the driver
# (server.db.DriverStatement).
_table = Checklist.__table__
FIRST_ANSWER = select(_table.c.id, _table.c.response).where(_table.c.patient_id == bindparam("patient_id"),
                                                            _table.c.client_id == bindparam("client_id"))
_INSERTED_COLUMNS = ["patient_id", "client_id", "answered_on", "period", "answers", "note", "level", "reasons",
                     "response", "submitted_by_id", "created_at"]
#: ON CONFLICT DO NOTHING: a checklist whose client_id or month is stored already
#: inserts nothing and returns no row (a unique violation would abort the whole
#: transaction on PostgreSQL). Each backend has its own spelling of it.
INSERT = {
    name: DriverStatement(make_insert(_table).on_conflict_do_nothing().returning(_table.c.id),
                          column_keys=_INSERTED_COLUMNS)
    for name, make_insert in (("sqlite", sqlite.insert), ("postgresql", postgresql.insert))
}
SET_FLAG = update(_table).where(_table.c.id == bindparam("checklist_id")).values(
    response=bindparam("response", type_=_table.c.response.type))


def first_answer(on: Session | Connection, patient_id: int, client_id: str) -> dict[str, Any] | None:
    """The body first answered for this client_id, if it was stored.

    The row keeps the body without its own id (known only once the row is
    inserted), so that storing a checklist is one INSERT.
    """
    row = on.execute(FIRST_ANSWER, {"patient_id": patient_id, "client_id": client_id}).first()
    return None if row is None else {"id": row.id, **row.response}


@dataclass(frozen=True)
class Submission:
    """A checklist checked and triaged, ready to store (:func:`store`)."""

    patient_id: int
    clinic_id: int
    client_id: str
    answered_on: date
    period: int
    answers: dict[str, bool]
    note: str | None
    level: str
    reasons: tuple[str, ...]
    advice: dict[str, Any]
    #: the level and reasons of the flag for the care team (snoozed questions left out), if any
    flag: tuple[str, tuple[str, ...]] | None
    submitter_id: int


def prepare(on: Session | Connection, record: Record, submitter: User, data: Mapping[str, Any], today: date,
            content: Content) -> Submission | dict[str, Any]:
    """Check and triage a checklist; reads only (``on``).

    A 4xx for answers that cannot be stored, unless this ``client_id`` was
    stored already: then its first answer (a dict), as :func:`store` gives it
    for a valid one. A second checklist for the same monthly period is refused
    by :func:`store`.
    """
    client_id = str(data["client_id"])
    try:
        answered_on, answers = _checked(record, data, today, content)
    except (HTTPError, InputError):
        # A replay of a stored checklist may no longer pass (sent again from an
        # offline queue weeks later): it still gets its first answer.
        first = first_answer(on, record.id, client_id)
        if first is not None:
            return first
        raise
    who, courses = record.person, record.courses
    result = triage(who, courses, answered_on, answers, content)
    period, _ = checklist_month(courses, answered_on, _opens_days(content), content)

    # A snoozed question still counts for the patient's advice, not for the flag.
    flag_level, flag_reasons = result.level, result.reasons
    yes = {code for code, answer in answers.items() if answer}
    # Snoozes only ever lower a flag: without one to lower, they need not be read.
    raises = flag_service.raises_flag(result.level, content)
    snoozed = flag_service.active_snoozes(on, record.id, today) if raises and yes else set()
    if snoozed & yes:
        kept = {code: answer for code, answer in answers.items() if code not in snoozed}
        flag_level, flag_reasons = triage(who, courses, answered_on, kept, content)
    return Submission(
        patient_id=record.id, clinic_id=record.clinic_id, client_id=client_id, answered_on=answered_on,
        period=period, answers=answers, note=data.get("note"), level=result.level,
        reasons=tuple(result.reasons), advice=advice(record, result.level, content),
        flag=(flag_level, tuple(flag_reasons)) if flag_service.raises_flag(flag_level, content) else None,
        submitter_id=submitter.id,
    )


def _checked(record: Record, data: Mapping[str, Any], today: date, content: Content) -> tuple[date, dict[str, bool]]:
    answered_on: date = data["answered_on"]
    if answered_on > today:
        raise api_error(400, "invalid_value", "answered_on is in the future.", "answered_on")
    if answered_on < today - timedelta(days=MAX_LATE_DAYS):
        raise api_error(400, "invalid_value", f"answered_on is more than {MAX_LATE_DAYS} days ago.", "answered_on")
    return answered_on, check_answers(data["answers"], record.person, content)


def _already_submitted():
    return api_error(409, "checklist_already_submitted",
                     "The checklist for this month is already sent. If something worries you, call your MS team.",
                     "answered_on")


def store(connection: Connection, submission: Submission, now: datetime,
          content: Content) -> tuple[dict[str, Any], bool]:
    """Store a prepared checklist and raise its flag; (response body, created).

    Meant for a short transaction of its own: the unique constraints on
    (patient, client_id) and (patient, period) decide between requests that
    raced. On a conflict nothing is written, and the first answer is returned
    (the same client_id) or a 409 raised (the same period).
    """
    body = {"level": submission.level, "reasons": list(submission.reasons), "advice": submission.advice,
            "flag_id": None}
    inserted = INSERT[connection.dialect.name].first(connection, {
        "patient_id": submission.patient_id, "client_id": submission.client_id,
        "answered_on": submission.answered_on, "period": submission.period, "answers": submission.answers,
        "note": submission.note, "level": submission.level, "reasons": list(submission.reasons),
        "response": body, "submitted_by_id": submission.submitter_id, "created_at": now})
    if inserted is None:
        first = first_answer(connection, submission.patient_id, submission.client_id)
        if first is not None:
            return first, False
        raise _already_submitted()
    (checklist_id,) = inserted
    if submission.flag is not None:
        level, reasons = submission.flag
        # The flag and its pushes are ORM objects (shared with lab results), in
        # this connection's transaction: the session neither commits nor ends it.
        with Session(bind=connection, join_transaction_mode="rollback_only") as session:
            flag = flag_service.raise_flag(session, submission.patient_id, submission.clinic_id, level,
                                           "checklist", checklist_id, reasons, now, content)
            session.flush()
            body["flag_id"] = flag.id
        connection.execute(SET_FLAG, {"checklist_id": checklist_id, "response": body})
    response = {"id": checklist_id, **body}
    return response, True


def listing(session: Session, patient_id: int) -> list[Checklist]:
    return list(session.scalars(select(Checklist).where(Checklist.patient_id == patient_id)
                                .order_by(Checklist.answered_on.desc(), Checklist.id.desc())))


def submit(session: Session, patient: Patient, submitter: User, data: Mapping[str, Any], today: date, now: datetime,
           content: Content) -> tuple[dict[str, Any], bool]:
    """:func:`prepare` and :func:`store` in the caller's one transaction (the demo)."""
    submission = prepare(session, record_of(patient), submitter, data, today, content)
    if isinstance(submission, dict):
        return submission, False
    session.flush()  # store runs on the session's connection, which must see what the session holds
    return store(session.connection(), submission, now, content)
