"""Sessions, logins and their guards (API.md section 2: "Errors" and "Sessions").

How a session ends (logout, password change, disable), what a login answers,
CSRF and cross-origin refusal, login throttling kept in the database, and the
flags of the session cookie.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from server import create_app
from server.models import Checklist, Clinic, FamilyLink, LoginAttempt, User
from server.timeutil import utcnow

from ..conftest import TEST_CONFIG, join_test_transaction
from .conftest import PASSWORD, Client, new_client_id, today_madrid

COOKIE = "alemtrack_session"
NEW_PASSWORD = "a brand new passphrase"


# --- helpers -------------------------------------------------------------------------


def session_cookie(client: Client) -> str | None:
    cookie = client.http.get_cookie(COOKIE)
    return cookie.value if cookie is not None else None


def replay(app, cookie_value: str, path: str = "/api/v1/me"):
    """GET ``path`` from a fresh client that holds nothing but ``cookie_value``."""
    fresh = app.test_client()
    fresh.set_cookie(COOKIE, cookie_value)
    return fresh.get(path)


def assert_error(response, status: int, code: str) -> None:
    assert response.status_code == status, (response.status_code, response.get_data(as_text=True))
    assert response.is_json, response.get_data(as_text=True)
    assert response.json["error"]["code"] == code, response.json
    assert isinstance(response.json["error"]["message"], str) and response.json["error"]["message"]


def assert_logged_out(response) -> None:
    assert_error(response, 401, "not_logged_in")


def second_app(first_app, connection):
    """Another instance of the app (another worker process) on the same database."""
    other = create_app({**TEST_CONFIG, "DATABASE_URL": first_app.config["DATABASE_URL"]})
    join_test_transaction(other, connection)
    return other


def login_body(email: str, password: str = PASSWORD) -> dict:
    return {"email": email, "password": password}


def attempts(db, key_prefix: str) -> int:
    db.expire_all()
    return db.scalar(select(func.count()).select_from(LoginAttempt).where(LoginAttempt.key.startswith(key_prefix)))


# --- logout --------------------------------------------------------------------------


def test_logout_refuses_the_old_session_cookie(app, client_for):
    patient = client_for("patient")
    assert patient.get("/api/v1/me").status_code == 200
    old = session_cookie(patient)
    assert old

    assert replay(app, old).status_code == 200  # the copy works while the session lives
    response = patient.post("/api/v1/auth/logout")
    assert response.status_code == 204, response.get_data(as_text=True)

    assert_logged_out(replay(app, old))
    assert_logged_out(patient.get("/api/v1/me"))


def test_logout_ends_the_users_other_sessions(app, world, client_for):
    phone = client_for("nurse")
    laptop = client_for("nurse")
    other_user = client_for("admin")
    assert session_cookie(phone) != session_cookie(laptop)
    laptop_cookie = session_cookie(laptop)
    assert laptop.get("/api/v1/me").status_code == 200

    assert phone.post("/api/v1/auth/logout").status_code == 204

    assert_logged_out(laptop.get("/api/v1/me"))
    assert_logged_out(replay(app, laptop_cookie))
    assert_logged_out(laptop.get("/api/v1/flags"))
    # Another user's session is not touched.
    assert other_user.get("/api/v1/me").status_code == 200


def test_logout_needs_a_session(client_for):
    assert_logged_out(client_for("anonymous").post("/api/v1/auth/logout"))


def test_a_new_login_after_logout_works(client_for, world):
    nurse = client_for("nurse")
    assert nurse.post("/api/v1/auth/logout").status_code == 204
    # The logout emptied the session, its CSRF token with it: fetch a new one.
    nurse.csrf = nurse.get("/api/v1/auth/csrf").json["csrf_token"]
    again = nurse.login(world.users["nurse"].email)
    assert again.status_code == 200, again.json
    assert nurse.get("/api/v1/me").json["id"] == world.users["nurse"].id


# --- password change ------------------------------------------------------------------


def test_password_change_ends_other_sessions_and_keeps_this_one(app, world, client_for):
    email = world.users["patient"].email
    changer = client_for("patient")
    other = client_for("patient")
    other_cookie = session_cookie(other)
    changer_old_cookie = session_cookie(changer)

    response = changer.post("/api/v1/auth/password",
                            json={"current_password": PASSWORD, "new_password": NEW_PASSWORD})
    assert response.status_code == 200, response.json
    assert response.json["user"]["id"] == world.users["patient"].id
    changer.csrf = response.json["csrf_token"]

    # The changing session goes on (with its new cookie) ...
    me = changer.get("/api/v1/me")
    assert me.status_code == 200 and me.json["email"] == email
    assert changer.get(f"/api/v1/patients/{world.patient.id}/checklist").status_code == 200
    # ... and can still change state with the token it was given.
    sent = changer.post(f"/api/v1/patients/{world.patient.id}/checklists",
                        json={"client_id": new_client_id(), "answered_on": today_madrid().isoformat(),
                              "answers": {}, "note": None})
    assert sent.status_code == 201, sent.json

    # Every other session is over, and so is the cookie from before the change.
    assert_logged_out(other.get("/api/v1/me"))
    assert_logged_out(replay(app, other_cookie))
    assert_logged_out(replay(app, changer_old_cookie))

    # The old password no longer logs in; the new one does.
    old = Client(app).login(email, PASSWORD)
    assert_error(old, 401, "invalid_credentials")
    new = Client(app).login(email, NEW_PASSWORD)
    assert new.status_code == 200, new.json
    assert new.json["user"]["id"] == world.users["patient"].id


def test_password_change_with_a_wrong_current_password_changes_nothing(app, world, client_for):
    changer = client_for("nurse")
    other = client_for("nurse")
    response = changer.post("/api/v1/auth/password",
                            json={"current_password": "not the password", "new_password": NEW_PASSWORD})
    assert response.status_code == 400, response.json
    assert response.json["error"]["field"] == "current_password"
    assert changer.get("/api/v1/me").status_code == 200
    assert other.get("/api/v1/me").status_code == 200
    assert Client(app).login(world.users["nurse"].email, NEW_PASSWORD).status_code == 401
    assert Client(app).login(world.users["nurse"].email, PASSWORD).status_code == 200


def test_password_change_needs_a_session(client_for):
    response = client_for("anonymous").post("/api/v1/auth/password",
                                            json={"current_password": PASSWORD, "new_password": NEW_PASSWORD})
    assert_logged_out(response)


# --- disabled accounts ----------------------------------------------------------------


def test_a_disabled_user_is_logged_out_and_cannot_log_in(app, world, db, client_for):
    nurse = client_for("nurse")
    nurse_cookie = session_cookie(nurse)
    admin = client_for("admin")
    nurse_id = world.users["nurse"].id

    response = admin.post(f"/api/v1/users/{nurse_id}/disable")
    assert response.status_code == 204, response.get_data(as_text=True)

    assert_logged_out(nurse.get("/api/v1/me"))
    assert_logged_out(replay(app, nurse_cookie))
    assert_logged_out(nurse.get("/api/v1/flags"))

    disabled = Client(app).login(world.users["nurse"].email, PASSWORD)
    wrong = Client(app).login(world.users["other_nurse"].email, "not the password")
    assert_error(disabled, 401, "invalid_credentials")
    assert disabled.status_code == wrong.status_code == 401
    assert disabled.json == wrong.json
    assert disabled.get_data() == wrong.get_data()
    # The admin's own session goes on.
    assert admin.get("/api/v1/me").status_code == 200


# --- login answers ---------------------------------------------------------------------


def test_unknown_email_and_wrong_password_get_the_same_401(app, world):
    unknown = Client(app).login("nobody@nowhere.test", PASSWORD)
    wrong = Client(app).login(world.users["patient"].email, "not the password")
    assert unknown.status_code == wrong.status_code == 401
    assert unknown.is_json and wrong.is_json
    assert unknown.json == wrong.json
    assert unknown.json["error"]["code"] == "invalid_credentials"
    assert unknown.get_data() == wrong.get_data()


def test_login_starts_a_new_session(app, world):
    client = Client(app)  # GET /auth/csrf gave it an anonymous session
    before = session_cookie(client)
    assert before
    old_token = client.csrf

    response = client.login(world.users["patient"].email)
    assert response.status_code == 200, response.json
    after = session_cookie(client)
    assert after and after != before
    assert response.json["csrf_token"] != old_token

    # The pre-login cookie is no login, and nothing of the old session carries over:
    # the CSRF token handed out before the login is no longer accepted.
    assert_logged_out(replay(app, before))
    stale = client.post("/api/v1/auth/logout", headers={"X-CSRF-Token": old_token})
    assert_error(stale, 403, "csrf_failed")
    assert client.get("/api/v1/me").status_code == 200

    # Logging in again from the same client rotates once more.
    client.login(world.users["patient"].email)
    assert session_cookie(client) not in (before, after)


def test_a_failed_login_does_not_log_out_the_current_session(client_for):
    patient = client_for("patient")
    response = patient.login("patty@a.test", "not the password")
    assert response.status_code == 401
    assert patient.get("/api/v1/me").status_code == 200


# --- CSRF and cross-origin ---------------------------------------------------------------

def _checklist_request(world):
    return ("patient", "POST", f"/api/v1/patients/{world.patient.id}/checklists",
            {"client_id": new_client_id(), "answered_on": today_madrid().isoformat(),
             "answers": {"bleed.mucosal": True}, "note": "csrf"})


def _settings_request(world):
    return ("nurse", "PUT", "/api/v1/clinic/settings", {"settings": {"lab_window_days": 3}})


def _clinic_request(world):
    return ("admin", "PATCH", "/api/v1/clinic", {"name": "Renamed by a forged request"})


def _family_request(world):
    return ("patient", "DELETE", f"/api/v1/patients/{world.patient.id}/family/{world.users['family'].id}", None)


def _state(db, world) -> tuple:
    """Everything the four requests above could write."""
    db.expire_all()
    clinic = db.get(Clinic, world.clinic.id)
    link = db.scalar(select(FamilyLink).where(FamilyLink.patient_id == world.patient.id,
                                              FamilyLink.user_id == world.users["family"].id))
    return (db.scalar(select(func.count()).select_from(Checklist)), clinic.name, dict(clinic.settings or {}),
            link.revoked_at)


STATE_CHANGES = {"POST": _checklist_request, "PUT": _settings_request, "PATCH": _clinic_request,
                 "DELETE": _family_request}


def _send(client: Client, method, path, body, headers):
    kwargs = {"headers": headers}
    if body is not None:
        kwargs["json"] = body
    return client.http.open(path, method=method, **kwargs)


@pytest.mark.parametrize("method", list(STATE_CHANGES))
@pytest.mark.parametrize("token", ["missing", "garbage", "not_ascii", "prefix", "another_sessions"])
def test_a_state_change_without_the_right_csrf_token_is_refused(app, world, db, client_for, method, token):
    role, _, path, body = STATE_CHANGES[method](world)
    client = client_for(role)
    headers = {
        "missing": {},
        "garbage": {"X-CSRF-Token": "not-a-token"},
        "not_ascii": {"X-CSRF-Token": "t\u00f6ken-\u00e9"},
        # the first half of the right token
        "prefix": {"X-CSRF-Token": client.csrf[:len(client.csrf) // 2]},
        # a real token, but of another session (here: another user's)
        "another_sessions": {"X-CSRF-Token": client_for("other_patient").csrf},
    }[token]
    before = _state(db, world)

    response = _send(client, method, path, body, headers)

    assert_error(response, 403, "csrf_failed")
    assert _state(db, world) == before
    # Control: the same request with the session's token goes through and writes.
    accepted = _send(client, method, path, body, {"X-CSRF-Token": client.csrf})
    assert accepted.status_code in (200, 201, 204), accepted.get_data(as_text=True)
    assert _state(db, world) != before


@pytest.mark.parametrize("method", list(STATE_CHANGES))
@pytest.mark.parametrize("cross", [{"Origin": "https://evil.example"},
                                   {"Origin": "http://localhost.evil.example"},
                                   {"Sec-Fetch-Site": "cross-site"}],
                         ids=["origin", "lookalike-origin", "sec-fetch-site"])
def test_a_cross_origin_state_change_is_refused_even_with_a_valid_token(app, world, db, client_for, method,
                                                                       cross):
    role, _, path, body = STATE_CHANGES[method](world)
    client = client_for(role)
    before = _state(db, world)

    response = _send(client, method, path, body, {"X-CSRF-Token": client.csrf, **cross})

    assert response.status_code == 403, response.get_data(as_text=True)
    assert response.json["error"]["code"] == "cross_origin"
    assert _state(db, world) == before


@pytest.mark.parametrize("same", [{"Origin": "http://localhost"}, {"Sec-Fetch-Site": "same-origin"}],
                         ids=["origin", "sec-fetch-site"])
def test_a_same_origin_state_change_with_the_token_is_accepted(world, client_for, same):
    role, method, path, body = _clinic_request(world)
    client = client_for(role)
    response = _send(client, method, path, body, {"X-CSRF-Token": client.csrf, **same})
    assert response.status_code == 200, response.get_data(as_text=True)


def test_login_without_a_csrf_token_is_refused(app, world):
    client = Client(app)
    before = session_cookie(client)
    response = client.http.post("/api/v1/auth/login", json=login_body(world.users["patient"].email))
    assert_error(response, 403, "csrf_failed")
    assert session_cookie(client) == before
    assert_logged_out(client.get("/api/v1/me"))


def test_a_state_change_without_any_cookie_is_refused_by_the_csrf_guard(app, world):
    bare = app.test_client()
    response = bare.post("/api/v1/auth/logout")
    assert response.status_code == 403
    assert response.json["error"]["code"] == "csrf_failed"


# --- login throttling ------------------------------------------------------------------


def test_repeated_failures_for_one_account_are_throttled(app, world, db):
    limit = app.config["LOGIN_MAX_PER_ACCOUNT"]
    window = app.config["LOGIN_WINDOW_SECONDS"]
    email = world.users["patient"].email
    client = Client(app)
    for _ in range(limit):
        assert client.login(email, "not the password").status_code == 401

    for password in (PASSWORD, "not the password"):
        blocked = client.login(email, password)
        assert_error(blocked, 429, "rate_limited")
        retry = int(blocked.headers["Retry-After"])
        assert 1 <= retry <= window + 1
    # The limit is the account's, from any address; another account is not blocked.
    elsewhere = Client(app)
    elsewhere.http.environ_base["REMOTE_ADDR"] = "198.51.100.7"
    assert_error(elsewhere.login(email, PASSWORD), 429, "rate_limited")
    assert client.login(world.users["nurse"].email).status_code == 200
    # Spelling the email differently is still the same account.
    assert_error(Client(app).login("  " + email.upper(), PASSWORD), 429, "rate_limited")
    assert attempts(db, "account:") == limit


def test_repeated_failures_from_one_address_are_throttled(app, world, db):
    limit = app.config["LOGIN_MAX_PER_ADDRESS"]
    client = Client(app)
    # A different account each time, so no account reaches its own limit.
    for i in range(limit):
        response = client.login(f"guess{i}@nowhere.test", "wrong password")
        assert response.status_code == 401, (i, response.json)
    assert attempts(db, "address:") == limit

    blocked = client.login(world.users["admin"].email, PASSWORD)
    assert_error(blocked, 429, "rate_limited")
    assert int(blocked.headers["Retry-After"]) >= 1
    # Another address is not blocked.
    other = Client(app)
    other.http.environ_base["REMOTE_ADDR"] = "198.51.100.8"
    assert other.login(world.users["admin"].email, PASSWORD).status_code == 200


def test_login_counters_are_shared_by_every_app_instance(app, world, db, connection):
    """Counted in the database (login_attempts), so every worker process sees them."""
    limit = app.config["LOGIN_MAX_PER_ACCOUNT"]
    email = world.users["nurse"].email
    other_app = second_app(app, connection)
    assert other_app is not app

    # Failures spread over the two instances add up.
    for i in range(limit):
        instance = app if i % 2 == 0 else other_app
        assert Client(instance).login(email, "not the password").status_code == 401
    assert attempts(db, "account:") == limit
    assert attempts(db, "address:") == limit

    for instance in (app, other_app):
        blocked = Client(instance).login(email, PASSWORD)
        assert_error(blocked, 429, "rate_limited")
        assert "Retry-After" in blocked.headers


def test_a_second_app_instance_refuses_what_the_first_counted(app, world, connection):
    limit = app.config["LOGIN_MAX_PER_ACCOUNT"]
    email = world.users["admin"].email
    for _ in range(limit):
        assert Client(app).login(email, "not the password").status_code == 401
    other_app = second_app(app, connection)
    blocked = Client(other_app).login(email, PASSWORD)
    assert_error(blocked, 429, "rate_limited")
    assert int(blocked.headers["Retry-After"]) >= 1


def test_logins_work_again_after_the_window(app, world, frozen_time):
    limit = app.config["LOGIN_MAX_PER_ACCOUNT"]
    window = app.config["LOGIN_WINDOW_SECONDS"]
    email = world.users["patient"].email
    start = frozen_time(utcnow())
    for _ in range(limit):
        assert Client(app).login(email, "not the password").status_code == 401

    frozen_time(start + timedelta(seconds=window // 2))
    blocked = Client(app).login(email, PASSWORD)
    assert_error(blocked, 429, "rate_limited")
    retry = int(blocked.headers["Retry-After"])
    assert window // 2 - 1 <= retry <= window // 2 + 1

    # Just before the window ends: still blocked; once it has passed: the right password works.
    frozen_time(start + timedelta(seconds=window - 1))
    assert_error(Client(app).login(email, PASSWORD), 429, "rate_limited")
    frozen_time(start + timedelta(seconds=window + 1))
    client = Client(app)
    response = client.login(email, PASSWORD)
    assert response.status_code == 200, response.json
    assert client.get("/api/v1/me").status_code == 200


def test_an_address_block_also_ends_after_the_window(app, world, frozen_time):
    limit = app.config["LOGIN_MAX_PER_ADDRESS"]
    window = app.config["LOGIN_WINDOW_SECONDS"]
    start = frozen_time(utcnow())
    for i in range(limit):
        assert Client(app).login(f"someone{i}@nowhere.test", "wrong password").status_code == 401
    assert_error(Client(app).login(world.users["nurse"].email, PASSWORD), 429, "rate_limited")
    frozen_time(start + timedelta(seconds=window + 1))
    assert Client(app).login(world.users["nurse"].email, PASSWORD).status_code == 200


def test_a_successful_login_clears_the_accounts_failures(app, world, db):
    limit = app.config["LOGIN_MAX_PER_ACCOUNT"]
    email = world.users["family"].email
    for _ in range(limit - 1):
        assert Client(app).login(email, "not the password").status_code == 401
    assert Client(app).login(email, PASSWORD).status_code == 200
    assert attempts(db, "account:") == 0
    # So the next failures start from zero again.
    for _ in range(limit - 1):
        assert Client(app).login(email, "not the password").status_code == 401
    assert Client(app).login(email, PASSWORD).status_code == 200


# --- cookie flags --------------------------------------------------------------------------


def _login_set_cookie(client: Client, email: str, **kwargs) -> str:
    response = client.login(email, **kwargs) if kwargs else client.login(email)
    assert response.status_code == 200, response.json
    cookies = [h for h in response.headers.getlist("Set-Cookie") if h.startswith(COOKIE + "=")]
    assert len(cookies) == 1, response.headers.getlist("Set-Cookie")
    return cookies[0]


def _flags(set_cookie: str) -> set[str]:
    return {part.strip().lower() for part in set_cookie.split(";")[1:]}


def test_the_session_cookie_is_httponly_and_samesite_lax(app, world):
    flags = _flags(_login_set_cookie(Client(app), world.users["patient"].email))
    assert "httponly" in flags
    assert "samesite=lax" in flags
    assert "secure" not in flags  # the test app runs with SESSION_COOKIE_SECURE False


def test_the_session_cookie_is_secure_in_production(app, world, connection):
    overrides = {k: v for k, v in TEST_CONFIG.items() if k not in ("SESSION_COOKIE_SECURE", "ENV_NAME")}
    production = create_app({**overrides, "DATABASE_URL": app.config["DATABASE_URL"]},
                            environ={"ALEMTRACK_ENV": "production"})
    assert production.config["ENV_NAME"] == "production"
    assert production.config["SESSION_COOKIE_SECURE"] is True
    join_test_transaction(production, connection)

    flags = _flags(_login_set_cookie(Client(production), world.users["patient"].email))
    assert {"httponly", "samesite=lax", "secure"} <= flags


def test_the_session_cookie_is_not_secure_in_development(app):
    development = create_app({"DATABASE_URL": app.config["DATABASE_URL"]}, environ={"ALEMTRACK_ENV": "development"})
    assert development.config["SESSION_COOKIE_SECURE"] is False
    assert development.config["SESSION_COOKIE_HTTPONLY"] is True
    assert development.config["SESSION_COOKIE_SAMESITE"] == "Lax"


def test_user_rows_are_untouched_by_failed_logins(app, world, db):
    """A failed login never locks or changes the account itself: the counters do the limiting."""
    email = world.users["other_patient"].email
    before = db.scalar(select(User.session_token).where(User.email == email))
    for _ in range(app.config["LOGIN_MAX_PER_ACCOUNT"] + 2):
        Client(app).login(email, "not the password")
    db.expire_all()
    account = db.scalar(select(User).where(User.email == email))
    assert account.active and account.session_token == before


# --- wrong current passwords count like failed logins ----------------------------------------


def change_password(client: Client, current: str, new: str = NEW_PASSWORD):
    return client.post("/api/v1/auth/password", json={"current_password": current, "new_password": new})


def test_wrong_current_passwords_are_throttled_like_logins(app, world, db):
    """A stolen session must not try passwords at will: the account's limit counts both."""
    limit = app.config["LOGIN_MAX_PER_ACCOUNT"]
    window = app.config["LOGIN_WINDOW_SECONDS"]
    email = world.users["patient"].email
    thief = Client(app)
    assert thief.login(email).status_code == 200
    for _ in range(limit - 1):
        assert_error(change_password(thief, "not the password"), 400, "invalid_credentials")
    assert attempts(db, "account:") == limit - 1
    assert attempts(db, "address:") == limit - 1
    assert Client(app).login(email, "not the password either").status_code == 401  # the limit-th failure

    for current in (PASSWORD, "not the password"):
        blocked = change_password(thief, current)
        assert_error(blocked, 429, "rate_limited")
        assert 1 <= int(blocked.headers["Retry-After"]) <= window + 1
    assert_error(Client(app).login(email, PASSWORD), 429, "rate_limited")
    # Nothing changed: the password is the old one, and the session goes on.
    db.expire_all()
    assert accounts_verify(app, db, email, PASSWORD)
    assert thief.get("/api/v1/me").status_code == 200
    # Another account is not touched.
    assert Client(app).login(world.users["nurse"].email).status_code == 200


