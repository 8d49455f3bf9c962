"""Lab results: stored with the flags the engine's rules raise."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Mapping

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..engine.errors import InputError
from ..engine.inputs import make_lab_result
from ..engine.labs import evaluate
from ..engine.protocol import Content
from ..engine.timeline import finding_to_json
from ..errors import api_error
from ..models import LabResult, LabSubmission, Patient, User
from . import flags as flag_service
from .patients import clinic_settings


def find(session: Session, patient_id: int, client_id: str) -> LabSubmission | None:
    return session.scalar(select(LabSubmission).where(LabSubmission.patient_id == patient_id,
                                                      LabSubmission.client_id == client_id))


def submit(session: Session, patient: Patient, recorder: User, data: Mapping[str, Any], today: date,
           now: datetime, content: Content) -> tuple[dict[str, Any], bool]:
    """Store one sample's results; (response body, created). Idempotent on client_id.

    A result with ``value`` null records "sample taken" (the lab item counts as
    done) without a value.
    """
    client_id = str(data["client_id"])
    first = find(session, patient.id, client_id)
    if first is not None:
        return first.response, False
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
            rows.append(LabResult(patient_id=patient.id, analyte=analyte, value_num=None, value_text=None,
                                  ref_low=None, ref_high=None, taken_on=taken_on, patient_reported=patient_reported))
            continue
        result = make_lab_result(analyte, value, taken_on, content, raw.get("ref_low"), raw.get("ref_high"),
                                 patient_reported, field)
        findings.extend(evaluate(result, patient.baseline or {}, settings, content))
        rows.append(LabResult(patient_id=patient.id, analyte=analyte,
                              value_num=None if isinstance(result.value, str) else float(result.value),
                              value_text=result.value if isinstance(result.value, str) else None,
                              ref_low=result.ref_low, ref_high=result.ref_high, taken_on=taken_on,
                              patient_reported=patient_reported))
    if not rows:
        raise api_error(400, "invalid_value", "Give at least one result.", "results")
    submission = LabSubmission(patient_id=patient.id, client_id=client_id, taken_on=taken_on,
                               patient_reported=patient_reported, recorded_by_id=recorder.id, response={},
                               created_at=now, results=rows)
    patient.reminders_until = None  # results can start or stop weekly blood counts
    try:
        with session.begin_nested():
            session.add(submission)
    except IntegrityError:
        # The same client_id was stored by a concurrent request.
        again = find(session, patient.id, client_id)
        if again is None:
            raise
        return again.response, False

    flagged = [f for f in findings if flag_service.raises_flag(f.level, content)]
    flag_id = None
    if flagged:
        top = max((f.level for f in flagged), key=content.level_rank)
        reasons = list(dict.fromkeys(f.rule for f in flagged))
        flag = flag_service.raise_flag(session, patient, top, "lab", submission.id, reasons, now, content)
        session.flush()
        flag_id = flag.id
    submission.response = {
        "id": submission.id,
        "taken_on": taken_on.isoformat(),
        "flags": [finding_to_json(f) for f in findings if f.level != "none"],
        "flag_id": flag_id,
    }
    return submission.response, True
