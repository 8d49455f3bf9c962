"""Accounts: password hashing, login with throttling, registration with codes."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Mapping

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from ..models import FamilyLink, InviteCode, LoginAttempt, Patient, User
from ..models.people import new_session_token
from .errors import Conflict, InvalidInput, NotAuthenticated, RateLimited

MIN_PASSWORD = 10
MAX_PASSWORD = 256
#: what a family member receives unless the patient shares more (CLINICAL.md 6, v2 change 13):
#: the kinds that reveal no finding - checklist, appointments (appt.* items: kind
#: appointment, and the pre-course work-up, kind task), medication, diet and the
#: post-infusion safety window. Labs, screenings, contraception and breastfeeding
#: (kind precaution), vaccines and scans only when the patient shares them.
#: Migration 0006 holds a copy: change both or neither.
DEFAULT_FAMILY_SHARES = ["checklist", "appointment", "task", "medication", "diet", "safety"]
#: code alphabet without look-alikes (0/O, 1/I/L): codes are read aloud and typed
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"


def hasher(config: Mapping) -> PasswordHasher:
    return PasswordHasher(time_cost=config["ARGON2_TIME_COST"],
                          memory_cost=config["ARGON2_MEMORY_KIB"], parallelism=1, type=Type.ID)


def check_password_rules(password: str, field: str = "password") -> None:
    if len(password) < MIN_PASSWORD:
        raise InvalidInput(field, f"Use at least {MIN_PASSWORD} characters.", "weak_password")
    if len(password) > MAX_PASSWORD:
        raise InvalidInput(field, f"Use at most {MAX_PASSWORD} characters.")


def normalise_email(email: str) -> str:
    """The form an address is stored and compared in: NFKC (full-width and other
    compatibility forms folded), trimmed, lower case; server.api.schemas.Email gives
    the same and refuses what is not then printable ASCII."""
    from unicodedata import normalize
    return normalize("NFKC", email).strip().lower()


def _account_key(email: str) -> str:
    # Counters are keyed by a hash so the table holds no email addresses.
    return "account:" + hashlib.sha256(normalise_email(email).encode()).hexdigest()[:40]


def _address_key(address: str) -> str:
    return f"address:{address}"


def _registration_key(address: str) -> str:
    return f"register:{address}"


@dataclass
class Throttle:
    """Failed password checks (logins and password changes alike) per account and
    per client address, and refused registrations per address, in one window."""

    window: timedelta
    max_per_account: int
    max_per_address: int
    max_registrations: int

    @classmethod
    def from_config(cls, config: Mapping) -> "Throttle":
        return cls(timedelta(seconds=config["LOGIN_WINDOW_SECONDS"]),
                   config["LOGIN_MAX_PER_ACCOUNT"], config["LOGIN_MAX_PER_ADDRESS"],
                   config["REGISTER_MAX_PER_ADDRESS"])


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


def check_password_throttle(session: Session, email: str, address: str, now: datetime, config: Mapping) -> None:
    """RateLimited while the account or the address has too many recent failed password checks."""
    throttle = Throttle.from_config(config)
    for key, limit in ((_account_key(email), throttle.max_per_account),
                       (_address_key(address), throttle.max_per_address)):
        wait = _retry_after(session, key, limit, throttle.window, now)
        if wait is not None:
            raise RateLimited(wait, "Too many wrong passwords. Try again later.")


def record_password_failure(session: Session, email: str, address: str, now: datetime) -> None:
    session.add_all([LoginAttempt(key=_account_key(email), at=now), LoginAttempt(key=_address_key(address), at=now)])


def authenticate(session: Session, email: str, password: str, address: str, now: datetime,
                 config: Mapping) -> User:
    """The active user with this email and password.

    Raises RateLimited while the account or the address has too many recent
    failures (logins and password changes alike), and the same
    NotAuthenticated for an unknown email, a wrong password and a disabled
    account. A failure is recorded for the caller to commit.
    """
    check_password_throttle(session, email, address, now, config)
    ph = hasher(config)
    found = session.scalar(select(User).where(User.email == normalise_email(email)))
    ok = False
    try:
        ok = ph.verify(found.password_hash if found else _dummy_hash(ph), password)
    except (VerificationError, InvalidHashError):
        ok = False
    if not ok or found is None or not found.active:
        record_password_failure(session, email, address, now)
        raise NotAuthenticated("Email or password is wrong.")
    forget_attempts(session, email)
    if ph.check_needs_rehash(found.password_hash):
        found.password_hash = ph.hash(password)
    return found


def end_all_sessions(account: User) -> None:
    """Every session cookie of this user stops working (a new alternative token)."""
    account.session_token = new_session_token()


#: the code of a wrong current password: its failure is the caller's to commit
WRONG_CURRENT_PASSWORD = "invalid_credentials"


def change_password(session: Session, account: User, current: str, new: str, address: str, now: datetime,
                    config: Mapping) -> None:
    """Give ``account`` the password ``new`` once ``current`` is proven; every
    session of the account ends (the caller logs this one in again).

    A wrong ``current`` counts towards the login throttle of the account and
    the address (a stolen session must not guess the password at will):
    InvalidInput on ``current_password`` with code
    :data:`WRONG_CURRENT_PASSWORD`, the failure recorded for the caller to
    commit; RateLimited once the limit is reached. ``new`` must follow the
    password rules and differ from ``current`` (InvalidInput on
    ``new_password``).
    """
    confirm_password(session, account, current, address, now, config, "current_password",
                     "The current password is wrong.")
    check_password_rules(new, "new_password")
    if new == current:
        raise InvalidInput("new_password", "The new password is the current one: choose another.", "same_password")
    forget_attempts(session, account.email)
    account.password_hash = hasher(config).hash(new)
    end_all_sessions(account)


def check_registration_throttle(session: Session, address: str, now: datetime, config: Mapping) -> None:
    """RateLimited while ``address`` has too many recently refused registrations."""
    throttle = Throttle.from_config(config)
    wait = _retry_after(session, _registration_key(address), throttle.max_registrations, throttle.window, now)
    if wait is not None:
        raise RateLimited(wait, "Too many refused registrations from this network. Try again later.")


def record_registration_refused(session: Session, address: str, now: datetime) -> None:
    """Count a refused registration (unknown, used or expired code, taken email,
    weak password) of ``address``, for the caller to commit: codes cannot be
    guessed, nor emails probed, at speed."""
    session.add(LoginAttempt(key=_registration_key(address), at=now))


def email_taken() -> Conflict:
    """The refusal of an email that names an account already (also when a race at commit finds it)."""
    return Conflict("email_taken", "An account with this email exists. Log in instead.", "email")


def has_account(session: Session, patient_id: int) -> bool:
    return session.scalar(select(User.id).where(User.patient_id == patient_id)) is not None


def issue_enrollment_code(session: Session, patient: Patient, creator: User, now: datetime,
                          days: int) -> tuple[str, datetime]:
    """A new enrollment code for a patient who has no account yet (Conflict otherwise)."""
    if has_account(session, patient.id):
        raise Conflict("has_account", "This patient already has an account.")
    return issue_code(session, patient, "enrollment", creator, now, days)


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


#: the message of every code that cannot be used (unknown, used, expired): never say which
_INVALID_CODE = "This code is unknown, used or expired. Ask for a new one."


def register(session: Session, code: str, email: str, password: str, now: datetime, config: Mapping) -> User:
    """Create the account a valid enrollment or family code entitles to.

    The code is used up by a conditional UPDATE (``... WHERE used_at IS NULL``)
    before the account is made, and only a row it changed counts: of
    registrations racing with one code, on either database, exactly one
    proceeds (on PostgreSQL the others wait for its row lock, then find the
    code used) and the others get InvalidInput on ``code``. The code is only
    used once the caller commits; a refusal after it (a taken email) rolls
    it back with the rest.
    """
    invite = session.scalar(select(InviteCode).where(InviteCode.code_hash == code_hash(code)))
    if invite is None or invite.used_at is not None or invite.expires_at <= now:
        raise InvalidInput("code", _INVALID_CODE, "invalid_code")
    check_password_rules(password)
    email = normalise_email(email)
    if session.scalar(select(User.id).where(User.email == email)) is not None:
        raise email_taken()
    patient = session.get(Patient, invite.patient_id)
    if invite.kind == "enrollment":
        if session.scalar(select(User.id).where(User.patient_id == patient.id)) is not None:
            raise InvalidInput("code", "This patient already has an account.", "invalid_code")
        account = User(email=email, role="patient", clinic_id=patient.clinic_id, patient_id=patient.id)
    else:
        account = User(email=email, role="family", clinic_id=patient.clinic_id)
    # Hashed before the code's row is locked: a racer waits for the lock, not for argon2.
    account.password_hash = hasher(config).hash(password)
    account.created_at = now
    if not consume_code(session, invite.id, now):
        raise InvalidInput("code", _INVALID_CODE, "invalid_code")
    session.add(account)
    session.flush()
    if invite.kind == "family":
        session.add(FamilyLink(patient_id=patient.id, user_id=account.id, shares=list(DEFAULT_FAMILY_SHARES),
                               created_at=now))
    session.execute(update(InviteCode).where(InviteCode.id == invite.id).values(used_by_id=account.id)
                    .execution_options(synchronize_session=False))
    session.expire(invite)
    return account


def consume_code(session: Session, invite_id: int, now: datetime) -> bool:
    """Mark the code used at ``now`` if it is still unused and unexpired; False
    when another transaction used it first (its row count says so: a read
    before the write could not, since both racers read it unused)."""
    result = session.execute(
        update(InviteCode)
        .where(InviteCode.id == invite_id, InviteCode.used_at.is_(None), InviteCode.expires_at > now)
        .values(used_at=now)
        .execution_options(synchronize_session=False))
    return result.rowcount == 1


def confirm_password(session: Session, account: User, password: str, address: str, now: datetime,
                     config: Mapping, field: str = "password", wrong: str = "The password is wrong.") -> None:
    """Prove again that whoever holds this session knows ``account``'s password,
    before something that cannot be undone (DELETE /me).

    A wrong one counts like a failed login, towards the throttle of the
    account and the address: InvalidInput on ``field`` with code
    WRONG_CURRENT_PASSWORD, the failure recorded for the caller to commit;
    RateLimited once the limit is reached."""
    check_password_throttle(session, account.email, address, now, config)
    try:
        hasher(config).verify(account.password_hash, password)
    except (VerificationError, InvalidHashError):
        record_password_failure(session, account.email, address, now)
        raise InvalidInput(field, wrong, WRONG_CURRENT_PASSWORD) from None


def forget_attempts(session: Session, email: str) -> None:
    """Delete the failed-login counter of this address's account (its key is a hash of the email)."""
    session.execute(delete(LoginAttempt).where(LoginAttempt.key == _account_key(email)))
