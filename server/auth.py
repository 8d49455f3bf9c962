"""Sessions (Flask-Login), roles and the object-level authorization every view uses.

The session cookie carries ``"<user id>:<session token>"`` (Flask-Login's
alternative token): replacing the user's token ends every session at once.
"""

from __future__ import annotations

from typing import Iterable

from flask import Flask, request
from flask_login import LoginManager, current_user
from sqlalchemy.orm import joinedload

from .db import get_session, separate_transaction
from .errors import api_error
from .models import Checklist, FamilyLink, Flag, Patient, User
from .services import audit, family
from .timeutil import utcnow

login_manager = LoginManager()
#: a patient record comes with what every rule needs (one query, not three)
WITH_TREATMENT = (joinedload(Patient.clinic), joinedload(Patient.courses), joinedload(Patient.pregnancies))


def init_app(app: Flask) -> None:
    login_manager.init_app(app)
    # "strong" would tie a session to the client's address and user agent, which
    # change on a phone moving between networks; rotation is by token instead.
    login_manager.session_protection = None

    @login_manager.user_loader
    def _load(user_id: str) -> User | None:
        ident, _, token = user_id.partition(":")
        if not ident.isdigit() or not token:
            return None
        found = get_session().get(User, int(ident))
        if found is None or not found.active or found.session_token != token:
            return None
        return found

    @login_manager.unauthorized_handler
    def _unauthorized():
        raise api_error(401, "not_logged_in", "Log in first.")


def user() -> User:
    """The logged-in user, or a 401."""
    if not current_user.is_authenticated:
        raise api_error(401, "not_logged_in", "Log in first.")
    return current_user._get_current_object()


def require_role(*roles: str) -> User:
    """The logged-in user if their role is one of ``roles``; 401 or 403 otherwise."""
    who = user()
    if who.role not in roles:
        record_denial(who, "denied.role", None)
        raise api_error(403, "forbidden", "Your account cannot do this.")
    return who


def family_link(who: User, patient_id: int) -> FamilyLink | None:
    return family.active_link(get_session(), who.id, patient_id)


def patient_for(patient_id: int, roles: Iterable[str], action: str | None) -> tuple[User, Patient]:
    """The patient ``patient_id`` if the logged-in user may do ``action`` to it.

    404 when the patient does not exist *or* is not visible to this user (another
    clinic's, another patient's, a family member without an active link): never
    reveal that it exists. 403 when it is visible but the role may not do this.
    Staff access is written to the audit log (``action``; None: the view does it).
    """
    who = user()
    patient = get_session().get(Patient, patient_id, options=WITH_TREATMENT)
    visible = patient is not None and (
        (who.role == "patient" and who.patient_id == patient.id)
        or (who.is_staff and who.clinic_id == patient.clinic_id)
        or (who.role == "family" and family_link(who, patient.id) is not None)
    )
    if not visible:
        record_denial(who, "denied.patient", _own_clinics(who, patient))
        raise api_error(404, "not_found", "No such patient.")
    if who.role not in roles:
        record_denial(who, "denied.role", patient.id)
        raise api_error(403, "forbidden", "Your account cannot do this for this patient.")
    if action is not None:
        record_access(who, action, patient.id)
    return who, patient


def record_access(who: User, action: str, patient_id: int | None) -> None:
    """Write staff access to the audit log: in the request's transaction when
    it writes (both or neither), at once in a transaction of its own when it
    only reads."""
    if not who.is_staff:
        return
    session = get_session()
    if session.info.get("read_only"):
        with separate_transaction() as writer:
            audit.record(writer, who, action, patient_id, utcnow())
    else:
        audit.record(session, who, action, patient_id, utcnow())


def record_denial(who: User, action: str, patient_id: int | None) -> None:
    """Write a refused access to the audit log, for every role (ASVS V7.2.2): in a
    transaction of its own when the request only reads; otherwise the request's
    transaction is rolled back first (a refused request writes nothing else) and
    the event committed alone."""
    session = get_session()
    if session.info.get("read_only"):
        with separate_transaction() as writer:
            audit.record_denial(writer, who, action, patient_id)
        return
    session.rollback()
    audit.record_denial(session, who, action, patient_id)
    session.commit()


def _own_clinics(who: User, patient: Patient | None) -> int | None:
    """The id of a patient refused to ``who`` when it is of their own clinic: another
    clinic's patient, or none, is not named in this clinic's log."""
    return patient.id if patient is not None and patient.clinic_id == who.clinic_id else None


def flag_for(flag_id: int, action: str) -> tuple[User, Flag]:
    """A flag of the logged-in nurse's or admin's clinic; 404 for any other."""
    who = require_role("nurse", "admin")
    flag = get_session().get(Flag, flag_id)
    if flag is None or flag.clinic_id != who.clinic_id:
        record_denial(who, "denied.flag", None)
        raise api_error(404, "not_found", "No such flag.")
    record_access(who, action, flag.patient_id)
    return who, flag


def checklist_for(checklist_id: int, action: str) -> tuple[User, Checklist]:
    """A checklist of a patient of the logged-in nurse's or admin's clinic; 404 for any other."""
    who = require_role("nurse", "admin")
    session = get_session()
    checklist = session.get(Checklist, checklist_id)
    patient = None if checklist is None else session.get(Patient, checklist.patient_id)
    if patient is None or patient.clinic_id != who.clinic_id:
        record_denial(who, "denied.checklist", None)
        raise api_error(404, "not_found", "No such checklist.")
    record_access(who, action, patient.id)
    return who, checklist


def client_address() -> str:
    return request.remote_addr or "unknown"
