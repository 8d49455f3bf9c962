"""The monthly symptom checklist: this month's questions, sending one, past ones."""

from __future__ import annotations

from .. import auth
from ..db import get_session
from ..services import checklists as service
from ..timeutil import local_today, utcnow
from . import bp, content, iso, large_list
from .schemas import ChecklistIn, ChecklistListOut, ChecklistResultOut, CurrentChecklistOut

ERRORS = [400, 401, 403, 404, 409, 413]


@bp.get("/patients/<int:patient_id>/checklist")
@bp.output(CurrentChecklistOut)
@bp.doc(summary="This month's checklist, in the patient's language", responses=[401, 403, 404])
def current_checklist(patient_id):
    _, patient = auth.patient_for(patient_id, ("patient",), "checklist.current")
    return service.current(get_session(), patient, local_today(patient.timezone), content())


@bp.post("/patients/<int:patient_id>/checklists")
@bp.input(ChecklistIn, arg_name="body")
@bp.output(ChecklistResultOut, status_code=201)
@bp.doc(summary="Send a checklist: the advice comes back at once. Idempotent on client_id "
                "(the same client_id again answers 200 with the first body).", responses=ERRORS)
def submit_checklist(patient_id, body):
    who, patient = auth.patient_for(patient_id, ("patient",), "checklist.submit")
    session = get_session()
    response, created = service.submit(session, patient, who, dict(body), local_today(patient.timezone),
                                       utcnow(), content())
    session.commit()
    return response, 201 if created else 200


@bp.get("/patients/<int:patient_id>/checklists")
@bp.output(ChecklistListOut)
@bp.doc(summary="Past checklists with their levels, the questions answered yes and what the care team did",
        responses=[401, 403, 404])
def list_checklists(patient_id):
    who, patient = auth.patient_for(patient_id, ("patient", "nurse", "admin"), "checklists.read")
    session = get_session()
    items = service.history(session, patient, content(), for_staff=who.is_staff)
    for item in items:
        if item["team"]:
            item["team"] = {**item["team"], "acknowledged_at": iso(item["team"]["acknowledged_at"]),
                            "resolved_at": iso(item["team"]["resolved_at"]),
                            **({"read_at": iso(item["team"]["read_at"])} if "read_at" in item["team"] else {})}
    session.commit()
    return large_list({"items": items})
