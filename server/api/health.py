"""GET /health: liveness, the web process answers (no database access)."""

from __future__ import annotations

from apiflask import Schema
from apiflask.fields import String

from . import bp


class HealthOut(Schema):
    status = String(required=True)


@bp.get("/health")
@bp.output(HealthOut)
@bp.doc(summary="Liveness: the web process answers (no database access)")
def health():
    return {"status": "ok"}
