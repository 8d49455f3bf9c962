"""Patient records: enrolment, the record, courses, pregnancies, timeline and export."""

from __future__ import annotations

from flask import current_app

from .. import auth
from ..db import get_session, separate_transaction
from ..errors import api_error
from ..models import Patient
from ..services import accounts, clinics, fhir, notes, passwords, patient_list
from ..services import patients as service
from ..services.patients import load_history
from ..timeutil import utcnow
from . import bp, content, iso, large_list
from .schemas import (
    CorrectedPregnancyOut,
    CourseCorrectionIn,
    CourseIn,
    CourseOut,
    CoursePreviewIn,
    CoursePreviewOut,
    CourseRemoveIn,
    ExportOut,
    ExportQuery,
    FhirResourceOut,
    InviteOut,
    PatientCreatedOut,
    PatientIn,
    PatientListOut,
    PatientListQuery,
    PatientOut,
    PatientPatchIn,
    PregnancyPatchIn,
    ProposalIn,
    ProposalOut,
    TimelineOut,
    TimelineQuery,
)

STAFF = ("nurse", "admin")
FHIR_JSON = "application/fhir+json"
ERRORS = [400, 401, 403, 404, 409, 413]
#: what a patient may change on her own record (the rest is the care team's)
SELF_FIELDS = {"timezone", "language", "detailed_notifications", "phone"}


def course_json(course) -> dict:
    """A course; with ``doses`` (parallel to ``infusions``) when any were recorded (protocol cll)."""
    body = {"id": course.id, "infusions": list(course.infusions), "status": course.status}
    if course.doses:
        body["doses"] = list(course.doses)
    return body


def pregnancy_json(pregnancy) -> dict:
    return {"id": pregnancy.id, "reported_on": iso(pregnancy.reported_on), "ended_on": iso(pregnancy.ended_on)}


def patient_json(session, patient: Patient, staff: bool = False) -> dict:
    """The record; with ``status_error`` (and no ``monitoring_ends``) when the
    stored courses are ones the engine cannot use, so that the care team sees
    them to correct them. ``staff``: the care team's view, with the warnings on
    her planned courses (CLINICAL.md 2.3; empty when none or when the record
    needs correction)."""
    courses = patient.courses
    warnings: list = []
    try:
        ends, problem = service.monitoring_end_of(patient, content(), session), None
        if staff:
            warnings = service.course_warnings_of(session, patient, content(), patient.language)
    except service.UnusableRecord as error:
        ends, problem = None, error.code
    clinic = patient.clinic
    body = {
        "id": patient.id,
        "display_name": patient.display_name,
        "sex": patient.sex,
        "protocol": patient.protocol,
        "childbearing_potential": patient.childbearing_potential,
        "cervical_screening": patient.cervical_screening,
        "listeria_until": iso(patient.listeria_until),
        "breastfeeding": patient.breastfeeding,
        "timezone": patient.timezone,
        "language": patient.language,
        "baseline": dict(patient.baseline or {}),
        "pregnancies": [pregnancy_json(p) for p in patient.pregnancies],
        "courses": [course_json(c) for c in courses],
        "clinic": {"id": clinic.id, "name": clinic.name, "phone": clinic.phone,
                   "emergency_number": clinic.emergency_number},
        "monitoring_ends": iso(ends),
        "has_account": accounts.has_account(session, patient.id),
        "detailed_notifications": patient.detailed_notifications,
        "hospital_number": patient.hospital_number,
        "phone": patient.phone,
        "date_of_birth": iso(patient.date_of_birth),
    }
    if staff:
        body["warnings"] = warnings
    if problem is not None:
        body["status_error"] = problem
    return body


@bp.post("/patients")
@bp.input(PatientIn, arg_name="body")
@bp.output(PatientCreatedOut, status_code=201)
@bp.doc(summary="Enrol a patient: returns a single-use enrollment code", responses=ERRORS)
def create_patient(body):
    nurse = auth.require_role(*STAFF)
    session = get_session()
    clinic = clinics.clinic_of(session, nurse)
    patient, code, expires = service.create_patient(session, clinic, body, nurse, utcnow(), current_app.config)
    auth.record_access(nurse, "patient.create", patient.id)
    session.commit()
    return {**patient_json(session, patient, staff=True), "enrollment_code": code,
            "enrollment_code_expires_at": iso(expires)}, 201