def accounts_verify(app, db, email: str, password: str) -> bool:
    from argon2.exceptions import VerificationError

    from server.services import accounts

    stored = db.scalar(select(User.password_hash).where(User.email == email))
    try:
        return accounts.hasher(app.config).verify(stored, password)
    except VerificationError:
        return False


def test_wrong_current_passwords_count_towards_the_address_limit(app, world, db):
    limit = app.config["LOGIN_MAX_PER_ADDRESS"]
    per_account = app.config["LOGIN_MAX_PER_ACCOUNT"]
    clients = [client for role in ("patient", "other_patient", "nurse", "admin", "family")
               for client in [Client(app)] if client.login(world.users[role].email).status_code == 200]
    sent = 0
    for client in clients:  # below each account's own limit
        for _ in range(per_account - 1):
            if sent < limit:
                assert_error(change_password(client, "not the password"), 400, "invalid_credentials")
                sent += 1
    assert sent == limit, "the world has too few accounts for this address limit"
    assert_error(Client(app).login(world.users["other_nurse"].email), 429, "rate_limited")
    elsewhere = Client(app)
    elsewhere.http.environ_base["REMOTE_ADDR"] = "198.51.100.9"
    assert elsewhere.login(world.users["other_nurse"].email).status_code == 200


def test_a_right_password_change_clears_the_accounts_failures(app, world, db):
    client = Client(app)
    assert client.login(world.users["nurse"].email).status_code == 200
    for _ in range(app.config["LOGIN_MAX_PER_ACCOUNT"] - 1):
        assert change_password(client, "not the password").status_code == 400
    response = change_password(client, PASSWORD)
    assert response.status_code == 200, response.json
    assert attempts(db, "account:") == 0


