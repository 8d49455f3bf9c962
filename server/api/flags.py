"""The care team's flag queue: acknowledge, resolve, and snoozes of a question."""

from __future__ import annotations

from datetime import timedelta

from .. import auth
from ..db import get_session
from ..models import User
from ..services import flags as service
from ..timeutil import local_today, utcnow
from . import bp, content, iso, large_list
from .schemas import (
    ChecklistReadOut,
    FlagListOut,
    FlagOut,
    FlagQuery,
    QueueOut,
    QueueQuery,
    ResolvedListOut,
    ResolvedQuery,
    ResolveIn,
    SnoozeIn,
    SnoozeListOut,
    SnoozeOut,
    ToReadListOut,
    ToReadQuery,
)

STAFF = ("nurse", "admin")


def flag_json(flag) -> dict:
    return {
        "id": flag.id, "patient_id": flag.patient_id, "level": flag.level, "source": flag.source,
        "reasons": list(flag.reasons), "created_at": iso(flag.created_at), "status": flag.status,
        "acknowledged_by": flag.acknowledged_by_id, "acknowledged_at": iso(flag.acknowledged_at),
        "resolved_by": flag.resolved_by_id, "resolved_at": iso(flag.resolved_at),
        "outcome": flag.outcome, "note": flag.note,
    }


@bp.get("/flags")
@bp.input(FlagQuery, location="query", arg_name="query")
@bp.output(FlagListOut)
@bp.doc(summary="The clinic's flags, most severe first, then oldest first", responses=[400, 401, 403])
def list_flags(query):
    nurse = auth.require_role(*STAFF)
    session = get_session()
    items = [flag_json(f) for f in service.queue(session, nurse.clinic_id, query.get("status"), query["limit"])]
    auth.record_access(nurse, "flags.list", None)
    session.commit()
    return large_list({"items": items})


@bp.post("/flags/<int:flag_id>/ack")
@bp.output(FlagOut)
@bp.doc(summary="Acknowledge a flag", responses=[401, 403, 404, 409])
def ack_flag(flag_id):
    nurse, flag = auth.flag_for(flag_id, "flag.ack")
    service.acknowledge(flag, nurse, utcnow())
    get_session().commit()
    return flag_json(flag)


@bp.post("/flags/<int:flag_id>/resolve")
@bp.input(ResolveIn, arg_name="body")
@bp.output(FlagOut)
@bp.doc(summary="Resolve a flag with its outcome and a note", responses=[400, 401, 403, 404, 409, 413])
def resolve_flag(flag_id, body):
    nurse, flag = auth.flag_for(flag_id, "flag.resolve")
    service.resolve(flag, nurse, body["outcome"], body.get("note"), utcnow())
    get_session().commit()
    return flag_json(flag)


def snooze_json(entry) -> dict:
    return {"id": entry.id, "code": entry.code, "until": iso(entry.until), "reason": entry.reason}


@bp.post("/patients/<int:patient_id>/snoozes")
@bp.input(SnoozeIn, arg_name="body")
@bp.output(SnoozeOut, status_code=201)
@bp.doc(summary="Stop flags for one question code of this patient, up to 1 month",
        responses=[400, 401, 403, 404, 413])
def add_snooze(patient_id, body):
    nurse, patient = auth.patient_for(patient_id, STAFF, "snooze.create")
    session = get_session()
    entry = service.snooze(session, patient, body["code"], body["until"], body.get("reason"), nurse,
                           local_today(patient.timezone), utcnow(), content())
    session.commit()
    return snooze_json(entry), 201


@bp.get("/patients/<int:patient_id>/snoozes")
@bp.output(SnoozeListOut)
@bp.doc(summary="The patient's snoozes still in force", responses=[401, 403, 404])
def list_snoozes(patient_id):
    _, patient = auth.patient_for(patient_id, STAFF, "snoozes.read")
    session = get_session()
    items = [snooze_json(s) for s in service.snoozes_in_force(session, patient.id, local_today(patient.timezone))]
    session.commit()
    return {"items": items}