@bp.get("/patients")
@bp.input(PatientListQuery, location="query", arg_name="query")
@bp.output(PatientListOut)
@bp.doc(summary="The clinic's patients: search, filters, order and page, with adherence and open-flag counts",
        responses=[400, 401, 403])
def list_patients(query):
    nurse = auth.require_role(*STAFF)
    session = get_session()
    # Figures missing or out of date are computed and kept first (a write in a reading request),
    # a bounded number of them: the answer says how many still wait.
    with separate_transaction() as writer:
        _, pending = patient_list.refresh_figures(writer, nurse.clinic_id, utcnow(), content(),
                                                  patient_list.PER_LISTING)
    session.commit()  # a new snapshot: it sees the figures just kept
    page, per_page = query["page"], query["per_page"]
    found = patient_list.page_of(session, nurse.clinic_id, q=query.get("q") or None, only=query["only"],
                                 sort=query["sort"], descending=query["order"] == "desc", page=page,
                                 per_page=per_page)
    auth.record_access(nurse, "patients.list", None)
    session.commit()
    return large_list({"items": found.items, "page": page, "per_page": per_page, "total": found.total,
                       "counts": found.counts, "figures_pending": pending})


@bp.get("/patients/<int:patient_id>")
@bp.output(PatientOut)
@bp.doc(summary="The patient record (family members: the name only)", responses=[401, 403, 404])
def get_patient(patient_id):
    who, patient = auth.patient_for(patient_id, ("patient", "nurse", "admin", "family"), "patient.read")
    session = get_session()
    body = {"id": patient.id, "display_name": patient.display_name} if who.role == "family" \
        else patient_json(session, patient, staff=who.role in STAFF)
    session.commit()
    return body


@bp.patch("/patients/<int:patient_id>")
@bp.input(PatientPatchIn, arg_name="body")
@bp.output(PatientOut)
@bp.doc(summary="Change the patient record (the patient: language and time zone only)", responses=ERRORS)
def patch_patient(patient_id, body):
    who, patient = auth.patient_for(patient_id, ("patient", "nurse", "admin"), "patient.update")
    if who.role == "patient" and set(body) - SELF_FIELDS:
        field = sorted(set(body) - SELF_FIELDS)[0]
        raise api_error(403, "forbidden", "Your care team changes this.", field)
    # Childbearing potential and pregnancies are the patient's own facts, whatever
    # the sex field says (CLINICAL.md 1, v2); cervical screening and listeria_until
    # are the care team's. Any change re-plans her reminders (update_patient).
    session = get_session()
    changes_protocol = "protocol" in body and body["protocol"] != patient.protocol
    service.update_patient(patient, body, session)
    if changes_protocol:
        # The fact of the change, never which protocol (a diagnosis): the record says that.
        auth.record_access(who, "patient.protocol_changed", patient.id)
    session.commit()
    return patient_json(session, patient, staff=who.role in STAFF)


@bp.post("/patients/<int:patient_id>/enrollment-code")
@bp.output(InviteOut, status_code=201)
@bp.doc(summary="A new enrollment code for a patient who has no account yet", responses=ERRORS)
def new_enrollment_code(patient_id):
    nurse, patient = auth.patient_for(patient_id, STAFF, "patient.enrollment_code")
    session = get_session()
    code, expires = accounts.issue_enrollment_code(session, patient, nurse, utcnow(),
                                                   current_app.config["ENROLLMENT_CODE_DAYS"])
    session.commit()
    return {"code": code, "expires_at": iso(expires)}, 201


@bp.post("/patients/<int:patient_id>/password-reset")
@bp.output(InviteOut, status_code=201)
@bp.doc(summary="A one-time code with which the patient sets a new password (the care team gives it)",
        responses=ERRORS)
def new_password_reset_code(patient_id):
    nurse, patient = auth.patient_for(patient_id, STAFF, "patient.password_reset")
    session = get_session()
    code, expires = passwords.issue_for_patient(session, patient, nurse, utcnow(), current_app.config)
    session.commit()
    return {"code": code, "expires_at": iso(expires)}, 201


