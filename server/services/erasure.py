"""Erasure of an account and, for a patient, of everything held about her (DELETE /me; GDPR Art. 17).

What stays is what the law keeps: the audit log of staff access to her record.
Its rows hold ids, an action name and an instant,
never a value, and they have no foreign key to the patient or the account
(migration 0004), so they outlive both. One row is added to it: that the
account was erased, so that the care team learns why a patient is gone.

The rows are deleted with Core statements, children before parents (both
databases check foreign keys at once); the caller commits, so either all of
it goes or none. tests/api/test_erasure.py walks every table of the models
and fails when one still names the erased person.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session

from ..models import (
    CalendarFeed,
    Checklist,
    Course,
    CourseChange,
    Delivery,
    FamilyLink,
    Flag,
    InviteCode,
    LabImportKey,
    LabResult,
    LabSubmission,
    NurseNote,
    PasswordResetCode,
    Patient,
    Pregnancy,
    PushSubscription,
    Reminder,
    Snooze,
    User,
)
from . import accounts, audit
from .errors import Forbidden


def erase(session: Session, account: User, now: datetime) -> None:
    """Erase ``account``: a patient with her health data, a family member with
    their access. Staff accounts are disabled by an admin, never erased here
    (Forbidden): the audit log names them."""
    if account.role == "patient":
        _erase_patient(session, account, now)
    elif account.role == "family":
        _erase_family_member(session, account, now)
    else:
        raise Forbidden("Staff accounts are disabled by an admin of the clinic.")


def _own_devices(session: Session, user_id: int) -> None:
    """The account's push subscriptions and every message queued or sent to them or to it."""
    devices = select(PushSubscription.id).where(PushSubscription.user_id == user_id)
    session.execute(delete(Delivery).where(or_(Delivery.user_id == user_id, Delivery.subscription_id.in_(devices))))
    session.execute(delete(PushSubscription).where(PushSubscription.user_id == user_id))


def _account_itself(session: Session, account: User, patient_id: int | None, now: datetime) -> None:
    user_id = account.id
    # Codes of other patients this account made or used keep being used, without naming it.
    session.execute(update(InviteCode).where(InviteCode.created_by_id == user_id).values(created_by_id=None))
    session.execute(update(InviteCode).where(InviteCode.used_by_id == user_id).values(used_by_id=None))
    session.execute(delete(PasswordResetCode).where(PasswordResetCode.user_id == user_id))
    session.execute(update(PasswordResetCode).where(PasswordResetCode.created_by_id == user_id)
                    .values(created_by_id=None))
    accounts.forget_attempts(session, account.email)
    audit.record_erasure(session, account, patient_id, now)
    session.flush()
    session.execute(delete(User).where(User.id == user_id))


def _erase_family_member(session: Session, account: User, now: datetime) -> None:
    _own_devices(session, account.id)
    session.execute(delete(CalendarFeed).where(CalendarFeed.user_id == account.id))
    session.execute(delete(FamilyLink).where(FamilyLink.user_id == account.id))
    _account_itself(session, account, None, now)


def _erase_patient(session: Session, account: User, now: datetime) -> None:
    pid = account.patient_id
    _own_devices(session, account.id)
    # Messages about her to anyone (family members, the care team's flag pushes).
    session.execute(delete(Delivery).where(or_(
        Delivery.patient_id == pid,
        Delivery.reminder_id.in_(select(Reminder.id).where(Reminder.patient_id == pid)),
        Delivery.flag_id.in_(select(Flag.id).where(Flag.patient_id == pid)))))
    # The import keys of her imported results (issue 19): a replay of that file would import them again.
    session.execute(delete(LabImportKey).where(
        LabImportKey.submission_id.in_(select(LabSubmission.id).where(LabSubmission.patient_id == pid))))
    # The care team's notes and course corrections about her (issue 17) go with her record.
    for model in (Reminder, Flag, LabResult, LabSubmission, Checklist, Snooze, Course, Pregnancy, CalendarFeed,
                  FamilyLink, InviteCode, NurseNote, CourseChange):
        session.execute(delete(model).where(model.patient_id == pid))
    _account_itself(session, account, pid, now)
    session.execute(delete(Patient).where(Patient.id == pid))
