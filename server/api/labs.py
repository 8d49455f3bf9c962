from __future__ import annotations

from .. import auth
from ..db import get_session
from ..errors import api_error
from ..schemas import LabIn, LabListOut, LabQuery, LabResultOut
from ..services import labs as service
from ..services.patients import lab_results_of
from ..timeutil import local_today, utcnow
from . import bp, content, iso, sent_as_is

ERRORS = [400, 401, 403, 404, 409, 413]


@bp.post("/patients/<int:patient_id>/labs")
@bp.input(LabIn, arg_name="body")
@bp.output(LabResultOut, status_code=201)
@bp.doc(summary="Record one sample's results (value null: sample taken). Idempotent on client_id.",
        responses=ERRORS)
def submit_labs(patient_id, body):
    who, patient = auth.patient_for(patient_id, ("patient", "nurse", "admin"), None)
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
@bp.doc(summary="Lab results over time", responses=[400, 401, 403, 404])
def list_labs(patient_id, query):
    _, patient = auth.patient_for(patient_id, ("patient", "nurse", "admin"), "labs.read")
    analyte = query.get("analyte")
    if analyte is not None and analyte not in content().analytes:
        raise api_error(400, "unknown_code", f"unknown analyte {analyte!r}", "analyte")
    session = get_session()
    items = [
        {"id": r.id, "analyte": r.analyte, "value": r.value, "ref_low": r.ref_low, "ref_high": r.ref_high,
         "taken_on": iso(r.taken_on), "patient_reported": r.patient_reported}
        for r in lab_results_of(session, patient.id, analyte)
    ]
    session.commit()
    return sent_as_is({"items": items})