def test_a_new_password_equal_to_the_old_is_refused_and_changes_nothing(app, world, db, client_for):
    changer = client_for("patient")
    other = client_for("patient")
    token_before = db.scalar(select(User.session_token).where(User.id == world.users["patient"].id))

    response = change_password(changer, PASSWORD, PASSWORD)

    assert_error(response, 400, "same_password")
    assert response.json["error"]["field"] == "new_password"
    db.expire_all()
    assert db.scalar(select(User.session_token).where(User.id == world.users["patient"].id)) == token_before
    assert other.get("/api/v1/me").status_code == 200  # no session ended
    assert attempts(db, "account:") == 0  # the current password was right: no failure counted


# --- registration is throttled per address ---------------------------------------------------


def _newcomer_code(db, world) -> str:
    from server.models import Patient
    from server.services import accounts

    newcomer = Patient(clinic_id=world.clinic.id, display_name="Nina Newcomer", sex="female",
                       childbearing_potential=False, breastfeeding=False, timezone="Europe/Madrid",
                       language="en", baseline={})
    db.add(newcomer)
    db.flush()
    code, _ = accounts.issue_code(db, newcomer, "enrollment", world.users["nurse"], utcnow(), 14)
    db.commit()
    return code


def register(client: Client, code: str, email: str = "nina@a.test", password: str = "a long new password"):
    return client.post("/api/v1/auth/register", json={"code": code, "email": email, "password": password})


