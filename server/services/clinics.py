"""A clinic's own record and site settings, and its staff's accounts."""

from __future__ import annotations

from typing import Any, Mapping

from sqlalchemy.orm import Session

from ..engine.content.model import Content
from ..engine.inputs import resolve_settings
from ..models import Clinic, User
from . import accounts, figures, reminders
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
