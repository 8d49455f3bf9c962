"""Lab results: stored with the flags the engine's rules raise, corrected or withdrawn.

A number result is stored in its analyte's canonical unit with the value and
unit as recorded (CLINICAL.md 4.1); a correction or withdrawal keeps the
original row and says who changed it, when and why (section 6), then the
sample's flag follows the results that remain.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Mapping

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..engine.content.model import Content
from ..engine.content.settings import UNIT_SETTING_PREFIX
from ..engine.errors import InputError
from ..engine.inputs import LabResult as EngineResult
from ..engine.inputs import make_lab_result
from ..engine.labs import Finding, LabContext, evaluate, finding_to_json
from ..engine.units import find_unit, from_canonical
from ..models import Flag, LabResult, LabSubmission, Patient, User
from . import figures, submissions
from . import flags as flag_service
from .checklists import advice
from .errors import Conflict, Forbidden, InvalidInput, NotFound
from .patients import clinic_settings, lab_context, lab_results_of

#: the levels whose advice a patient sees at once when her own result raises them (CLINICAL.md 4)
ADVICE_LEVELS = ("urgent", "emergency")


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
    done) without a value. A number is stored in its canonical unit; an unknown
    unit or an implausible value is refused naming the field, and nothing is
    stored. When the patient's own result raises an urgent or emergency rule,
    the answer carries that level's ``advice``. The caller commits.
    """
    client_id = str(data["client_id"])
    first = first_answer(session, patient.id, client_id)
    if first is not None:
        return first, False
    taken_on: date = data["taken_on"]
    if taken_on > today:
        raise InvalidInput("taken_on", "taken_on is in the future.")
    patient_reported = recorder.role == "patient"
    content = content.of(patient.protocol)  # her protocol's lab rules and words
    rows, findings = _checked_results(patient, data["results"], taken_on, patient_reported, content, session)
    stored = LabSubmission(
        patient_id=patient.id, client_id=client_id, taken_on=taken_on, patient_reported=patient_reported,
        recorded_by_id=recorder.id, response={}, created_at=now,
        results=[LabResult(patient_id=patient.id, taken_on=taken_on, patient_reported=patient_reported,
                           recorded_by_id=recorder.id, recorded_at=now, **row)
                 for row in rows])
    if not submissions.add_once(session, stored):
        first = first_answer(session, patient.id, client_id)
        if first is None:
            raise Conflict("conflict", "These results could not be stored. Send them again.")
        return first, False
    # Results can start or stop weekly blood counts: the clock re-plans her reminders.
    figures.record_changed(patient)
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
        "advice": _advice(patient, recorder, findings, content),
    }
    return stored.response, True


def _advice(patient: Patient, recorder: User, findings: list[Finding], content: Content) -> dict[str, Any] | None:
    """What the patient sees at once when her own result raises an urgent or emergency
    rule (CLINICAL.md 4): that level's advice with the clinic's numbers, as a
    checklist's, and the texts of the rules that raised it."""
    if recorder.role != "patient":
        return None
    serious = sorted((f for f in findings if f.level in ADVICE_LEVELS), key=lambda f: -content.level_rank(f.level))
    if not serious:
        return None
    language = patient.language
    return {**advice(patient, serious[0].level, content),
            "rules": [{"rule": f.rule, "title": content.text(language, "rules", f.rule, "title"),
                       "detail": content.text(language, "rules", f.rule, "detail")} for f in serious]}


def _checked_results(patient: Patient, results: list[Mapping[str, Any]], taken_on: date, patient_reported: bool,
                     content: Content, session: Session) -> tuple[list[dict[str, Any]], list[Finding]]:
    """LabResult column values, one dict per analyte, and the rules' findings."""
    settings = clinic_settings(patient.clinic, content)
    seen: set[str] = set()
    rows, findings, made = [], [], []
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
            rows.append(_SAMPLE_TAKEN | {"analyte": analyte})
            continue
        result = make_lab_result(analyte, value, taken_on, content, raw.get("ref_low"), raw.get("ref_high"),
                                 patient_reported, field, raw.get("unit"))
        made.append(result)
        rows.append(_columns(result))
    if not rows:
        raise InvalidInput("results", "Give at least one result.")
    for result, context in _contexts(session, patient, made, content):
        findings.extend(evaluate(result, patient.baseline or {}, settings, content, context))
    return rows, findings