def test_refused_registrations_are_throttled_per_address(app, world, db, frozen_time):
    start = frozen_time(utcnow())
    limit = app.config["REGISTER_MAX_PER_ADDRESS"]
    window = app.config["LOGIN_WINDOW_SECONDS"]
    code = _newcomer_code(db, world)
    guesser = Client(app)
    refusals = [lambda c: register(c, "AAAA-BBBB-CCCC"), lambda c: register(c, code, email="patty@a.test"),
                lambda c: register(c, code, password="short")]
    for i in range(limit):
        assert register_status(refusals[i % len(refusals)](guesser)) in (400, 409)
    assert attempts(db, "register:") == limit

    blocked = register(guesser, code)  # even a right code waits now
    assert_error(blocked, 429, "rate_limited")
    assert 1 <= int(blocked.headers["Retry-After"]) <= window + 1
    assert db.scalar(select(func.count()).select_from(User).where(User.email == "nina@a.test")) == 0
    # Logins from the address are not throttled by it, and another address may register.
    assert Client(app).login(world.users["nurse"].email).status_code == 200
    elsewhere = Client(app)
    elsewhere.http.environ_base["REMOTE_ADDR"] = "198.51.100.10"
    assert register(elsewhere, code, email="nina.elsewhere@a.test").status_code == 201

    # Once the window has passed, the address may register again.
    frozen_time(start + timedelta(seconds=window + 1))
    second = _newcomer_code(db, world)
    assert register(guesser, second, email="nina2@a.test").status_code == 201