@bp.post("/patients/<int:patient_id>/courses")
@bp.input(CourseIn, arg_name="body")
@bp.output(CourseOut, status_code=201)
@bp.doc(summary="Record a given or planned course; the timeline follows", responses=ERRORS)
def add_course(patient_id, body):
    nurse, patient = auth.patient_for(patient_id, STAFF, "course.create")
    session = get_session()
    course = service.add_course(patient, body["infusions"], body["status"], nurse, utcnow(), content(),
                                body.get("route"))
    session.commit()
    return course_json(course), 201


@bp.post("/patients/<int:patient_id>/course-proposal")
@bp.input(ProposalIn, arg_name="body")
@bp.output(ProposalOut)
@bp.doc(summary="A proposed CLL course from a start date and route (CLINICAL.md 7.1); nothing is saved: "
                "the care team edits the dates and records them with POST /courses",
        responses=[400, 401, 403, 404, 409])
def course_proposal(patient_id, body):
    _, patient = auth.patient_for(patient_id, STAFF, "course.proposal")
    infusions = service.proposed_course(patient, body["start"], body["route"], content())
    get_session().commit()  # the audit event only
    return {"route": body["route"], "infusions": infusions}


# Corrections (issue 13): a wrong course or pregnancy is never permanent. The care
# team of the patient's clinic corrects or removes it; each change is in the audit log
# (the action, never the dates) and the clock re-plans her reminders.


@bp.patch("/patients/<int:patient_id>/courses/<int:course_id>")
@bp.input(CourseCorrectionIn, arg_name="body")
@bp.output(CourseOut)
@bp.doc(summary="Correct a recorded course (the fields sent), with the reason; the course as it was is kept, "
                "the timeline and reminders follow", responses=ERRORS)
def patch_course(patient_id, course_id, body):
    nurse, patient = auth.patient_for(patient_id, STAFF, "course.update")
    session = get_session()
    course = service.course_of(patient, course_id)
    now = utcnow()
    notes.record_course_change(session, patient, course, "corrected", body.pop("reason", None), nurse, now)
    course = service.update_course(patient, course, body, now, content())
    session.commit()
    return course_json(course)


@bp.delete("/patients/<int:patient_id>/courses/<int:course_id>")
@bp.input(CourseRemoveIn, arg_name="body")
@bp.output({}, status_code=204)
@bp.doc(summary="Remove a course recorded in error (with the reason); the course as it was is kept in its "
                "history, the timeline and reminders follow", responses=[400, 401, 403, 404, 413])
def delete_course(patient_id, course_id, body):
    nurse, patient = auth.patient_for(patient_id, STAFF, "course.delete")
    session = get_session()
    course = service.course_of(patient, course_id)
    notes.record_course_change(session, patient, course, "removed", body.get("reason"), nurse, utcnow())
    service.remove_course(session, patient, course)
    session.commit()
    return ""


@bp.post("/patients/<int:patient_id>/courses/preview")
@bp.input(CoursePreviewIn, arg_name="body")
@bp.output(CoursePreviewOut)
@bp.doc(summary="What recording this course would give, with nothing saved: the refusal, or its number and "
                "the warnings on planned courses (CLINICAL.md 2.3)", responses=ERRORS)
def preview_course(patient_id, body):
    _, patient = auth.patient_for(patient_id, STAFF, "course.preview")
    session = get_session()
    replaces = service.course_of(patient, body["replaces"]) if "replaces" in body else None
    answer = service.preview_course(session, patient, body["infusions"], body["status"], replaces, utcnow(),
                                    content(), patient.language)
    session.commit()
    return answer


@bp.patch("/patients/<int:patient_id>/pregnancies/<int:pregnancy_id>")
@bp.input(PregnancyPatchIn, arg_name="body")
@bp.output(CorrectedPregnancyOut)
@bp.doc(summary="Correct a reported pregnancy (the fields sent); the timeline and reminders follow",
        responses=ERRORS)