def _contexts(session: Session, patient: Patient, made: list[EngineResult], content: Content,
              exclude: set[int] | None = None) -> list[tuple[EngineResult, LabContext | None]]:
    """Each result with what its protocol's rules read besides it (CLINICAL.md 7.4):
    her other standing results and her courses' first dates; None when no rule reads them."""
    if not content.rules_read_history:
        return [(result, None) for result in made]
    stored = [r for r in lab_results_of(session, patient.id) if r.id not in (exclude or set())]
    results, starts = lab_context(patient, stored, made, content)
    return [(result, LabContext(results, next(i for i, r in enumerate(results) if r is result), starts))
            for result in made]


#: the columns of a "sample taken" report: the result is still to come
_SAMPLE_TAKEN = {"value_num": None, "value_text": None, "unit": None, "value_as_recorded": None,
                 "unit_as_recorded": None, "ref_low": None, "ref_high": None}


def _columns(result: EngineResult) -> dict[str, Any]:
    """LabResult column values of a checked result."""
    number = not isinstance(result.value, str)
    return {"analyte": result.analyte,
            "value_num": float(result.value) if number else None,
            "value_text": None if number else result.value,
            "unit": result.unit,
            "value_as_recorded": float(result.value_as_recorded) if number else None,
            "unit_as_recorded": result.unit_as_recorded,
            "ref_low": result.ref_low, "ref_high": result.ref_high}


def usual_units(patient: Patient, content: Content) -> dict[str, str]:
    """analyte -> the unit the clinic's laboratory prints (site settings ``lab_unit.*``)."""
    settings = clinic_settings(patient.clinic, content)
    return {name[len(UNIT_SETTING_PREFIX):]: value for name, value in settings.items()
            if name.startswith(UNIT_SETTING_PREFIX)}


# --- corrections (CLINICAL.md section 6) ------------------------------------------------

#: the outcome of a flag whose result was withdrawn or corrected away (CLINICAL.md 3 and 6)
ENTERED_IN_ERROR = "entered_in_error"


def result_of(session: Session, patient: Patient, result_id: int) -> LabResult:
    """The patient's result ``result_id`` as it stands; NotFound for any other
    (another patient's included), Conflict when it was already withdrawn or corrected."""
    row = session.get(LabResult, result_id)
    if row is None or row.patient_id != patient.id:
        raise NotFound("No such result.")
    if not row.current:
        raise Conflict("result_withdrawn", "This result was already corrected or withdrawn.")
    return row


def _may_change(row: LabResult, who: User) -> None:
    """The care team changes any result; a patient only those she entered herself."""
    if who.role == "patient" and not row.patient_reported:
        raise Forbidden("Your care team entered this result: ask them to correct it.")


def _withdraw(row: LabResult, who: User, reason: str, now: datetime) -> None:
    row.withdrawn_at, row.withdrawn_by_id, row.withdrawal_reason = now, who.id, reason


def correct(session: Session, patient: Patient, row: LabResult, who: User, fields: Mapping[str, Any], today: date,
            now: datetime, content: Content) -> tuple[LabResult, dict[str, Any]]:
    """Replace a result by its correction; (the new row, {flags, flag_id}).

    The fields sent (``value``, ``unit``, ``taken_on``, ``ref_low``,
    ``ref_high``) change, the others stay as recorded: the value and range are
    in ``unit`` when it is sent, else in the unit as recorded (sending only a
    unit corrects a unit mix-up). The checks of a new result apply, naming the
    body's field. The original stays, withdrawn with ``reason`` and pointing to
    its replacement; the sample's flag follows (:func:`reflag`); the clock
    re-plans her reminders. The caller commits.
    """
    _may_change(row, who)
    known = content.analytes[row.analyte]
    factor = 1.0
    if known.kind == "number" and row.unit_as_recorded is not None:
        found = find_unit(known, row.unit_as_recorded)
        factor = found.factor if found is not None else 1.0

    def as_recorded(value: float | None) -> float | None:
        return None if value is None else from_canonical(value, factor)

    value = fields["value"] if "value" in fields else (
        row.value_as_recorded if row.value_as_recorded is not None else row.value)
    unit = fields["unit"] if "unit" in fields else row.unit_as_recorded
    ref_low = fields["ref_low"] if "ref_low" in fields else as_recorded(row.ref_low)
    ref_high = fields["ref_high"] if "ref_high" in fields else as_recorded(row.ref_high)
    taken_on = fields.get("taken_on", row.taken_on)
    if taken_on > today:
        raise InvalidInput("taken_on", "taken_on is in the future.")
    patient_reported = who.role == "patient"
    if value is None:
        if ref_low is not None or ref_high is not None:
            raise InvalidInput("ref_low", "A sample-taken report (value null) has no reference range.")
        columns = _SAMPLE_TAKEN | {"analyte": row.analyte}
    else:
        try:
            checked = make_lab_result(row.analyte, value, taken_on, content, ref_low, ref_high, patient_reported,
                                      "result", unit)
        except InputError as error:  # the body's own field names
            raise InputError(error.field.removeprefix("result."), error.problem) from None
        columns = _columns(checked)
    new = LabResult(submission_id=row.submission_id, patient_id=patient.id, taken_on=taken_on,
                    patient_reported=patient_reported, recorded_by_id=who.id, recorded_at=now, **columns)
    session.add(new)
    session.flush()
    _withdraw(row, who, fields["reason"], now)
    row.replaced_by_id = new.id
    session.flush()
    figures.record_changed(patient)
    return new, reflag(session, patient, row.submission_id, who, fields["reason"], now, content)