def register_status(response) -> int:
    assert response.is_json and response.json["error"]["code"] != "rate_limited", response.json
    return response.status_code


def test_a_successful_registration_is_not_counted(app, world, db):
    response = register(Client(app), _newcomer_code(db, world))
    assert response.status_code == 201, response.json
    assert attempts(db, "register:") == 0


# --- trusted proxies (ALEMTRACK_TRUSTED_PROXIES) ---------------------------------------------


def proxied_app(app, connection, hops: int):
    other = create_app({**TEST_CONFIG, "DATABASE_URL": app.config["DATABASE_URL"], "TRUSTED_PROXIES": hops})
    join_test_transaction(other, connection)
    return other


def from_client(instance, forwarded_for: str | None, proxy: str = "10.0.0.2") -> Client:
    """A client behind the proxy ``proxy``, which says the request came from ``forwarded_for``."""
    client = Client.__new__(Client)
    client.http = instance.test_client()
    client.http.environ_base["REMOTE_ADDR"] = proxy
    if forwarded_for is not None:
        client.http.environ_base["HTTP_X_FORWARDED_FOR"] = forwarded_for
    client.csrf = client.http.get("/api/v1/auth/csrf").json["csrf_token"]
    return client


def test_behind_a_trusted_proxy_each_client_has_its_own_address_limit(app, world, db, connection):
    behind = proxied_app(app, connection, 1)
    limit = app.config["LOGIN_MAX_PER_ADDRESS"]
    for i in range(limit):
        assert from_client(behind, "203.0.113.5").login(f"guess{i}@nowhere.test", "wrong").status_code == 401
    assert attempts(db, "address:203.0.113.5") == limit
    assert attempts(db, "address:10.0.0.2") == 0

    assert_error(from_client(behind, "203.0.113.5").login(world.users["nurse"].email), 429, "rate_limited")
    # Another client through the same proxy is not locked out ...
    assert from_client(behind, "203.0.113.6").login(world.users["nurse"].email).status_code == 200
    # ... and a client cannot escape its own limit by writing a header of its own: the
    # proxy appends what it saw, and only that last hop is trusted.
    spoofed = from_client(behind, "198.51.100.99, 203.0.113.5")
    assert_error(spoofed.login(world.users["admin"].email), 429, "rate_limited")


