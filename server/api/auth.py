"""Logins and accounts: CSRF token, login, logout, register, password change, who am I."""

from __future__ import annotations

import smtplib

from flask import after_this_request, current_app, request
from flask import session as cookie_session
from flask_login import login_user, logout_user
from sqlalchemy.exc import IntegrityError

from .. import auth, mail
from ..db import get_session
from ..services import accounts, family, passwords, push_endpoints
from ..services.errors import DomainError, InvalidInput, NotAuthenticated
from ..timeutil import utcnow
from ..web import csrf as csrf_guard
from . import bp
from .schemas import CsrfOut, ForgotIn, LoginIn, LoginOut, PasswordIn, RegisterIn, ResetIn, UserOut

ERRORS = [400, 401, 403, 409, 413, 429]


def user_json(user) -> dict:
    return {"id": user.id, "email": user.email, "role": user.role, "clinic_id": user.clinic_id,
            "patient_id": _patient_id(user)}


def _patient_id(user) -> int | None:
    if user.role == "patient":
        return user.patient_id
    if user.role == "family":
        return family.linked_patient_id(get_session(), user.id)
    return None


@bp.get("/auth/csrf")
@bp.output(CsrfOut)
@bp.doc(summary="A CSRF token for the X-CSRF-Token header of state changes")
def csrf():
    return {"csrf_token": csrf_guard.token()}


@bp.post("/auth/login")
@bp.input(LoginIn, arg_name="body")
@bp.output(LoginOut)
@bp.doc(summary="Log in", responses=ERRORS)
def login(body):
    session = get_session()
    try:
        account = accounts.authenticate(session, body["email"], body["password"], auth.client_address(),
                                        utcnow(), current_app.config)
    except NotAuthenticated:
        session.commit()  # keep the failed attempt: it counts towards the limit
        raise
    session.commit()
    cookie_session.clear()  # a new session on login: nothing of the old one carries over
    login_user(account)
    return {"user": user_json(account), "csrf_token": csrf_guard.token()}


@bp.post("/auth/logout")
@bp.output({}, status_code=204)
@bp.doc(summary="Log out: every session of this user ends", responses=ERRORS)
def logout():
    account = auth.user()
    accounts.end_all_sessions(account)
    # The PWA sends this device's push endpoint (optional): the device stops hearing this account.
    body = request.get_json(silent=True) if request.is_json else None
    push_endpoints.forget_device(get_session(), account, body.get("endpoint") if isinstance(body, dict) else None)
    get_session().commit()
    logout_user()
    cookie_session.clear()
    return ""


@bp.post("/auth/register")
@bp.input(RegisterIn, arg_name="body")
@bp.output(UserOut, status_code=201)
@bp.doc(summary="Create an account with an enrollment or family invite code", responses=ERRORS)
def register(body):
    session = get_session()
    address, now = auth.client_address(), utcnow()
    accounts.check_registration_throttle(session, address, now, current_app.config)
    try:
        account = accounts.register(session, body["code"], body["email"], body["password"], now,
                                    current_app.config)
        session.commit()
    except IntegrityError:
        _count_refused_registration(session, address, now)
        raise accounts.email_taken() from None  # the race at commit: the same refusal
    except DomainError:
        _count_refused_registration(session, address, now)
        raise
    return user_json(account), 201


def _count_refused_registration(session, address, now) -> None:
    """Nothing of the refused registration stays; the refusal itself is counted."""
    session.rollback()
    accounts.record_registration_refused(session, address, now)
    session.commit()


@bp.post("/auth/password")
@bp.input(PasswordIn, arg_name="body")
@bp.output(LoginOut)
@bp.doc(summary="Change password: every other session ends", responses=ERRORS)
def change_password(body):
    account = auth.user()
    session = get_session()
    try:
        accounts.change_password(session, account, body["current_password"], body["new_password"],
                                 auth.client_address(), utcnow(), current_app.config)
    except InvalidInput as error:
        if error.code == accounts.WRONG_CURRENT_PASSWORD:
            session.commit()  # keep the failed attempt: it counts towards the login limit
        raise
    session.commit()
    cookie_session.clear()
    login_user(account)  # this session goes on with the new token
    return {"user": user_json(account), "csrf_token": csrf_guard.token()}


@bp.post("/auth/reset")
@bp.input(ResetIn, arg_name="body")
@bp.output(LoginOut)
@bp.doc(summary="Set a new password with a one-time reset code; every other session ends, this one starts",
        responses=ERRORS)
def reset_password(body):
    session = get_session()
    try:
        account = passwords.reset(session, body["email"], body["code"], body["password"], auth.client_address(),
                                  utcnow(), current_app.config)
    except InvalidInput as error:
        if error.field == "code":
            session.commit()  # keep the failed attempt: it counts towards the login limit
        raise
    session.commit()
    cookie_session.clear()
    login_user(account)
    return {"user": user_json(account), "csrf_token": csrf_guard.token()}


@bp.post("/auth/forgot")
@bp.input(ForgotIn, arg_name="body")
@bp.output({}, status_code=202)
@bp.doc(summary="Mail a one-time reset code when the account exists and SMTP is configured; always 202",
        responses=[400, 403, 413])
def forgot_password(body):
    session = get_session()
    message = passwords.forgot(session, body["email"], utcnow(), current_app.config)
    session.commit()
    if message is not None:
        # Sent once the answer has gone (the WSGI close hook): how long the answer takes
        # must not tell whether the account exists.
        config, logger = current_app.config, current_app.logger

        def send():
            try:
                mail.send(config, message.to, message.subject, message.body)
            except (OSError, smtplib.SMTPException):
                logger.exception("the reset mail could not be sent")

        @after_this_request
        def send_when_answered(response):
            response.call_on_close(send)
            return response
    return "", 202


@bp.get("/me")
@bp.output(UserOut)
@bp.doc(summary="The logged-in user", responses=[401])
def me():
    return user_json(auth.user())