def withdraw(session: Session, patient: Patient, row: LabResult, who: User, reason: str, now: datetime,
             content: Content) -> dict[str, Any]:
    """Withdraw a result entered in error: the row stays, marked with who, when and
    why; the sample's flag follows (:func:`reflag`); the clock re-plans her
    reminders. The caller commits."""
    _may_change(row, who)
    _withdraw(row, who, reason, now)
    session.flush()
    figures.record_changed(patient)
    return reflag(session, patient, row.submission_id, who, reason, now, content)


def reflag(session: Session, patient: Patient, submission_id: int, who: User, reason: str, now: datetime,
           content: Content) -> dict[str, Any]:
    """The sample's flag after a correction: what the rules say of its current results.

    When they raise the same flag (level and rules) as the sample's latest flag,
    that flag stands. Otherwise the latest, when not yet resolved, is closed
    with the outcome "entered in error" (its note: the reason), and the rules
    that fire now, if any, raise a new flag. A flag the care team already
    resolved stays as they closed it. Answers {flags, flag_id}: the sample's
    findings now and its open flag.
    """
    content = content.of(patient.protocol)
    settings = clinic_settings(patient.clinic, content)
    rows = session.scalars(select(LabResult).where(LabResult.submission_id == submission_id,
                                                   LabResult.withdrawn_at.is_(None)).order_by(LabResult.id)).all()
    findings: list[Finding] = []
    made = []
    for row in rows:
        if row.value is None:
            continue
        recorded = row.value_as_recorded if row.value_num is not None else row.value
        made.append(EngineResult(row.analyte, row.value, row.taken_on, row.ref_low, row.ref_high,
                                 row.patient_reported, row.unit, recorded, row.unit_as_recorded))
    for result, context in _contexts(session, patient, made, content, {row.id for row in rows}):
        findings.extend(evaluate(result, patient.baseline or {}, settings, content, context))
    flagged = [f for f in findings if flag_service.raises_flag(f.level, content)]
    level = max((f.level for f in flagged), key=content.level_rank) if flagged else None
    reasons = list(dict.fromkeys(f.rule for f in flagged))
    latest = session.scalars(select(Flag).where(Flag.patient_id == patient.id, Flag.source == "lab",
                                                Flag.source_id == submission_id)
                             .order_by(Flag.id.desc()).limit(1)).first()
    flag_id = latest.id if latest is not None and latest.status != "resolved" else None
    if latest is None or latest.level != level or list(latest.reasons) != reasons:
        if latest is not None and latest.status != "resolved":
            flag_service.resolve(latest, who, ENTERED_IN_ERROR, reason, now)
        flag_id = None
        if flagged:
            flag_id = flag_service.raise_flag(session, patient.id, patient.clinic_id, level, "lab", submission_id,
                                              reasons, now, content).id
    return {"flags": [finding_to_json(f) for f in findings if f.level != "none"], "flag_id": flag_id}


def corrected_ids(session: Session, patient_id: int) -> dict[int, int]:
    """Result id -> the id of the result it corrects, for the patient's corrections."""
    return dict(session.execute(select(LabResult.replaced_by_id, LabResult.id).where(
        LabResult.patient_id == patient_id, LabResult.replaced_by_id.is_not(None))).all())
