"""Clinics, the people in them and how they get in."""

from __future__ import annotations

import secrets
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint, func
from sqlalchemy import false as sa_false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..db import Base
from ..timeutil import utcnow

if TYPE_CHECKING:
    from .treatment import Course

ROLES = ("patient", "family", "nurse", "admin")
STAFF_ROLES = ("nurse", "admin")


def new_session_token() -> str:
    return secrets.token_urlsafe(24)


class Account:
    """Flask-Login's user protocol and the role test, over ``id``,
    ``session_token``, ``active`` and ``role``."""

    is_authenticated = True
    is_anonymous = False

    @property
    def is_active(self) -> bool:
        return self.active

    def get_id(self) -> str:
        return f"{self.id}:{self.session_token}"

    @property
    def is_staff(self) -> bool:
        return self.role in STAFF_ROLES


class Clinic(Base):
    __tablename__ = "clinics"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    #: shown with every piece of advice (CLINICAL.md: every advice says whom to call)
    phone: Mapped[str] = mapped_column(String(40))
    #: the country's emergency number, e.g. 112
    emergency_number: Mapped[str] = mapped_column(String(20))
    #: the care team's site settings that differ from content/settings.toml
    settings: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Patient(Base):
    __tablename__ = "patients"
    __table_args__ = (Index("ix_patients_clinic_id_hospital_number", "clinic_id", "hospital_number", unique=True),)

    id: Mapped[int] = mapped_column(primary_key=True)
    clinic_id: Mapped[int] = mapped_column(ForeignKey("clinics.id"), index=True)
    display_name: Mapped[str] = mapped_column(String(120))
    #: the hospital's number for her, set by the care team; lab imports match on it within the clinic
    hospital_number: Mapped[str | None] = mapped_column(String(40))
    #: how the care team calls her, as typed (digits, blanks, + - . ( )); never in logs, pushes or family views
    phone: Mapped[str | None] = mapped_column(String(30))
    date_of_birth: Mapped[date | None]
    sex: Mapped[str] = mapped_column(String(10))
    #: the protocol she follows (content/<code>/, CLINICAL.md 1): "ms" or "cll", set at enrolment
    protocol: Mapped[str] = mapped_column(String(10), default="ms", server_default="ms")
    childbearing_potential: Mapped[bool] = mapped_column(default=False)
    breastfeeding: Mapped[bool] = mapped_column(default=False)
    #: IANA name: reminders and "today" are the patient's local time
    timezone: Mapped[str] = mapped_column(String(64))
    language: Mapped[str] = mapped_column(String(5))
    #: analyte -> pre-treatment value (platelets and creatinine rules use them)
    baseline: Mapped[dict[str, Any]] = mapped_column(default=dict)
    #: cervical screening (screen.hpv); None: the default by sex (true for female) (CLINICAL.md 1, v2)
    cervical_screening: Mapped[bool | None]
    #: a later end for the listeria diet of her latest course, set by the care team (CLINICAL.md 1, v2)
    listeria_until: Mapped[date | None]
    #: lock-screen pushes and calendar titles show item names (CLINICAL.md 5: off by default)
    detailed_notifications: Mapped[bool] = mapped_column(default=False, server_default=sa_false())
    #: reminder rows are planned up to this instant; None: stale, the clock re-plans.
    #: After a failed planning it is set so that the clock tries again later (backing off).
    reminders_until: Mapped[datetime | None] = mapped_column(index=True)
    #: why the clock's last planning of her reminders failed (an error class, never a value); None: it worked
    plan_error: Mapped[str | None] = mapped_column(String(80))
    #: failed plannings in a row (0 once one works)
    plan_attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    clinic: Mapped[Clinic] = relationship(lazy="joined")
    pregnancies: Mapped[list["Pregnancy"]] = relationship(
        order_by="Pregnancy.reported_on", cascade="all, delete-orphan"
    )
    #: in the order they were recorded (the engine sorts and checks them)
    courses: Mapped[list[Course]] = relationship(order_by="Course.id")


#: the clinic's list by name (services.patient_list): a page is a walk along it that stops at
#: the page, in either order (a few equal names sorted by id on the way), and so is every
#: part of the other orders whose patients share one value (no lab overdue, no flag...)
Index("ix_patients_clinic_name", Patient.clinic_id, func.lower(Patient.display_name), Patient.id)


class Pregnancy(Base):
    __tablename__ = "pregnancies"

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), index=True)
    reported_on: Mapped[date]
    ended_on: Mapped[date | None]


class User(Account, Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(10))
    clinic_id: Mapped[int] = mapped_column(ForeignKey("clinics.id"), index=True)
    #: for a patient account: the patient record it belongs to
    patient_id: Mapped[int | None] = mapped_column(ForeignKey("patients.id"), unique=True)
    #: Flask-Login's alternative id: part of the session cookie; replacing it ends
    #: every session of this user (logout, password change, disable).
    session_token: Mapped[str] = mapped_column(String(64), default=new_session_token)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    patient: Mapped[Patient | None] = relationship()


class InviteCode(Base):
    """A single-use, expiring code: a patient's enrollment or a family invitation.

    Only a hash of the code is stored; the code itself is shown once.
    """

    __tablename__ = "invite_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(12))  # "enrollment" | "family"
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    used_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class PasswordResetCode(Base):
    """A single-use code that sets a new password for one account (issue 16): made
    by the care team for a patient, or mailed to the account's address.

    Only a hash of the code is stored; the code itself is shown or mailed once.
    """

    __tablename__ = "password_reset_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    #: "team" (a nurse gave it) or "email" (POST /auth/forgot mailed it)
    channel: Mapped[str] = mapped_column(String(8))
    #: the nurse who issued it; None for a mailed one
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]


class FamilyLink(Base):
    """A family member's access to one patient, until the patient revokes it."""

    __tablename__ = "family_links"
    __table_args__ = (UniqueConstraint("patient_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # No index of its own: the unique constraint begins with it (migration 0003).
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    #: item kinds whose reminders this person receives (CLINICAL.md section 6)
    shares: Mapped[list[Any]] = mapped_column(default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None]

    user: Mapped[User] = relationship(lazy="joined")


class LoginAttempt(Base):
    """A failed login, counted per account and per address across all workers."""

    __tablename__ = "login_attempts"
    __table_args__ = (Index("ix_login_attempts_key_at", "key", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: "account:<sha256 of the email>" or "address:<ip>"; no email in clear
    key: Mapped[str] = mapped_column(String(100))
    at: Mapped[datetime] = mapped_column(default=utcnow)
