"""Lab results: recording a sample, listing, correcting and withdrawing results."""

from __future__ import annotations

from .. import auth
from ..db import get_session
from ..errors import api_error
from ..models import LabResult
from ..services import labs as service
from ..services.patients import lab_results_of
from ..timeutil import local_today, utcnow
from . import bp, content, iso, large_list
from .schemas import LabCorrectedOut, LabCorrectionIn, LabIn, LabListOut, LabQuery, LabResultOut, LabWithdrawIn

ERRORS = [400, 401, 403, 404, 409, 413]
#: who records, corrects and withdraws results (a patient: only those she entered herself)
RECORDERS = ("patient", "nurse", "admin")


def row_json(row: LabResult, corrects: int | None = None) -> dict:
    return {"id": row.id, "analyte": row.analyte, "value": row.value, "unit": row.unit, "ref_low": row.ref_low,
            "ref_high": row.ref_high, "value_as_recorded": row.value_as_recorded,
            "unit_as_recorded": row.unit_as_recorded, "taken_on": iso(row.taken_on),
            "patient_reported": row.patient_reported, "corrects_id": corrects}


@bp.post("/patients/<int:patient_id>/labs")
@bp.input(LabIn, arg_name="body")
@bp.output(LabResultOut, status_code=201)
@bp.doc(summary="Record one sample's results (value null: sample taken), each in the unit the lab printed; "
                "the patient's answer carries the advice of an urgent or emergency result. Idempotent on client_id.",
        responses=ERRORS)
def submit_labs(patient_id, body):
    who, patient = auth.patient_for(patient_id, RECORDERS, None)
    session = get_session()
    response, created = service.submit(session, patient, who, body, local_today(patient.timezone), utcnow(),
                                       content())
    if created:
        auth.record_access(who, "labs.create", patient.id)
    session.commit()
    return response, 201 if created else 200


@bp.get("/patients/<int:patient_id>/labs")
@bp.input(LabQuery, location="query", arg_name="query")
@bp.output(LabListOut)
@bp.doc(summary="Lab results over time (those that stand, in canonical units), and the clinic's usual units",
        responses=[400, 401, 403, 404])
def list_labs(patient_id, query):
    _, patient = auth.patient_for(patient_id, RECORDERS, "labs.read")
    analyte = query.get("analyte")
    if analyte is not None and analyte not in content().analytes:
        raise api_error(400, "unknown_code", f"unknown analyte {analyte!r}", "analyte")
    session = get_session()
    corrects = service.corrected_ids(session, patient.id)
    items = [row_json(r, corrects.get(r.id)) for r in lab_results_of(session, patient.id, analyte)]
    usual = service.usual_units(patient, content())
    session.commit()
    return large_list({"items": items, "usual_units": usual})


# Corrections (issue 14, CLINICAL.md section 6): a result entered in error is corrected
# or withdrawn, by the patient for the results she entered, by the care team for any.
# The original row stays (who, when, why); the sample's flag follows; staff changes are
# in the audit log (the action, never the values).


@bp.patch("/patients/<int:patient_id>/labs/<int:result_id>")
@bp.input(LabCorrectionIn, arg_name="body")
@bp.output(LabCorrectedOut)
@bp.doc(summary="Correct a result (the fields sent, with the reason); the original is kept, the flag, "
                "timeline and reminders follow", responses=ERRORS)
def correct_lab(patient_id, result_id, body):
    who, patient = auth.patient_for(patient_id, RECORDERS, "labs.correct")
    session = get_session()
    row = service.result_of(session, patient, result_id)
    new, answer = service.correct(session, patient, row, who, body, local_today(patient.timezone), utcnow(),
                                  content())
    session.commit()
    return {"result": row_json(new, row.id), **answer}


@bp.delete("/patients/<int:patient_id>/labs/<int:result_id>")
@bp.input(LabWithdrawIn, arg_name="body")
@bp.output({}, status_code=204)
@bp.doc(summary="Withdraw a result entered in error (with the reason); it is kept, marked; its open flag "
                "closes as entered in error", responses=ERRORS)
def withdraw_lab(patient_id, result_id, body):
    who, patient = auth.patient_for(patient_id, RECORDERS, "labs.withdraw")
    session = get_session()
    row = service.result_of(session, patient, result_id)
    service.withdraw(session, patient, row, who, body["reason"], utcnow(), content())
    session.commit()
    return ""

