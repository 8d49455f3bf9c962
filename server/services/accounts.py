"""Accounts: password hashing, login with throttling, registration with codes."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Mapping

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from ..errors import api_error
from ..models import FamilyLink, InviteCode, LoginAttempt, Patient, User
from ..models.people import new_session_token

MIN_PASSWORD = 10
MAX_PASSWORD = 256
#: what a family member receives unless the patient shares more (CLINICAL.md 6; issue 4)
DEFAULT_FAMILY_SHARES = ["lab", "checklist", "diet", "appointment"]
#: code alphabet without look-alikes (0/O, 1/I/L): codes are read aloud and typed
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"


def hasher(config: Mapping) -> PasswordHasher:
    return PasswordHasher(time_cost=config["ARGON2_TIME_COST"],
                          memory_cost=config["ARGON2_MEMORY_KIB"], parallelism=1, type=Type.ID)


def check_password_rules(password: str, field: str = "password") -> None:
    if len(password) < MIN_PASSWORD:
        raise api_error(400, "weak_password", f"Use at least {MIN_PASSWORD} characters.", field)
    if len(password) > MAX_PASSWORD:
        raise api_error(400, "invalid_value", f"Use at most {MAX_PASSWORD} characters.", field)


def normalise_email(email: str) -> str:
    return email.strip().lower()


def _account_key(email: str) -> str:
    # Counters are keyed by a hash so the table holds no email addresses.
    return "account:" + hashlib.sha256(normalise_email(email).encode()).hexdigest()[:40]


@dataclass
class Throttle:
    window: timedelta
    max_per_account: int
    max_per_address: int

    @classmethod
    def from_config(cls, config: Mapping) -> "Throttle":
        return cls(timedelta(seconds=config["LOGIN_WINDOW_SECONDS"]),
                   config["LOGIN_MAX_PER_ACCOUNT"], config["LOGIN_MAX_PER_ADDRESS"])


def _retry_after(session: Session, key: str, limit: int, window: timedelta, now: datetime) -> int | None:
    """Seconds until ``key`` may try again, or None when it is under ``limit``."""
    since = now - window
    count, oldest = session.execute(
        select(func.count(), func.min(LoginAttempt.at)).where(LoginAttempt.key == key, LoginAttempt.at > since)
    ).one()
    if count < limit:
        return None
    if oldest.tzinfo is None:  # aggregate results skip the column's type on some backends
        from datetime import timezone
        oldest = oldest.replace(tzinfo=timezone.utc)
    return max(1, int((oldest + window - now).total_seconds()) + 1)


# A hash to verify against when the email is unknown, so that an unknown email
# takes as long as a wrong password.
_DUMMY_HASHES: dict[tuple, str] = {}


def _dummy_hash(ph: PasswordHasher) -> str:
    key = (ph.time_cost, ph.memory_cost)
    if key not in _DUMMY_HASHES:
        _DUMMY_HASHES[key] = ph.hash(secrets.token_urlsafe(16))
    return _DUMMY_HASHES[key]


def authenticate(session: Session, email: str, password: str, address: str, now: datetime,
                 config: Mapping) -> User:
    """The active user with this email and password.

    Raises 429 (with Retry-After) while the account or the address has too many
    recent failures, and the same 401 for an unknown email, a wrong password and
    a disabled account. A failure is recorded for the caller to commit.
    """
    throttle = Throttle.from_config(config)
    account = _account_key(email)
    for key, limit in ((account, throttle.max_per_account), (f"address:{address}", throttle.max_per_address)):
        wait = _retry_after(session, key, limit, throttle.window, now)
        if wait is not None:
            raise api_error(429, "rate_limited", "Too many failed logins. Try again later.",
                            headers={"Retry-After": str(wait)})
    ph = hasher(config)
    found = session.scalar(select(User).where(User.email == normalise_email(email)))
    ok = False
    try:
        ok = ph.verify(found.password_hash if found else _dummy_hash(ph), password)
    except (VerificationError, InvalidHashError):
        ok = False
    if not ok or found is None or not found.active:
        session.add_all([LoginAttempt(key=account, at=now), LoginAttempt(key=f"address:{address}", at=now)])
        raise api_error(401, "invalid_credentials", "Email or password is wrong.")
    session.execute(delete(LoginAttempt).where(LoginAttempt.key == account))
    if ph.check_needs_rehash(found.password_hash):
        found.password_hash = ph.hash(password)
    return found


def end_all_sessions(account: User) -> None:
    """Every session cookie of this user stops working (a new alternative token)."""
    account.session_token = new_session_token()


def change_password(account: User, current: str, new: str, config: Mapping) -> None:
    ph = hasher(config)
    try:
        ph.verify(account.password_hash, current)
    except (VerificationError, InvalidHashError):
        raise api_error(400, "invalid_credentials", "The current password is wrong.", "current_password") from None
    check_password_rules(new, "new_password")
    account.password_hash = ph.hash(new)
    end_all_sessions(account)


def new_code() -> str:
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(12))
    return "-".join(raw[i:i + 4] for i in range(0, 12, 4))


def code_hash(code: str) -> str:
    cleaned = "".join(ch for ch in code.upper() if ch.isalnum())
    return hashlib.sha256(cleaned.encode()).hexdigest()


def issue_code(session: Session, patient: Patient, kind: str, creator: User | None, now: datetime,
               days: int) -> tuple[str, datetime]:
    """A new single-use code for ``patient``; only its hash is stored."""
    code = new_code()
    expires = now + timedelta(days=days)
    session.add(InviteCode(code_hash=code_hash(code), kind=kind, patient_id=patient.id,
                           created_by_id=creator.id if creator else None, created_at=now, expires_at=expires))
    return code, expires


def register(session: Session, code: str, email: str, password: str, now: datetime, config: Mapping) -> User:
    """Create the account a valid enrollment or family code entitles to."""
    invite = session.scalar(select(InviteCode).where(InviteCode.code_hash == code_hash(code)))
    if invite is None or invite.used_at is not None or invite.expires_at <= now:
        raise api_error(400, "invalid_code", "This code is unknown, used or expired. Ask for a new one.", "code")
    check_password_rules(password)
    email = normalise_email(email)
    if session.scalar(select(User.id).where(User.email == email)) is not None:
        raise api_error(409, "email_taken", "An account with this email exists. Log in instead.", "email")
    patient = session.get(Patient, invite.patient_id)
    if invite.kind == "enrollment":
        if session.scalar(select(User.id).where(User.patient_id == patient.id)) is not None:
            raise api_error(400, "invalid_code", "This patient already has an account.", "code")
        account = User(email=email, role="patient", clinic_id=patient.clinic_id, patient_id=patient.id)
    else:
        account = User(email=email, role="family", clinic_id=patient.clinic_id)
    account.password_hash = hasher(config).hash(password)
    account.created_at = now
    session.add(account)
    session.flush()
    if invite.kind == "family":
        session.add(FamilyLink(patient_id=patient.id, user_id=account.id, shares=list(DEFAULT_FAMILY_SHARES),
                               created_at=now))
    invite.used_at = now
    invite.used_by_id = account.id
    return account
