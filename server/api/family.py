"""A patient's family: invites, who sees what, revoking access."""

from __future__ import annotations

from flask import current_app

from .. import auth
from ..db import get_session
from ..errors import api_error
from ..services import accounts
from ..services import family as service
from ..timeutil import utcnow
from . import bp, content, iso
from .schemas import FamilyListOut, FamilyMemberOut, FamilyViewOut, InviteOut, SharesIn


@bp.post("/patients/<int:patient_id>/family-invites")
@bp.output(InviteOut, status_code=201)
@bp.doc(summary="A single-use, expiring code that lets one family member register", responses=[401, 403, 404])
def invite_family(patient_id):
    who, patient = auth.patient_for(patient_id, ("patient",), "family.invite")
    session = get_session()
    code, expires = accounts.issue_code(session, patient, "family", who, utcnow(),
                                        current_app.config["FAMILY_INVITE_DAYS"])
    session.commit()
    return {"code": code, "expires_at": iso(expires)}, 201


@bp.get("/patients/<int:patient_id>/family")
@bp.output(FamilyListOut)
@bp.doc(summary="The family members who can see this patient's reminders", responses=[401, 403, 404])
def list_family(patient_id):
    _, patient = auth.patient_for(patient_id, ("patient",), "family.read")
    items = [
        {"user_id": link.user_id, "email": link.user.email, "shares": list(link.shares),
         "created_at": iso(link.created_at)}
        for link in service.active_links(get_session(), patient.id)
    ]
    return {"items": items}


@bp.delete("/patients/<int:patient_id>/family/<int:user_id>")
@bp.output({}, status_code=204)
@bp.doc(summary="Remove a family member: their access ends at once", responses=[401, 403, 404])
def remove_family(patient_id, user_id):
    _, patient = auth.patient_for(patient_id, ("patient",), "family.remove")
    session = get_session()
    if not service.revoke(session, patient.id, user_id, utcnow()):
        raise api_error(404, "not_found", "No such family member.")
    session.commit()
    return ""


@bp.put("/patients/<int:patient_id>/family/<int:user_id>/shares")
@bp.input(SharesIn, arg_name="body")
@bp.output(FamilyMemberOut)
@bp.doc(summary="Choose which kinds of reminders a family member receives (never answers, results or flags)",
        responses=[400, 401, 403, 404, 413])
def set_shares(patient_id, user_id, body):
    _, patient = auth.patient_for(patient_id, ("patient",), "family.shares")
    kinds = {item.kind for item in content().items}
    for index, kind in enumerate(body["shares"]):
        if kind not in kinds:
            raise api_error(400, "unknown_code", f"{kind!r} is not a kind of reminder.", f"shares[{index}]")
    session = get_session()
    link = service.active_link(session, user_id, patient.id)
    if link is None:
        raise api_error(404, "not_found", "No such family member.")
    link.shares = sorted(set(body["shares"]))
    session.commit()
    return {"user_id": link.user_id, "email": link.user.email, "shares": list(link.shares),
            "created_at": iso(link.created_at)}


@bp.get("/patients/<int:patient_id>/family/me")
@bp.output(FamilyViewOut)
@bp.doc(summary="For the logged-in family member: the patient's name, the kinds shared with them and the "
                "clinic's phone and emergency number (nothing of her health)", responses=[401, 403, 404])
def family_view(patient_id):
    who, patient = auth.patient_for(patient_id, ("family",), "family.view")
    link = auth.family_link(who, patient.id)
    clinic = patient.clinic
    return {"patient_id": patient.id, "display_name": patient.display_name, "protocol": patient.protocol,
            "shares": sorted(link.shares),
            "clinic": {"id": clinic.id, "name": clinic.name, "phone": clinic.phone,
                       "emergency_number": clinic.emergency_number}}
