"""DELETE /me (docs/api.md): a patient or family member erases their own account."""

from __future__ import annotations

from flask import current_app
from flask import session as cookie_session
from flask_login import logout_user

from .. import auth
from ..db import get_session
from ..services import accounts, erasure
from ..services.errors import InvalidInput
from ..timeutil import utcnow
from . import bp
from .schemas import EraseIn


@bp.delete("/me")
@bp.input(EraseIn, arg_name="body")
@bp.output({}, status_code=204)
@bp.doc(summary="Erase my account and, for a patient, all her health data (GDPR Art. 17); "
                "the password again. The audit log of staff access stays, without values",
        responses=[400, 401, 403, 413, 429])
def erase_me(body):
    who = auth.require_role("patient", "family")  # staff: disabled by an admin, never erased
    session = get_session()
    account = who
    now = utcnow()
    try:
        accounts.confirm_password(session, account, body["password"], auth.client_address(), now,
                                  current_app.config)
    except InvalidInput:
        session.commit()  # keep the failed attempt: it counts towards the login limit
        raise
    erasure.erase(session, account, now)
    session.commit()
    logout_user()
    cookie_session.clear()
    return ""
