"""The care team's side of a record (issue 17): nurse notes, and what sits beside the record
(reminder delivery, the history of corrected courses, who looked at it).

Staff of the patient's clinic only: a note never reaches the patient or her family.
"""

from __future__ import annotations

from sqlalchemy import select

from .. import auth
from ..db import get_session
from ..models import AuditEvent, User
from ..services import notes as service
from ..services.reminders import delivery_overview
from ..timeutil import utcnow
from . import bp, iso
from .schemas import CareSummaryOut, NoteIn, NoteListOut, NoteOut

STAFF = ("nurse", "admin")
#: the newest staff accesses shown on the record
ACCESS_SHOWN = 50


def note_json(note, author: str) -> dict:
    return {"id": note.id, "text": note.text, "created_at": iso(note.created_at), "author_id": note.author_id,
            "author": author}


@bp.post("/patients/<int:patient_id>/notes")
@bp.input(NoteIn, arg_name="body")
@bp.output(NoteOut, status_code=201)
@bp.doc(summary="Add a dated, signed note to the record (care team only; never shown to the patient or family)",
        responses=[400, 401, 403, 404, 413])
def add_note(patient_id, body):
    nurse, patient = auth.patient_for(patient_id, STAFF, "note.create")
    session = get_session()
    note = service.add_note(session, patient, nurse, body["text"], utcnow())
    session.commit()
    return note_json(note, nurse.email), 201


@bp.get("/patients/<int:patient_id>/notes")
@bp.output(NoteListOut)
@bp.doc(summary="The care team's notes on the record, newest first", responses=[401, 403, 404])
def list_notes(patient_id):
    _, patient = auth.patient_for(patient_id, STAFF, "notes.read")
    session = get_session()
    items = [note_json(note, author) for note, author in service.notes_of(session, patient.id)]
    session.commit()
    return {"items": items}


@bp.get("/patients/<int:patient_id>/care-summary")
@bp.output(CareSummaryOut)
@bp.doc(summary="Beside the record: reminder delivery, corrected and removed courses, and who of the staff "
                "looked at the record", responses=[401, 403, 404])
def care_summary(patient_id):
    nurse, patient = auth.patient_for(patient_id, STAFF, "care_summary.read")
    session = get_session()
    delivery = delivery_overview(session, nurse.clinic_id, [patient.id])[patient.id]
    changes = [{"course_id": c.course_id, "action": c.action, "infusions_before": list(c.infusions_before),
                "status_before": c.status_before, "reason": c.reason, "changed_by": by, "changed_at": iso(c.changed_at)}
               for c, by in service.course_changes_of(session, patient.id)]
    events = list(session.scalars(select(AuditEvent).where(AuditEvent.patient_id == patient.id)
                                  .order_by(AuditEvent.id.desc()).limit(ACCESS_SHOWN)))
    # A laboratory's import names its API key, not a person (services.audit.record_key_import).
    people = dict(session.execute(select(User.id, User.email).where(
        User.id.in_({e.actor_id for e in events if e.action != "labs.import_fhir"}))).all())
    roles = dict(session.execute(select(User.id, User.role).where(User.id.in_(list(people)))).all())
    access = [{"at": iso(e.at), "action": e.action,
               "by": None if e.action == "labs.import_fhir" else people.get(e.actor_id),
               "role": "laboratory" if e.action == "labs.import_fhir" else roles.get(e.actor_id)} for e in events]
    session.commit()
    return {"delivery": {**delivery, "last_delivered_at": iso(delivery["last_delivered_at"])},
            "course_changes": changes, "access_log": access}