# --- the care team's working queue (issue 17): per patient, resolved, checklists to read -------


@bp.get("/flags/queue")
@bp.input(QueueQuery, location="query", arg_name="query")
@bp.output(QueueOut)
@bp.doc(summary="The clinic's flags not yet resolved, one group per patient (unseen first, then most severe, "
                "then newest)", responses=[400, 401, 403])
def flag_queue(query):
    nurse = auth.require_role(*STAFF)
    session = get_session()
    groups = service.patient_queue(session, nurse.clinic_id, query.get("status"), query.get("level"))
    items = [{**{k: v for k, v in g.items() if k not in ("level_rank", "flags")},
              "oldest_at": iso(g["oldest_at"]), "newest_at": iso(g["newest_at"]),
              "flags": [{**flag_json(f), "acknowledged_by_email": email} for f, email in g["flags"]]}
             for g in groups]
    latest = max((f["id"] for g in items for f in g["flags"]), default=None)
    auth.record_access(nurse, "flags.list", None)
    session.commit()
    return large_list({"items": items, "latest_flag_id": latest})


@bp.get("/flags/resolved")
@bp.input(ResolvedQuery, location="query", arg_name="query")
@bp.output(ResolvedListOut)
@bp.doc(summary="The clinic's resolved flags, last resolved first, with outcome, note, who and when",
        responses=[400, 401, 403, 404])
def resolved_flags(query):
    patient_id = query.get("patient_id")
    if patient_id is not None:
        nurse, _ = auth.patient_for(patient_id, STAFF, "flags.read")
    else:
        nurse = auth.require_role(*STAFF)
        auth.record_access(nurse, "flags.list", None)
    session = get_session()
    items = [{**flag_json(f), "display_name": name, "protocol": protocol, "acknowledged_by_email": acked,
              "resolved_by_email": by}
             for f, name, acked, by, protocol in service.resolved(session, nurse.clinic_id, query["limit"], patient_id)]
    session.commit()
    return large_list({"items": items})


@bp.get("/checklists/to-read")
@bp.input(ToReadQuery, location="query", arg_name="query")
@bp.output(ToReadListOut)
@bp.doc(summary="The clinic's routine checklists (a note, or signs noted for the next review: no flag), newest first",
        responses=[400, 401, 403])
def checklists_to_read(query):
    nurse = auth.require_role(*STAFF)
    session = get_session()
    # Answer dates are each patient's local date; a day either way at the edge does not matter here.
    since = local_today("UTC") - timedelta(days=query["days"])
    items = [{"id": c.id, "patient_id": c.patient_id, "display_name": name, "protocol": protocol,
              "answered_on": iso(c.answered_on),
              "level": c.level, "reasons": list(c.reasons), "answers": dict(c.answers), "note": c.note}
             for c, name, protocol in service.checklists_to_read(session, nurse.clinic_id, since, query["limit"])]
    auth.record_access(nurse, "checklists.list", None)
    session.commit()
    return large_list({"items": items})


@bp.post("/checklists/<int:checklist_id>/read")
@bp.output(ChecklistReadOut)
@bp.doc(summary="Mark a routine checklist read: it leaves the list to read; the patient's history says the team "
                "read it. Idempotent (the first reader and time stay).", responses=[401, 403, 404, 409])
def mark_checklist_read(checklist_id):
    nurse, checklist = auth.checklist_for(checklist_id, "checklist.mark_read")
    session = get_session()
    service.mark_read(checklist, nurse, utcnow())
    reader = session.get(User, checklist.read_by_id)
    answer = {"id": checklist.id, "patient_id": checklist.patient_id, "read_at": iso(checklist.read_at),
              "read_by": checklist.read_by_id, "read_by_email": reader.email}
    session.commit()
    return answer
