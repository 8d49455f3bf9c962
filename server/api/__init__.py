"""The HTTP API (docs/api.md): one blueprint, one module per resource.

Views are thin: parse (schemas), authorize (server.auth), call one service,
commit, render.
"""

from __future__ import annotations

from apiflask import APIBlueprint
from flask import current_app, jsonify, request
from flask_login import current_user

from ..engine.content.model import Content
from ..errors import api_error

bp = APIBlueprint("api", __name__, url_prefix="/api/v1")


MAX_ID = 2**31 - 1
#: the endpoints anyone may call; every other one needs a logged-in user
#: (api.import_fhir: a laboratory system's API key, checked by the view)
PUBLIC = {"api.csrf", "api.login", "api.register", "api.reset_password", "api.forgot_password", "api.health",
          "api.vapid_public_key", "api.texts", "api.fhir_questionnaire", "api.fhir_questionnaire_cll",
          "api.import_fhir"}


@bp.before_request
def _login_first():
    """Not logged in: 401 before the body is even read (so a bad body cannot
    turn a 401 into a 400)."""
    if request.endpoint not in PUBLIC and not current_user.is_authenticated:
        raise api_error(401, "not_logged_in", "Log in first.")
    # Ids are 32-bit integer columns: a larger one names nothing (and would make
    # the database driver fail instead of answering 404).
    if any(isinstance(v, int) and v > MAX_ID for v in (request.view_args or {}).values()):
        raise api_error(404, "not_found", "No such object.")


def content() -> Content:
    return current_app.extensions["alemtrack_content"]


def large_list(body: dict, status: int = 200):
    """One of the few largest answers, sent as built rather than dumped through its @output schema.

    Only a timeline, the flag queue, lab results, checklists, the patient
    list, deliveries and the export take this path: lists of up to hundreds
    of rows, where marshmallow's second pass costs more than building them
    (bench/serialize.py; docs/decisions.md, "Responses"). Every other answer
    goes through its schema. The schema still documents these, and the
    schemathesis test checks that the answers conform to it.
    """
    response = jsonify(body)
    response.status_code = status
    return response


def iso(value) -> str | None:
    return value.isoformat() if value is not None else None


# Registers the views on ``bp``.
from . import (  # noqa: E402,F401
    auth,
    checklists,
    clinic,
    family,
    fhir,
    flags,
    health,
    lab_import,
    labs,
    me,
    notes,
    patients,
    protocol,
    push,
    texts,
)
