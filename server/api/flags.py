"""The care team's flag queue: acknowledge, resolve, and snoozes of a question."""

from __future__ import annotations

from .. import auth
from ..db import get_session
from ..services import flags as service
from ..timeutil import local_today, utcnow
from . import bp, content, iso, large_list
from .schemas import FlagListOut, FlagOut, FlagQuery, ResolveIn, SnoozeIn, SnoozeListOut, SnoozeOut

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
