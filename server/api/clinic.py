"""The staff's clinic: its details, site settings, audit log and disabling accounts."""

from __future__ import annotations

from .. import auth
from ..db import get_session
from ..engine.inputs import resolve_settings
from ..models import Clinic
from ..services import audit, clinics
from . import bp, content, iso
from .schemas import AuditListOut, AuditQuery, ClinicOut, ClinicPatchIn, SettingsIn, SettingsOut

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
@bp.doc(summary="The clinic's audit log, newest first (admin)", responses=[400, 401, 403])
def list_audit(query):
    admin = auth.require_role("admin")
    items = [
        {"id": e.id, "actor_id": e.actor_id, "action": e.action, "patient_id": e.patient_id, "at": iso(e.at)}
        for e in audit.events(get_session(), admin.clinic_id, query["limit"], query.get("before_id"))
    ]
    return {"items": items}


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
