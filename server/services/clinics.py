"""A clinic's own record and site settings, and its staff's accounts."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Mapping

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..engine.content.model import Content
from ..engine.inputs import resolve_settings
from ..models import Clinic, PasswordResetCode, User
from . import accounts, figures, passwords, reminders
from .errors import Conflict, NotFound


def clinic_of(session: Session, staff: User) -> Clinic:
    return session.get_one(Clinic, staff.clinic_id)


def clinic_by_id(session: Session, clinic_id: int) -> Clinic:
    """The clinic of an API key (lab import)."""
    return session.get_one(Clinic, clinic_id)


def update(clinic: Clinic, fields: Mapping[str, Any]) -> None:
    """Change the clinic's name, phone or emergency number (the fields given)."""
    for name, value in fields.items():
        setattr(clinic, name, value)


def replace_settings(session: Session, clinic: Clinic, settings: Mapping[str, Any], content: Content) -> None:
    """Replace the clinic's overrides of the site defaults (None: the default).

    Unknown names and bad values are refused, naming the setting; every
    patient of the clinic is re-planned, since windows and times may move.
    """
    overrides = {name: value for name, value in settings.items() if value is not None}
    resolve_settings(overrides, content)
    clinic.settings = overrides
    reminders.mark_stale(session, clinic_id=clinic.id)
    figures.forget_figures(session, clinic_id=clinic.id)


def disable_account(session: Session, admin: User, user_id: int) -> User:
    """Disable an account of the admin's clinic; its sessions end at once."""
    account = session.get(User, user_id)
    if account is None or account.clinic_id != admin.clinic_id:
        raise NotFound("No such user.")
    if account.id == admin.id:
        raise Conflict("conflict", "You cannot disable your own account.")
    account.active = False
    accounts.end_all_sessions(account)
    return account


# --- the clinic's staff (issue 17, point 6) ------------------------------------------------

#: what an admin gives a member of the care team
STAFF_ROLES = ("nurse", "admin")


@dataclass(frozen=True)
class StaffMember:
    """An account of the care team as the admin's screen shows it; ``pending``: she
    has a set-up code she has not used yet (invited, or a new code given)."""

    account: User
    pending: bool


def staff_of(session: Session, clinic_id: int) -> list[StaffMember]:
    """The clinic's nurses and admins, active or not, by email."""
    accounts_ = list(session.scalars(select(User).where(User.clinic_id == clinic_id, User.role.in_(STAFF_ROLES))
                                     .order_by(User.email)))
    pending = set(session.scalars(select(PasswordResetCode.user_id).where(
        PasswordResetCode.user_id.in_([a.id for a in accounts_]), PasswordResetCode.channel == "invite",
        PasswordResetCode.used_at.is_(None))))
    return [StaffMember(a, a.id in pending) for a in accounts_]


def staff_member(session: Session, admin: User, user_id: int) -> User:
    """A nurse or admin of the admin's clinic; NotFound for any other account
    (another clinic's, a patient's, a family member's)."""
    account = session.get(User, user_id)
    if account is None or account.clinic_id != admin.clinic_id or account.role not in STAFF_ROLES:
        raise NotFound("No such member of staff.")
    return account


def invite_staff(session: Session, admin: User, email: str, role: str, now: datetime,
                 config: Mapping) -> tuple[User, str, datetime]:
    """A new account of the admin's clinic with ``role``, and the one-time code
    with which its owner sets her password (the "forgotten password" screen).
    Conflict ``email_taken`` when the address has an account."""
    email = accounts.normalise_email(email)
    if session.scalar(select(User.id).where(User.email == email)) is not None:
        raise accounts.email_taken()
    # Nobody knows this password: she sets her own with the code.
    account = User(email=email, role=role, clinic_id=admin.clinic_id, created_at=now, active=True,
                   password_hash=accounts.hasher(config).hash(secrets.token_urlsafe(32)))
    session.add(account)
    session.flush()
    code, expires = passwords.issue_for_staff(session, account, admin, now, config)
    return account, code, expires


def update_staff(session: Session, admin: User, user_id: int, fields: Mapping[str, Any]) -> User:
    """Change the role of a member of staff, or disable (``active`` false: her
    sessions end at once) or enable her account. An admin changes neither her
    own role nor her own access (Conflict ``own_account``), so a clinic always
    keeps an admin."""
    account = staff_member(session, admin, user_id)
    if account.id == admin.id and (fields.get("role", account.role) != account.role
                                   or fields.get("active", True) is False):
        raise Conflict("own_account", "You cannot change your own role or disable your own account.",
                       "role" if "role" in fields else "active")
    if "role" in fields:
        account.role = fields["role"]
    if "active" in fields and fields["active"] != account.active:
        account.active = fields["active"]
        if not account.active:
            accounts.end_all_sessions(account)
    return account


def new_staff_code(session: Session, admin: User, user_id: int, now: datetime,
                   config: Mapping) -> tuple[str, datetime]:
    """A new set-up code for a member of staff (a lost invitation or a forgotten
    password); her older codes stop working. Conflict ``inactive`` for a disabled account."""
    account = staff_member(session, admin, user_id)
    if not account.active:
        raise Conflict("inactive", "This account is disabled: enable it first.")
    return passwords.issue_for_staff(session, account, admin, now, config)