def test_without_trusted_proxies_the_forwarded_header_is_ignored(app, world, db):
    assert app.config["TRUSTED_PROXIES"] == 0
    limit = app.config["LOGIN_MAX_PER_ADDRESS"]
    for i in range(limit):
        client = from_client(app, f"203.0.113.{i}", proxy="192.0.2.1")
        assert client.login(f"guess{i}@nowhere.test", "wrong").status_code == 401
    assert attempts(db, "address:192.0.2.1") == limit
    assert_error(from_client(app, "203.0.113.200", proxy="192.0.2.1").login(world.users["nurse"].email), 429,
                 "rate_limited")


def test_a_trusted_proxy_says_the_request_came_over_https(app, world, connection):
    """The cross-origin guard compares the Origin with the scheme the client used."""
    behind = proxied_app(app, connection, 1)
    client = from_client(behind, "203.0.113.7")
    client.http.environ_base["HTTP_X_FORWARDED_PROTO"] = "https"
    response = client.post("/api/v1/auth/login", json=login_body(world.users["patient"].email),
                           headers={"X-CSRF-Token": client.csrf, "Origin": "https://localhost"})
    assert response.status_code == 200, response.json
    # Without the proxy setting, the same headers are a page of another origin.
    direct = from_client(app, "203.0.113.7")
    direct.http.environ_base["HTTP_X_FORWARDED_PROTO"] = "https"
    refused = direct.post("/api/v1/auth/login", json=login_body(world.users["patient"].email),
                          headers={"X-CSRF-Token": direct.csrf, "Origin": "https://localhost"})
    assert_error(refused, 403, "cross_origin")


