"""The HTTP API of API.md section 2: one blueprint, one module per resource.

Views are thin: parse (schemas), authorize (server.auth), call one service,
commit, render.
"""

from __future__ import annotations

from apiflask import APIBlueprint
from flask import current_app, jsonify

from ..engine.protocol import Content

bp = APIBlueprint("api", __name__, url_prefix="/api/v1")


def content() -> Content:
    return current_app.extensions["alemtrack_content"]


def listing(body: dict, status: int = 200):
    """A large JSON answer, sent as is.

    APIFlask would dump it through its marshmallow schema again, which costs
    more than computing it (hundreds of timeline items). The @output schema
    still documents it, and the schemathesis test checks the answers conform.
    """
    response = jsonify(body)
    response.status_code = status
    return response


def iso(value) -> str | None:
    return value.isoformat() if value is not None else None


# Registers the views on ``bp``.
from . import auth, checklists, clinic, family, flags, health, labs, patients, push  # noqa: E402,F401
