"""Forgotten passwords (issue 16, point 1): a one-time code from the care team, or by mail.

POST /patients/{id}/password-reset (the care team of her clinic), POST /auth/reset
(email, code, new password) and POST /auth/forgot (always 202; a mail with a code
when the account exists and SMTP is configured, read here from a local SMTP server).
"""

from __future__ import annotations

import email.policy
import re
import socket
from datetime import timedelta
from email import message_from_bytes

import pytest
from sqlalchemy import select

from server.models import AuditEvent, PasswordResetCode
from server.timeutil import utcnow

from .conftest import PASSWORD, Client

NEW = "a fresh long passphrase"
CODE = re.compile(r"\b([A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4})\b")


def team_code(client_for, world) -> str:
    response = client_for("nurse").post(f"/api/v1/patients/{world.patient.id}/password-reset")
    assert response.status_code == 201, response.json
    assert response.json["expires_at"]
    return response.json["code"]


def reset(app, email, code, password=NEW):
    client = Client(app)
    return client, client.post("/api/v1/auth/reset", json={"email": email, "code": code, "password": password})


def assert_invalid_code(response):
    assert response.status_code == 400, response.json
    assert response.json["error"]["code"] == "invalid_code" and response.json["error"]["field"] == "code"


def test_a_team_code_sets_a_new_password_once_and_ends_other_sessions(app, world, db, client_for):
    email = world.users["patient"].email
    old_session = client_for("patient")
    code = team_code(client_for, world)
    client, response = reset(app, email, code)
    assert response.status_code == 200, response.json
    assert response.json["user"]["role"] == "patient"
    assert client.get("/api/v1/me").status_code == 200  # logged in by the reset
    assert old_session.get("/api/v1/me").status_code == 401  # every other session ended
    assert Client(app).login(email, PASSWORD).status_code == 401
    assert Client(app).login(email, NEW).status_code == 200
    # single use
    assert_invalid_code(reset(app, email, code, "yet another passphrase")[1])
    # stored hashed only
    rows = db.scalars(select(PasswordResetCode)).all()
    assert rows and all(code not in row.code_hash for row in rows)


def test_the_issue_is_audited_and_a_new_code_replaces_the_old(app, world, db, client_for):
    first = team_code(client_for, world)
    second = team_code(client_for, world)
    assert db.scalar(select(AuditEvent).where(AuditEvent.action == "patient.password_reset",
                                              AuditEvent.patient_id == world.patient.id)) is not None
    assert_invalid_code(reset(app, world.users["patient"].email, first)[1])
    assert reset(app, world.users["patient"].email, second)[1].status_code == 200


def test_a_code_expires_after_a_day(app, world, client_for, frozen_time):
    start = frozen_time(utcnow())
    code = team_code(client_for, world)
    frozen_time(start + timedelta(hours=app.config["PASSWORD_RESET_HOURS"], seconds=1))
    assert_invalid_code(reset(app, world.users["patient"].email, code)[1])


def test_unknown_email_and_wrong_code_get_the_same_answer(app, world, client_for):
    code = team_code(client_for, world)
    unknown = reset(app, "nobody@a.test", code)[1]
    wrong = reset(app, world.users["patient"].email, "AAAA-BBBB-CCCC")[1]
    other = reset(app, world.users["other_patient"].email, code)[1]  # another account's code
    for response in (unknown, wrong, other):
        assert_invalid_code(response)
    assert unknown.json == wrong.json == other.json


def test_a_weak_password_is_refused_and_the_code_still_works(app, world, client_for):
    code = team_code(client_for, world)
    response = reset(app, world.users["patient"].email, code, "short")[1]
    assert response.status_code == 400 and response.json["error"]["code"] == "weak_password"
    assert response.json["error"]["field"] == "password"
    assert reset(app, world.users["patient"].email, code)[1].status_code == 200


def test_wrong_codes_are_throttled_like_logins(app, world, client_for):
    code = team_code(client_for, world)
    email = world.users["patient"].email
    for _ in range(app.config["LOGIN_MAX_PER_ACCOUNT"]):
        assert_invalid_code(reset(app, email, "AAAA-BBBB-CCCC")[1])
    blocked = reset(app, email, code)[1]
    assert blocked.status_code == 429 and blocked.json["error"]["code"] == "rate_limited"
    assert int(blocked.headers["Retry-After"]) >= 1


def test_another_clinics_nurse_gets_404_and_a_patient_403(world, client_for):
    assert client_for("other_nurse").post(f"/api/v1/patients/{world.patient.id}/password-reset").status_code == 404
    assert client_for("patient").post(f"/api/v1/patients/{world.patient.id}/password-reset").status_code == 403
    assert client_for("family").post(f"/api/v1/patients/{world.patient.id}/password-reset").status_code == 403


