"""The staff's clinic: its details, site settings, audit log, and its staff's accounts."""

from __future__ import annotations

from datetime import datetime, time, timedelta, timezone

from flask import current_app

from .. import auth
from ..db import get_session
from ..engine.inputs import resolve_settings
from ..models import Clinic
from ..services import audit, clinics
from ..timeutil import utcnow
from . import bp, content, iso
from .schemas import (
    AuditListOut,
    AuditQuery,
    ClinicOut,
    ClinicPatchIn,
    InviteOut,
    SettingsIn,
    SettingsOut,
    StaffChangedOut,
    StaffInvitedOut,
    StaffInviteIn,
    StaffListOut,
    StaffPatchIn,
)

STAFF = ("nurse", "admin")


def clinic_json(clinic: Clinic) -> dict:
    return {"id": clinic.id, "name": clinic.name, "phone": clinic.phone, "emergency_number": clinic.emergency_number}


def _jsonable(value):
    if isinstance(value, tuple):
        return "-".join(_jsonable(v) for v in value)
    if hasattr(value, "isoformat"):
        text = value.isoformat()
        return text[:5] if len(text) == 8 and text[2] == ":" else text  # times as HH:MM
    return value


def settings_json(clinic: Clinic) -> dict:
    effective = resolve_settings(clinic.settings or {}, content())
    return {"settings": dict(clinic.settings or {}),
            "effective": {name: _jsonable(value) for name, value in effective.items()}}


@bp.get("/clinic")
@bp.output(ClinicOut)
@bp.doc(summary="The staff member's clinic", responses=[401, 403])
def get_clinic():
    staff = auth.require_role(*STAFF)
    return clinic_json(clinics.clinic_of(get_session(), staff))


@bp.patch("/clinic")
@bp.input(ClinicPatchIn, arg_name="body")
@bp.output(ClinicOut)
@bp.doc(summary="Change the clinic's name, phone or emergency number (admin)", responses=[400, 401, 403, 413])
def patch_clinic(body):
    admin = auth.require_role("admin")
    session = get_session()
    clinic = clinics.clinic_of(session, admin)
    clinics.update(clinic, body)
    session.commit()
    return clinic_json(clinic)


@bp.get("/clinic/settings")
@bp.output(SettingsOut)
@bp.doc(summary="The clinic's site settings (content/settings.toml): overrides and effective values",
        responses=[401, 403])
def get_settings():
    staff = auth.require_role(*STAFF)
    return settings_json(clinics.clinic_of(get_session(), staff))


@bp.put("/clinic/settings")
@bp.input(SettingsIn, arg_name="body")
@bp.output(SettingsOut)
@bp.doc(summary="Replace the clinic's site-setting overrides (null or absent: the default)",
        responses=[400, 401, 403, 413])
def put_settings(body):
    staff = auth.require_role(*STAFF)
    session = get_session()
    clinic = clinics.clinic_of(session, staff)
    clinics.replace_settings(session, clinic, body["settings"], content())
    session.commit()
    return settings_json(clinic)


@bp.get("/audit")
@bp.input(AuditQuery, location="query", arg_name="query")
@bp.output(AuditListOut)
@bp.doc(summary="The clinic's audit log, newest first, with filters (admin)", responses=[400, 401, 403])
def list_audit(query):
    admin = auth.require_role("admin")
    session = get_session()
    since = until = None
    if query.get("from_"):
        since = datetime.combine(query["from_"], time(), timezone.utc)
    if query.get("to"):
        until = datetime.combine(query["to"] + timedelta(days=1), time(), timezone.utc)
    found = audit.events(session, admin.clinic_id, query["limit"], query.get("before_id"),
                         actor_id=query.get("actor_id"), patient_id=query.get("patient_id"),
                         action=query.get("action"), since=since, until=until)
    # Ids only, never a name: the log's answer carries nothing about the patient (test_submissions).
    return {"items": [{"id": e.id, "actor_id": e.actor_id, "action": e.action, "patient_id": e.patient_id,
                       "at": iso(e.at)} for e in found]}


def staff_json(member: clinics.StaffMember) -> dict:
    account = member.account
    return {"id": account.id, "email": account.email, "role": account.role, "active": account.active,
            "pending": member.pending, "created_at": iso(account.created_at)}


@bp.get("/staff")
@bp.output(StaffListOut)
@bp.doc(summary="The clinic's nurses and admins (admin)", responses=[401, 403])
def list_staff():
    admin = auth.require_role("admin")
    return {"items": [staff_json(m) for m in clinics.staff_of(get_session(), admin.clinic_id)]}


@bp.post("/staff")
@bp.input(StaffInviteIn, arg_name="body")
@bp.output(StaffInvitedOut, status_code=201)
@bp.doc(summary="Invite a nurse or an admin: a new account and the one-time code to set its password (admin)",
        responses=[400, 401, 403, 409, 413])
def invite_staff(body):
    admin = auth.require_role("admin")
    session = get_session()
    account, code, expires = clinics.invite_staff(session, admin, body["email"], body["role"], utcnow(),
                                                  current_app.config)
    auth.record_access(admin, "staff.invite", None)
    session.commit()
    return {"member": staff_json(clinics.StaffMember(account, True)), "code": code, "expires_at": iso(expires)}, 201


@bp.patch("/staff/<int:user_id>")
@bp.input(StaffPatchIn, arg_name="body")
@bp.output(StaffChangedOut)
@bp.doc(summary="Change a member of staff's role, or disable or enable the account (admin)",
        responses=[400, 401, 403, 404, 409, 413])
def patch_staff(user_id, body):
    admin = auth.require_role("admin")
    session = get_session()
    account = clinics.update_staff(session, admin, user_id, body)
    auth.record_access(admin, "staff.update", None)
    session.commit()
    member = next(m for m in clinics.staff_of(session, admin.clinic_id) if m.account.id == account.id)
    return staff_json(member)


@bp.post("/staff/<int:user_id>/code")
@bp.output(InviteOut, status_code=201)
@bp.doc(summary="A new one-time code with which a member of staff sets her password (admin)",
        responses=[401, 403, 404, 409])
def new_staff_code(user_id):
    admin = auth.require_role("admin")
    session = get_session()
    code, expires = clinics.new_staff_code(session, admin, user_id, utcnow(), current_app.config)
    auth.record_access(admin, "staff.code", None)
    session.commit()
    return {"code": code, "expires_at": iso(expires)}, 201


@bp.post("/users/<int:user_id>/disable")
@bp.output({}, status_code=204)
@bp.doc(summary="Disable an account of the clinic: its sessions end at once (admin)", responses=[401, 403, 404, 409])
def disable_user(user_id):
    admin = auth.require_role("admin")
    session = get_session()
    account = clinics.disable_account(session, admin, user_id)
    auth.record_access(admin, "user.disable", account.patient_id)
    session.commit()
    return ""