def patch_pregnancy(patient_id, pregnancy_id, body):
    _, patient = auth.patient_for(patient_id, STAFF, "pregnancy.update")
    session = get_session()
    pregnancy = service.update_pregnancy(patient, service.pregnancy_of(patient, pregnancy_id), body)
    session.commit()
    return pregnancy_json(pregnancy)


@bp.delete("/patients/<int:patient_id>/pregnancies/<int:pregnancy_id>")
@bp.output({}, status_code=204)
@bp.doc(summary="Remove a pregnancy reported in error; the timeline and reminders follow",
        responses=[401, 403, 404])
def delete_pregnancy(patient_id, pregnancy_id):
    _, patient = auth.patient_for(patient_id, STAFF, "pregnancy.delete")
    session = get_session()
    service.remove_pregnancy(patient, service.pregnancy_of(patient, pregnancy_id))
    session.commit()
    return ""


@bp.get("/patients/<int:patient_id>/timeline")
@bp.input(TimelineQuery, location="query", arg_name="query")
@bp.output(TimelineOut)
@bp.doc(summary="The patient's timeline with each item's status (family: shared reminder items)",
        responses=[400, 401, 403, 404])
def get_timeline(patient_id, query):
    who, patient = auth.patient_for(patient_id, ("patient", "nurse", "admin", "family"), "timeline.read")
    session = get_session()
    kinds = None
    if who.role == "family":
        kinds = auth.family_link(who, patient.id).shares
    start, end = query.get("from_"), query.get("to")
    if start and end and end < start:
        raise api_error(400, "invalid_value", "'to' is before 'from'.", "to")
    # A record the engine cannot use answers 409 record_needs_correction (services.patients.UnusableRecord).
    result, items = service.timeline_with_status(load_history(session, patient), service.today_of(patient),
                                                 content(), patient.language, kinds, start, end)
    session.commit()
    own = service.protocol_content(patient, content())
    # A safety item says what to watch for (the early signs of CMV, CLINICAL.md 7.2): its words go with it,
    # for every reader alike, so that a relative, who has no content texts of her own, reads them too.
    items = [{**item, "detail": own.item_text(patient.language, item["code"], "detail", item.get("variant"))}
             if item["kind"] == "safety" else item for item in items]
    body = {"items": items, "monitoring_ends": iso(result.monitoring_ends)}
    if who.role in STAFF:  # the care team sees the warnings on her planned courses (CLINICAL.md 2.3)
        body["warnings"] = service.warnings_json(result, own, patient.language)
    return large_list(body)


#: the export's two answers: JSON (ExportOut) or, with format=fhir, a FHIR R4 Bundle
EXPORT_RESPONSES = {200: {"description": "The export: JSON, or with format=fhir a FHIR R4 Bundle of type collection",
                          "content": {"application/json": {"schema": ExportOut},
                                      "application/fhir+json": {"schema": FhirResourceOut}}},
                    400: "format is neither json nor fhir", 401: "Not logged in",
                    403: "The role may not export this patient", 404: "No such patient"}


@bp.get("/patients/<int:patient_id>/export")
@bp.input(ExportQuery, location="query", arg_name="query")
@bp.output(ExportOut)
@bp.doc(summary="Everything recorded about the patient: as JSON (the patient only), or as a FHIR R4 Bundle "
                "(format=fhir: the patient and her care team)", responses=EXPORT_RESPONSES)
def export_patient(patient_id, query):
    session = get_session()
    if query["format"] == "fhir":
        # The care team's read of her whole record is in the audit log like every staff read (patient_for).
        _, patient = auth.patient_for(patient_id, ("patient", *STAFF), "patient.export_fhir")
        body = fhir.bundle(session, patient, content(), utcnow())
        session.commit()
        response = large_list(body)
        response.mimetype = FHIR_JSON
        response.headers["Content-Disposition"] = f'attachment; filename="alemtrack-{patient.id}.fhir.json"'
        return response
    _, patient = auth.patient_for(patient_id, ("patient",), "patient.export")
    body = service.export(session, patient)
    body["patient"] = patient_json(session, patient)
    response = large_list(body)
    response.headers["Content-Disposition"] = f'attachment; filename="alemtrack-{patient.id}.json"'
    return response
