"""How long a login lasts (ASVS V3.3): an absolute and an idle limit per kind of account.

A staff session (nurse, admin) ends 12 hours after its login or 30 minutes
after its last request, whichever comes first; a patient's or family member's
ends after 30 days without a request (the limits are configuration:
``STAFF_SESSION_MAX_SECONDS``, ``STAFF_SESSION_IDLE_SECONDS``,
``PERSONAL_SESSION_IDLE_SECONDS``). A session lasts while ``now - login <
max`` and ``now - last request < idle``; at the limit it has ended.

The login instant, the last request's instant and whether the account is
staff are kept in Flask's signed session cookie, set when Flask-Login logs
someone in (its ``user_logged_in`` signal: the login view and the password
change alike, both of which check the password). Each API request checks
them before any view runs, without reading the database, and moves the last
request on. An ended session is emptied and the request answered 401
``session_expired``; the emptied cookie goes back with that answer, so the
next request is anonymous. The requests that do not need a login (a CSRF
token, the login and the registration themselves) go on anonymously instead.
A cookie that says it is logged in but carries no login instant (one made
before these limits) has ended too.

Only ``/api/`` requests are checked and touched: the app shell, its files and
the documentation page read no session, and their public, cacheable answers
must not carry a cookie.
"""

from __future__ import annotations

from flask import Flask, current_app, request, session
from flask_login import user_logged_in

from ..errors import api_error
from ..timeutil import utcnow

#: keys of Flask's session: instants as whole seconds since the epoch (UTC)
LOGIN_AT = "login_at"
SEEN_AT = "seen_at"
STAFF = "staff"
#: Flask-Login's own key: present while someone is logged in
USER_ID = "_user_id"
#: endpoints that work without a login: a session ended on them just goes on anonymously
ANONYMOUS_OK = frozenset({"api.csrf", "api.login", "api.register", "api.reset_password", "api.forgot_password"})


def init_app(app: Flask) -> None:
    user_logged_in.connect(_logged_in, app)
    app.before_request(_check)


def _logged_in(_app: Flask, user, **_extra) -> None:
    now = _seconds()
    session[LOGIN_AT] = now
    session[SEEN_AT] = now
    session[STAFF] = bool(user.is_staff)


def _seconds() -> int:
    return int(utcnow().timestamp())


def ended(data, now: int, config) -> bool:
    """Whether the session ``data`` (a mapping as Flask's session) has ended at
    ``now`` (seconds since the epoch) under ``config``'s limits."""
    login_at, seen_at = data.get(LOGIN_AT), data.get(SEEN_AT)
    if not isinstance(login_at, int) or not isinstance(seen_at, int):
        return True
    if data.get(STAFF, True):  # unknown kind: the stricter limits
        return (now - login_at >= config["STAFF_SESSION_MAX_SECONDS"]
                or now - seen_at >= config["STAFF_SESSION_IDLE_SECONDS"])
    return now - seen_at >= config["PERSONAL_SESSION_IDLE_SECONDS"]


def _check() -> None:
    if not request.path.startswith("/api/") or USER_ID not in session:
        return
    now = _seconds()
    if ended(session, now, current_app.config):
        session.clear()  # before anything loads the user: the request is anonymous from here
        if request.endpoint in ANONYMOUS_OK:
            return
        raise api_error(401, "session_expired", "Your session has ended. Log in again.")
    session[SEEN_AT] = now