# --- session lifetimes (server.web.sessions), with the clock frozen --------------------------------


def test_a_staff_session_ends_after_30_minutes_without_a_request(app, client_for, frozen_time):
    start = frozen_time(utcnow())
    nurse = client_for("nurse")
    copy = session_cookie(nurse)
    idle = app.config["STAFF_SESSION_IDLE_SECONDS"]
    assert idle == 30 * 60

    frozen_time(start + timedelta(seconds=idle - 1))
    assert nurse.get("/api/v1/me").status_code == 200
    last = start + timedelta(seconds=idle - 1)  # each request starts the idle time again
    frozen_time(last + timedelta(seconds=idle - 1))
    assert nurse.get("/api/v1/flags").status_code == 200
    last += timedelta(seconds=idle - 1)

    frozen_time(last + timedelta(seconds=idle))
    assert_error(nurse.get("/api/v1/me"), 401, "session_expired")
    # The answer emptied the cookie: from now on the client is simply logged out ...
    assert_logged_out(nurse.get("/api/v1/me"))
    # ... and a copy of the old cookie is refused as well.
    assert_error(replay(app, copy), 401, "session_expired")


def test_a_staff_session_ends_12_hours_after_its_login_however_busy(app, client_for, frozen_time):
    start = frozen_time(utcnow())
    admin = client_for("admin")
    most = app.config["STAFF_SESSION_MAX_SECONDS"]
    assert most == 12 * 3600
    at = start
    while at + timedelta(minutes=20) < start + timedelta(seconds=most):
        at += timedelta(minutes=20)
        frozen_time(at)
        assert admin.get("/api/v1/me").status_code == 200
    frozen_time(start + timedelta(seconds=most - 1))
    assert admin.get("/api/v1/me").status_code == 200
    frozen_time(start + timedelta(seconds=most))
    assert_error(admin.get("/api/v1/me"), 401, "session_expired")


