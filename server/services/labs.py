"""Lab results: stored with the flags the engine's rules raise."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Mapping

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..engine.errors import InputError
from ..engine.inputs import make_lab_result
from ..engine.labs import Finding, evaluate
from ..engine.protocol import Content
from ..engine.timeline import finding_to_json
from ..errors import api_error
from ..models import LabResult, LabSubmission, Patient, User
from . import flags as flag_service
from .patients import clinic_settings


@dataclass(frozen=True)
class Submission:
    """One sample's results checked and evaluated, ready to store (:func:`store`)."""

    patient_id: int
    clinic_id: int
    client_id: str
    taken_on: date
    patient_reported: bool
    recorder_id: int
    #: LabResult column values, one dict per analyte
    results: tuple[dict[str, Any], ...]
    findings: tuple[Finding, ...]


def first_answer(session: Session, patient_id: int, client_id: str) -> dict[str, Any] | None:
    """The body first answered for this client_id, if it was stored."""
    return session.scalar(select(LabSubmission.response).where(LabSubmission.patient_id == patient_id,
                                                               LabSubmission.client_id == client_id))


def prepare(session: Session, patient: Patient, recorder: User, data: Mapping[str, Any], today: date,
            content: Content) -> Submission | dict[str, Any]:
    """Check one sample's results and evaluate the lab rules; reads only.

    The first answer (a dict) when this ``client_id`` was stored already. A
    result with ``value`` null records "sample taken" (the lab item counts as
    done) without a value.
    """
    client_id = str(data["client_id"])
    first = first_answer(session, patient.id, client_id)
    if first is not None:
        return first
    taken_on: date = data["taken_on"]
    if taken_on > today:
        raise api_error(400, "invalid_value", "taken_on is in the future.", "taken_on")
    patient_reported = recorder.role == "patient"
    settings = clinic_settings(patient.clinic, content)
    seen: set[str] = set()
    rows, findings = [], []
    for index, raw in enumerate(data["results"]):
        field = f"results[{index}]"
        analyte = raw["analyte"]
        if analyte in seen:
            raise api_error(400, "invalid_value", f"{analyte} is listed twice.", f"{field}.analyte")
        seen.add(analyte)
        value = raw.get("value")
        if value is None:
            if analyte not in content.analytes:
                raise InputError(f"{field}.analyte", f"unknown analyte {analyte!r}")
            if raw.get("ref_low") is not None or raw.get("ref_high") is not None:
                raise InputError(f"{field}.ref_low", "a sample-taken report (value null) has no reference range")
            rows.append({"analyte": analyte, "value_num": None, "value_text": None, "ref_low": None,
                         "ref_high": None})
            continue
        result = make_lab_result(analyte, value, taken_on, content, raw.get("ref_low"), raw.get("ref_high"),
                                 patient_reported, field)
        findings.extend(evaluate(result, patient.baseline or {}, settings, content))
        rows.append({"analyte": analyte,
                     "value_num": None if isinstance(result.value, str) else float(result.value),
                     "value_text": result.value if isinstance(result.value, str) else None,
                     "ref_low": result.ref_low, "ref_high": result.ref_high})
    if not rows:
        raise api_error(400, "invalid_value", "Give at least one result.", "results")
    return Submission(patient_id=patient.id, clinic_id=patient.clinic_id, client_id=client_id, taken_on=taken_on,
                      patient_reported=patient_reported, recorder_id=recorder.id, results=tuple(rows),
                      findings=tuple(findings))


def store(session: Session, submission: Submission, now: datetime, content: Content) -> tuple[dict[str, Any], bool]:
    """Store prepared results and raise their flag; (response body, created).

    Meant for a short transaction of its own: the unique (patient, client_id)
    constraint decides between requests that raced, and the loser gets the
    first answer (the session is rolled back).
    """
    stored = LabSubmission(
        patient_id=submission.patient_id, client_id=submission.client_id, taken_on=submission.taken_on,
        patient_reported=submission.patient_reported, recorded_by_id=submission.recorder_id, response={},
        created_at=now,
        results=[LabResult(patient_id=submission.patient_id, taken_on=submission.taken_on,
                           patient_reported=submission.patient_reported, **row) for row in submission.results])
    session.add(stored)
    try:
        session.flush()
    except IntegrityError:
        session.rollback()
        first = first_answer(session, submission.patient_id, submission.client_id)
        if first is None:
            raise
        return first, False
    # Results can start or stop weekly blood counts: the clock re-plans her reminders.
    session.execute(update(Patient).where(Patient.id == submission.patient_id).values(reminders_until=None))
    flagged = [f for f in submission.findings if flag_service.raises_flag(f.level, content)]
    flag_id = None
    if flagged:
        top = max((f.level for f in flagged), key=content.level_rank)
        reasons = list(dict.fromkeys(f.rule for f in flagged))
        flag = flag_service.raise_flag(session, submission.patient_id, submission.clinic_id, top, "lab", stored.id,
                                       reasons, now, content)
        flag_id = flag.id
    stored.response = {
        "id": stored.id,
        "taken_on": submission.taken_on.isoformat(),
        "flags": [finding_to_json(f) for f in submission.findings if f.level != "none"],
        "flag_id": flag_id,
    }
    return stored.response, True


def submit(session: Session, patient: Patient, recorder: User, data: Mapping[str, Any], today: date, now: datetime,
           content: Content) -> tuple[dict[str, Any], bool]:
    """:func:`prepare` and :func:`store` in the caller's one transaction (the demo).

    A conflict would roll that whole transaction back (:func:`store`): for
    records that cannot have one, such as the demo's new patients.
    """
    submission = prepare(session, patient, recorder, data, today, content)
    if isinstance(submission, dict):
        return submission, False
    return store(session, submission, now, content)
