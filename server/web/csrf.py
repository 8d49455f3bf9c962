"""The CSRF guard: a synchronizer token kept in the session, sent back in a header.

Every POST, PUT, PATCH and DELETE must carry the session's token in the
``X-CSRF-Token`` header, login included (login CSRF); ``GET /api/v1/auth/csrf``
hands it out, and login and password change hand out a new one with the new
session. A page of another site cannot read it: the session cookie is HttpOnly
and signed, and the API answers no other origin. The Origin check of
``server._refuse_cross_origin`` is the second lock.

It replaces flask-wtf's CSRFProtect, whose check was the same comparison
behind a second signature: it verified a signed copy of the session's token
(an HMAC and a JSON decode) and parsed the body as a form looking for a field,
on every write. The session cookie is already signed, so the copy's
signature protected nothing more.
"""

from __future__ import annotations

import hmac
import secrets

from flask import Flask, request, session

from ..errors import api_error

HEADER = "X-CSRF-Token"
#: where the session keeps its token
SESSION_KEY = "csrf_token"
STATE_CHANGING = {"POST", "PUT", "PATCH", "DELETE"}
#: routes that take no session and so no token: a laboratory system's import with its API key (issue 19)
EXEMPT = {"api.import_fhir"}


def token() -> str:
    """This session's token, made on first use."""
    value = session.get(SESSION_KEY)
    if not value:
        value = session[SESSION_KEY] = secrets.token_urlsafe(32)
    return value


def init_app(app: Flask) -> None:
    """Registered before the app's other hooks: a request without the token is
    refused before anything else looks at it."""
    app.before_request(_protect)


def _protect() -> None:
    if request.method not in STATE_CHANGING or request.endpoint in EXEMPT:
        return
    sent = request.headers.get(HEADER, "")
    expected = session.get(SESSION_KEY, "")
    # compare_digest: the time taken tells nothing about how much of it matched.
    if not sent or not expected or not hmac.compare_digest(sent.encode(), expected.encode()):
        raise api_error(403, "csrf_failed", "Missing or invalid CSRF token: get one from /api/v1/auth/csrf "
                                            "and send it in the X-CSRF-Token header.")
