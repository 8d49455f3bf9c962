"""The HTTP API of API.md section 2: one blueprint, one module per resource.

Views are thin: parse (schemas), authorize (server.auth), call one service,
commit, render.
"""

from __future__ import annotations

from apiflask import APIBlueprint
from flask import current_app

from ..engine.protocol import Content

bp = APIBlueprint("api", __name__, url_prefix="/api/v1")


def content() -> Content:
    return current_app.extensions["alemtrack_content"]


def iso(value) -> str | None:
    return value.isoformat() if value is not None else None


# Registers the views on ``bp``.
from . import auth, checklists, clinic, family, flags, labs, patients  # noqa: E402,F401