@pytest.mark.parametrize("role", ["patient", "family"])
def test_a_patient_or_family_session_lasts_30_days_without_a_request(app, client_for, frozen_time, role):
    start = frozen_time(utcnow())
    person = client_for(role)
    idle = app.config["PERSONAL_SESSION_IDLE_SECONDS"]
    assert idle == 30 * 24 * 3600

    # Longer than any staff limit, without a request in between: still logged in.
    frozen_time(start + timedelta(hours=13))
    assert person.get("/api/v1/me").status_code == 200
    last = start + timedelta(hours=13)
    frozen_time(last + timedelta(seconds=idle - 1))
    assert person.get("/api/v1/me").status_code == 200
    last += timedelta(seconds=idle - 1)

    frozen_time(last + timedelta(seconds=idle))
    assert_error(person.get("/api/v1/me"), 401, "session_expired")
    assert_logged_out(person.get("/api/v1/me"))


def test_an_ended_session_refuses_state_changes_and_writes_nothing(app, world, db, client_for, frozen_time):
    start = frozen_time(utcnow())
    patient = client_for("patient")
    frozen_time(start + timedelta(seconds=app.config["PERSONAL_SESSION_IDLE_SECONDS"]))
    before = db.scalar(select(func.count()).select_from(Checklist))
    response = patient.post(f"/api/v1/patients/{world.patient.id}/checklists",
                            json={"client_id": new_client_id(), "answered_on": today_madrid().isoformat(),
                                  "answers": {}, "note": None})
    assert_error(response, 401, "session_expired")
    db.expire_all()
    assert db.scalar(select(func.count()).select_from(Checklist)) == before


def test_after_an_ended_session_the_login_page_works_at_once(app, world, client_for, frozen_time):
    """A CSRF token and the login itself need no session: they go on anonymously."""
    start = frozen_time(utcnow())
    nurse = client_for("nurse")
    frozen_time(start + timedelta(hours=13))
    csrf = nurse.get("/api/v1/auth/csrf")
    assert csrf.status_code == 200 and csrf.json["csrf_token"]
    nurse.csrf = csrf.json["csrf_token"]
    assert_logged_out(nurse.get("/api/v1/me"))
    again = nurse.login(world.users["nurse"].email)
    assert again.status_code == 200, again.json
    assert nurse.get("/api/v1/me").status_code == 200  # a new login: its own 12 hours


def test_a_login_with_the_old_expired_session_cookie_starts_a_new_session(app, world, client_for, frozen_time):
    start = frozen_time(utcnow())
    nurse = client_for("nurse")
    frozen_time(start + timedelta(hours=13))
    # Straight to the login, with the token of the session that has ended.
    again = nurse.login(world.users["nurse"].email)
    assert again.status_code == 200, again.json
    assert nurse.get("/api/v1/me").status_code == 200


def test_a_password_change_is_a_new_login_for_the_absolute_limit(app, world, client_for, frozen_time):
    start = frozen_time(utcnow())
    nurse = client_for("nurse")
    for minutes in range(20, 12 * 60, 20):  # busy until 11:40 after the login
        frozen_time(start + timedelta(minutes=minutes))
        assert nurse.get("/api/v1/me").status_code == 200
    response = change_password(nurse, PASSWORD, "another new passphrase")
    assert response.status_code == 200, response.json
    nurse.csrf = response.json["csrf_token"]
    frozen_time(start + timedelta(hours=12, minutes=5))  # past the first login's 12 hours
    assert nurse.get("/api/v1/me").status_code == 200


def test_a_logged_in_cookie_without_a_login_instant_has_ended(app, world):
    """A cookie from before the limits (or any that lacks the instants) is no way around them."""
    nurse = world.users["nurse"]
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = f"{nurse.id}:{nurse.session_token}"
    assert_error(client.get("/api/v1/me"), 401, "session_expired")


def test_the_session_limits_are_read_from_the_environment():
    from server.config import load_config

    config = load_config({"ALEMTRACK_ENV": "development", "ALEMTRACK_STAFF_SESSION_IDLE_SECONDS": "600",
                          "ALEMTRACK_STAFF_SESSION_MAX_SECONDS": "3600",
                          "ALEMTRACK_PERSONAL_SESSION_IDLE_SECONDS": "86400",
                          "ALEMTRACK_REGISTER_MAX_PER_ADDRESS": "3", "ALEMTRACK_TRUSTED_PROXIES": "2"})
    assert (config["STAFF_SESSION_IDLE_SECONDS"], config["STAFF_SESSION_MAX_SECONDS"],
            config["PERSONAL_SESSION_IDLE_SECONDS"], config["REGISTER_MAX_PER_ADDRESS"],
            config["TRUSTED_PROXIES"]) == (600, 3600, 86400, 3, 2)
