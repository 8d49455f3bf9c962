"""Lab results: stored with the flags the engine's rules raise."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Mapping

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..engine.errors import InputError
from ..engine.inputs import make_lab_result
from ..engine.labs import Finding, evaluate
from ..engine.protocol import Content
from ..engine.timeline import finding_to_json
from ..models import LabResult, LabSubmission, Patient, User
from . import flags as flag_service
from . import submissions
from .errors import Conflict, InvalidInput
from .patients import clinic_settings


def first_answer(session: Session, patient_id: int, client_id: str) -> dict[str, Any] | None:
    """The body first answered for this client_id, if it was stored."""
    return session.scalar(select(LabSubmission.response).where(LabSubmission.patient_id == patient_id,
                                                               LabSubmission.client_id == client_id))


def submit(session: Session, patient: Patient, recorder: User, data: Mapping[str, Any], today: date,
           now: datetime, content: Content) -> tuple[dict[str, Any], bool]:
    """Check one sample's results, evaluate the lab rules, store them and raise
    their flag; (response body, created).

    The same ``client_id`` again gives the first answer and stores nothing. A
    result with ``value`` null records "sample taken" (the lab item counts as
    done) without a value. The caller commits.
    """
    client_id = str(data["client_id"])
    first = first_answer(session, patient.id, client_id)
    if first is not None:
        return first, False
    taken_on: date = data["taken_on"]
    if taken_on > today:
        raise InvalidInput("taken_on", "taken_on is in the future.")
    patient_reported = recorder.role == "patient"
    rows, findings = _checked_results(patient, data["results"], taken_on, patient_reported, content)
    stored = LabSubmission(
        patient_id=patient.id, client_id=client_id, taken_on=taken_on, patient_reported=patient_reported,
        recorded_by_id=recorder.id, response={}, created_at=now,
        results=[LabResult(patient_id=patient.id, taken_on=taken_on, patient_reported=patient_reported, **row)
                 for row in rows])
    if not submissions.add_once(session, stored):
        first = first_answer(session, patient.id, client_id)
        if first is None:
            raise Conflict("conflict", "These results could not be stored. Send them again.")
        return first, False
    # Results can start or stop weekly blood counts: the clock re-plans her reminders.
    patient.reminders_until = None
    flagged = [f for f in findings if flag_service.raises_flag(f.level, content)]
    flag_id = None
    if flagged:
        top = max((f.level for f in flagged), key=content.level_rank)
        reasons = list(dict.fromkeys(f.rule for f in flagged))
        flag = flag_service.raise_flag(session, patient.id, patient.clinic_id, top, "lab", stored.id, reasons,
                                       now, content)
        flag_id = flag.id
    stored.response = {
        "id": stored.id,
        "taken_on": taken_on.isoformat(),
        "flags": [finding_to_json(f) for f in findings if f.level != "none"],
        "flag_id": flag_id,
    }
    return stored.response, True


def _checked_results(patient: Patient, results: list[Mapping[str, Any]], taken_on: date, patient_reported: bool,
                     content: Content) -> tuple[list[dict[str, Any]], list[Finding]]:
    """LabResult column values, one dict per analyte, and the rules' findings."""
    settings = clinic_settings(patient.clinic, content)
    seen: set[str] = set()
    rows, findings = [], []
    for index, raw in enumerate(results):
        field = f"results[{index}]"
        analyte = raw["analyte"]
        if analyte in seen:
            raise InvalidInput(f"{field}.analyte", f"{analyte} is listed twice.")
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
        raise InvalidInput("results", "Give at least one result.")
    return rows, findings
