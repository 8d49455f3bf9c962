"""Sessions (Flask-Login), roles and the object-level authorization every view uses.

The session cookie carries ``"<user id>:<session token>"`` (Flask-Login's
alternative token): replacing the user's token ends every session at once.

The logged-in user is a :class:`Principal`, read with one plain statement on
every request; the few views that change the account itself load it as an
ORM :class:`~server.models.User` (:func:`account`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

from flask import Flask, request
from flask_login import LoginManager, current_user
from sqlalchemy import bindparam, select
from sqlalchemy.orm import joinedload

from .db import DriverStatement, get_connection, get_session
from .errors import api_error
from .models import FamilyLink, Flag, Patient, User
from .models.people import Account
from .services import audit, family, patients

login_manager = LoginManager()
#: a patient record comes with what every rule needs (one query, not three)
WITH_TREATMENT = (joinedload(Patient.courses), joinedload(Patient.pregnancies))
_users = User.__table__
#: every request runs it: built once, and run on the driver (server.db.DriverStatement)
PRINCIPAL_BY_ID = DriverStatement(
    select(_users.c.id, _users.c.email, _users.c.role, _users.c.clinic_id, _users.c.patient_id,
           _users.c.session_token, _users.c.active).where(_users.c.id == bindparam("user_id")))


@dataclass(frozen=True)
class Principal(Account):
    """Who is logged in: the user's row without its password hash.

    The same Flask-Login protocol as :class:`~server.models.User`
    (:class:`~server.models.people.Account`), which a view that logs someone
    in puts in its place for the rest of its request.
    """

    id: int
    email: str
    role: str
    clinic_id: int
    patient_id: int | None
    session_token: str
    active: bool


def init_app(app: Flask) -> None:
    login_manager.init_app(app)
    # "strong" would tie a session to the client's address and user agent, which
    # change on a phone moving between networks; rotation is by token instead.
    login_manager.session_protection = None

    @login_manager.user_loader
    def _load(user_id: str) -> Principal | None:
        ident, _, token = user_id.partition(":")
        if not ident.isdigit() or not token:
            return None
        # The user alone: what a view needs of a patient, it reads itself
        # (patient_for, or the lighter patient_record_for).
        row = PRINCIPAL_BY_ID.first(get_connection(), {"user_id": int(ident)})
        if row is None or not row.active or row.session_token != token:
            return None
        return Principal(**row._asdict())

    @login_manager.unauthorized_handler
    def _unauthorized():
        raise api_error(401, "not_logged_in", "Log in first.")


def user() -> Principal | User:
    """The logged-in user, or a 401."""
    if not current_user.is_authenticated:
        raise api_error(401, "not_logged_in", "Log in first.")
    return current_user._get_current_object()


def account() -> User:
    """The logged-in user's account as an ORM object, for a view that changes it."""
    who = user()
    return who if isinstance(who, User) else get_session().get_one(User, who.id)


def require_role(*roles: str) -> Principal | User:
    """The logged-in user if their role is one of ``roles``; 401 or 403 otherwise."""
    who = user()
    if who.role not in roles:
        raise api_error(403, "forbidden", "Your account cannot do this.")
    return who


def family_link(who: Principal | User, patient_id: int) -> FamilyLink | None:
    return family.active_link(get_session(), who.id, patient_id)


def patient_for(patient_id: int, roles: Iterable[str], action: str | None) -> tuple[Principal | User, Patient]:
    """The patient ``patient_id`` if the logged-in user may do ``action`` to it.

    404 when the patient does not exist *or* is not visible to this user (another
    clinic's, another patient's, a family member without an active link): never
    reveal that it exists. 403 when it is visible but the role may not do this.
    Staff access is written to the audit log; ``action`` None leaves that to a
    view that writes separately (server.db), in its own write transaction.
    """
    who = user()
    session = get_session()
    patient = session.get(Patient, patient_id, options=WITH_TREATMENT)
    _authorize(who, patient, roles)
    if action is not None:
        audit.record(session, who, action, patient.id)
    return who, patient


def patient_record_for(patient_id: int, roles: Iterable[str],
                       action: str | None) -> tuple[Principal | User, patients.Record]:
    """:func:`patient_for` for a view that needs only the patient's
    :class:`~server.services.patients.Record` (the checklist submission): the
    same rule and audit, on the request's connection (no ORM session unless
    staff access is audited or a family member's link is read)."""
    who = user()
    record = patients.load_record(get_connection(), patient_id)
    _authorize(who, record, roles)
    if action is not None and who.is_staff:  # audit.record writes for staff only
        audit.record(get_session(), who, action, record.id)
    return who, record


def _authorize(who: Principal | User, patient: Patient | patients.Record | None, roles: Iterable[str]) -> None:
    """The one rule of :func:`patient_for` and :func:`patient_record_for`."""
    visible = patient is not None and (
        (who.role == "patient" and who.patient_id == patient.id)
        or (who.is_staff and who.clinic_id == patient.clinic_id)
        or (who.role == "family" and family_link(who, patient.id) is not None)
    )
    if not visible:
        raise api_error(404, "not_found", "No such patient.")
    if who.role not in roles:
        raise api_error(403, "forbidden", "Your account cannot do this for this patient.")


def flag_for(flag_id: int, action: str) -> tuple[Principal | User, Flag]:
    """A flag of the logged-in nurse's or admin's clinic; 404 for any other."""
    who = require_role("nurse", "admin")
    session = get_session()
    flag = session.get(Flag, flag_id)
    if flag is None or flag.clinic_id != who.clinic_id:
        raise api_error(404, "not_found", "No such flag.")
    audit.record(session, who, action, flag.patient_id)
    return who, flag


def client_address() -> str:
    return request.remote_addr or "unknown"
