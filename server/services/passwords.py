"""Forgotten passwords: one-time reset codes from the care team or by email (issue 16, point 1).

A reset code belongs to one account, is used once, expires
(``PASSWORD_RESET_HOURS``) and is stored as a hash only. Using one is
throttled like a login (the same counters), answers the same for an unknown
email and a wrong code, and ends every session of the account.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Mapping

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from ..models import FamilyLink, LoginAttempt, PasswordResetCode, Patient, User
from . import accounts
from .errors import Conflict, InvalidInput

#: the message of every code that cannot be used, whatever the reason (unknown
#: email, wrong, used or expired code): never say which
INVALID_RESET = "This email and code do not match a valid reset code. Ask for a new code."

#: the mail with a code, per language: plain text, no health data
MAIL = {
    "en": ("Your Alemtrack reset code",
           "Someone asked to reset the password of your Alemtrack account.\n\n"
           "Your one-time code: {code}\n\n"
           "Open Alemtrack, choose “Forgot your password?” and type this code with your email and a new "
           "password. The code works once, until {expires} (UTC).\n\n"
           "If you did not ask for it, ignore this mail: your password stays as it is."),
    "es": ("Su código para restablecer Alemtrack",
           "Alguien ha pedido restablecer la contraseña de su cuenta de Alemtrack.\n\n"
           "Su código de un solo uso: {code}\n\n"
           "Abra Alemtrack, elija «¿Ha olvidado la contraseña?» y escriba este código con su correo y una "
           "contraseña nueva. El código sirve una vez, hasta el {expires} (UTC).\n\n"
           "Si no lo ha pedido usted, ignore este correo: su contraseña no cambia."),
    "de": ("Ihr Alemtrack-Code zum Zurücksetzen",
           "Jemand hat verlangt, das Passwort Ihres Alemtrack-Kontos zurückzusetzen.\n\n"
           "Ihr Einmal-Code: {code}\n\n"
           "Öffnen Sie Alemtrack, wählen Sie „Passwort vergessen?“ und geben Sie diesen Code mit Ihrer "
           "E-Mail-Adresse und einem neuen Passwort ein. Der Code gilt einmal, bis {expires} (UTC).\n\n"
           "Wenn Sie das nicht verlangt haben, ignorieren Sie diese E-Mail: Ihr Passwort bleibt, wie es ist."),
    "it": ("Il suo codice per reimpostare Alemtrack",
           "Qualcuno ha chiesto di reimpostare la password del suo account Alemtrack.\n\n"
           "Il suo codice monouso: {code}\n\n"
           "Apra Alemtrack, scelga «Password dimenticata?» e scriva questo codice con la sua email e una "
           "nuova password. Il codice vale una volta, fino al {expires} (UTC).\n\n"
           "Se non l'ha chiesto lei, ignori questa email: la password resta com'è."),
}


@dataclass(frozen=True)
class Mail:
    """A message for server.mail.send: who, subject, plain text."""

    to: str
    subject: str
    body: str


def _hours(config: Mapping) -> timedelta:
    return timedelta(hours=config["PASSWORD_RESET_HOURS"])


def _new(session: Session, account: User, channel: str, creator: User | None, now: datetime,
         config: Mapping) -> tuple[str, datetime]:
    """A new code for ``account``; the codes it had before stop working (only the latest counts)."""
    session.execute(update(PasswordResetCode)
                    .where(PasswordResetCode.user_id == account.id, PasswordResetCode.used_at.is_(None))
                    .values(used_at=now).execution_options(synchronize_session=False))
    code = accounts.new_code()
    expires = now + _hours(config)
    session.add(PasswordResetCode(code_hash=accounts.code_hash(code), user_id=account.id, channel=channel,
                                  created_by_id=creator.id if creator else None, created_at=now,
                                  expires_at=expires))
    return code, expires


def issue_for_patient(session: Session, patient: Patient, nurse: User, now: datetime,
                      config: Mapping) -> tuple[str, datetime]:
    """A reset code for the account of ``patient``, made by her care team (the caller
    checks the nurse may act on her). Conflict ``no_account`` when she has none yet
    (she needs an enrollment code instead)."""
    account = session.scalar(select(User).where(User.patient_id == patient.id))
    if account is None or not account.active:
        raise Conflict("no_account", "This patient has no account yet: give her an enrollment code instead.")
    return _new(session, account, "team", nurse, now, config)


def issue_for_staff(session: Session, account: User, admin: User, now: datetime,
                    config: Mapping) -> tuple[str, datetime]:
    """A code with which a member of the care team sets her password: at her
    invitation, or again when she lost it (the caller checks the admin may act
    on her). Used like any reset code (:func:`reset`); channel ``invite``."""
    return _new(session, account, "invite", admin, now, config)


def _mail_key(email: str) -> str:
    return "forgot:" + hashlib.sha256(accounts.normalise_email(email).encode()).hexdigest()[:40]


def _language(session: Session, account: User) -> str:
    patient_id = account.patient_id
    if account.role == "family":
        patient_id = session.scalar(select(FamilyLink.patient_id).where(FamilyLink.user_id == account.id,
                                                                        FamilyLink.revoked_at.is_(None)))
    language = session.scalar(select(Patient.language).where(Patient.id == patient_id)) if patient_id else None
    return language if language in MAIL else "en"


def forgot(session: Session, email: str, now: datetime, config: Mapping) -> Mail | None:
    """The mail with a new reset code for the account of ``email``, for the caller to
    send after commit; None when there is no such active account, when SMTP is not
    configured, or when this address had ``PASSWORD_RESET_MAILS`` mails in the login
    window already (nobody can fill a mailbox). The caller answers the same in every case."""
    if not config.get("SMTP_HOST"):
        return None
    account = session.scalar(select(User).where(User.email == accounts.normalise_email(email)))
    if account is None or not account.active:
        return None
    since = now - timedelta(seconds=config["LOGIN_WINDOW_SECONDS"])
    key = _mail_key(email)
    sent = session.scalar(select(func.count()).where(LoginAttempt.key == key, LoginAttempt.at > since))
    if sent >= config["PASSWORD_RESET_MAILS"]:
        return None
    session.add(LoginAttempt(key=key, at=now))
    code, expires = _new(session, account, "email", None, now, config)
    subject, body = MAIL[_language(session, account)]
    return Mail(account.email, subject, body.format(code=code, expires=expires.strftime("%Y-%m-%d %H:%M")))


def reset(session: Session, email: str, code: str, password: str, address: str, now: datetime,
          config: Mapping) -> User:
    """Give the account of ``email`` the password ``password`` with a valid reset ``code``.

    RateLimited while the account or the address has too many recent failures
    (the login's counters). InvalidInput on ``password`` (``weak_password``)
    before anything is looked up; then the same InvalidInput on ``code``
    (``invalid_code``) for an unknown email and for a wrong, used or expired
    code, the failure recorded for the caller to commit. On success the code is
    used (a conditional UPDATE: of two racers one wins), every session of the
    account ends, and the account is returned for the caller to log in.
    """
    accounts.check_password_throttle(session, email, address, now, config)
    accounts.check_password_rules(password)
    account = session.scalar(select(User).where(User.email == accounts.normalise_email(email)))
    row = None
    if account is not None and account.active:
        row = session.scalar(select(PasswordResetCode).where(PasswordResetCode.code_hash == accounts.code_hash(code),
                                                             PasswordResetCode.user_id == account.id))
    ph = accounts.hasher(config)
    new_hash = ph.hash(password)  # also for a refusal: both answers take as long
    if row is None or not _use(session, row.id, now):
        accounts.record_password_failure(session, email, address, now)
        raise InvalidInput("code", INVALID_RESET, "invalid_code")
    accounts.forget_attempts(session, account.email)
    account.password_hash = new_hash
    accounts.end_all_sessions(account)
    return account


def _use(session: Session, row_id: int, now: datetime) -> bool:
    result = session.execute(
        update(PasswordResetCode)
        .where(PasswordResetCode.id == row_id, PasswordResetCode.used_at.is_(None),
               PasswordResetCode.expires_at > now)
        .values(used_at=now).execution_options(synchronize_session=False))
    return result.rowcount == 1