# --- by mail ----------------------------------------------------------------------------------


@pytest.fixture
def smtp_server():
    """A local SMTP server (aiosmtpd) that keeps every message it receives."""
    from aiosmtpd.controller import Controller

    class Keep:
        def __init__(self):
            self.messages = []

        async def handle_DATA(self, server, session, envelope):
            self.messages.append((envelope.rcpt_tos, message_from_bytes(envelope.content, policy=email.policy.default)))
            return "250 OK"

    with socket.socket() as probe:  # a free port (aiosmtpd's start-up check cannot use port 0)
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    handler = Keep()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port, handler.messages
    finally:
        controller.stop()


@pytest.fixture
def smtp(app, smtp_server):
    port, messages = smtp_server
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=port, SMTP_FROM="team@clinic.test")
    return messages


def forgot(app, email):
    response = Client(app).post("/api/v1/auth/forgot", json={"email": email})
    response.close()  # as a WSGI server does once the answer is sent: the mail goes then
    return response


def test_forgot_mails_a_code_that_works(app, world, db, smtp):
    world.patient.language = "de"
    db.commit()
    email = world.users["patient"].email
    response = forgot(app, email)
    assert response.status_code == 202
    assert len(smtp) == 1
    recipients, message = smtp[0]
    assert recipients == [email]
    assert message["From"] == "team@clinic.test"
    assert "Alemtrack" in message["Subject"]
    text = message.get_content()
    assert "Passwort" in text  # the account's language
    assert "Platelet" not in text and "Patty" not in text  # no health data, no name
    code = CODE.search(text).group(1)
    client, done = reset(app, email, code)
    assert done.status_code == 200, done.json
    assert Client(app).login(email, NEW).status_code == 200


def test_the_mail_goes_after_the_answer(app, world, smtp):
    # the answer's timing must not tell whether the account exists
    response = Client(app).post("/api/v1/auth/forgot", json={"email": world.users["patient"].email})
    assert response.status_code == 202 and smtp == []
    response.close()
    assert len(smtp) == 1


def test_forgot_answers_202_and_sends_nothing_for_an_unknown_email(app, world, smtp):
    assert forgot(app, "nobody@a.test").status_code == 202
    assert smtp == []


def test_forgot_answers_202_and_sends_nothing_without_smtp(app, world, db):
    assert app.config["SMTP_HOST"] is None
    assert forgot(app, world.users["patient"].email).status_code == 202
    assert db.scalars(select(PasswordResetCode)).all() == []


def test_forgot_sends_at_most_a_few_mails_per_window(app, world, smtp):
    for _ in range(app.config["PASSWORD_RESET_MAILS"] + 2):
        assert forgot(app, world.users["family"].email).status_code == 202
    assert len(smtp) == app.config["PASSWORD_RESET_MAILS"]


def test_forgot_answers_202_when_the_mail_server_is_down(app, world):
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=1, SMTP_TIMEOUT_SECONDS=2)
    assert forgot(app, world.users["patient"].email).status_code == 202


def test_a_patient_without_an_account_gets_409_no_account(app, world, db, client_for):
    from server.models import Patient

    p = Patient(clinic_id=world.clinic.id, display_name="Nora Noaccount", sex="female", childbearing_potential=False,
                breastfeeding=False, timezone="Europe/Madrid", language="en", baseline={})
    db.add(p)
    db.commit()
    response = client_for("nurse").post(f"/api/v1/patients/{p.id}/password-reset")
    assert response.status_code == 409 and response.json["error"]["code"] == "no_account"


def test_smtp_settings_come_from_the_environment():
    from server.config import load_config

    config = load_config({"ALEMTRACK_ENV": "development", "ALEMTRACK_SMTP_HOST": "mail.clinic.test",
                          "ALEMTRACK_SMTP_PORT": "587", "ALEMTRACK_SMTP_FROM": "alemtrack@clinic.test",
                          "ALEMTRACK_SMTP_USER": "u", "ALEMTRACK_SMTP_PASSWORD": "p",
                          "ALEMTRACK_SMTP_STARTTLS": "true"})
    assert (config["SMTP_HOST"], config["SMTP_PORT"], config["SMTP_FROM"]) == ("mail.clinic.test", 587,
                                                                                 "alemtrack@clinic.test")
    assert config["SMTP_USER"] == "u" and config["SMTP_PASSWORD"] == "p" and config["SMTP_STARTTLS"] is True
    assert load_config({"ALEMTRACK_ENV": "development"})["SMTP_HOST"] is None
