"""GET /protocol: the protocol sheet for the care team (nurses and admins); ``protocol=cll`` for CLL.

The same sheet as ``alemtrack protocol`` (server/engine/sheet.py), built from
the Content this app computes with: JSON for the staff screen, a printable HTML
document to review and sign, or Markdown.
"""

from __future__ import annotations

import base64
import hashlib

from flask import Response, current_app

from .. import auth
from ..engine.sheet import HTML_STYLE, build_sheet, render, sheet_to_json
from . import bp, content
from .schemas import ProtocolOut, ProtocolQuery

#: the printable page needs only its own inline style: no script, nothing fetched
HTML_POLICY = (
    "default-src 'none'; style-src 'sha256-"
    + base64.b64encode(hashlib.sha256(HTML_STYLE.encode("utf-8")).digest()).decode("ascii")
    + "'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
)
MEDIA_TYPES = {"html": "text/html", "markdown": "text/markdown", "json": "application/json"}


def _sheet(protocol: str, language: str, fmt: str) -> str | dict:
    # The app's Content is loaded once and never changes: neither does the sheet
    # of one (protocol, language, format), so each is built once per app.
    made = current_app.extensions.setdefault("alemtrack_protocol_sheets", {})
    if (protocol, language, fmt) not in made:
        sheet = build_sheet(content().of(protocol), language)
        made[protocol, language, fmt] = sheet_to_json(sheet) if fmt == "json" else render(sheet, fmt)
    return made[protocol, language, fmt]


@bp.get("/protocol")
@bp.input(ProtocolQuery, location="query", arg_name="query")
@bp.output(ProtocolOut)
@bp.doc(summary="The protocol sheet: every rule of content/ in words, with its source (nurse, admin)",
        description="`format=json` (default) for the staff screen; `format=html` is a complete printable "
                    "document with a signature block naming the content version; `format=markdown` the same "
                    "sections as tables.",
        responses={200: {"description": "The sheet", "content": {
            "application/json": {"schema": ProtocolOut},
            "text/html": {"schema": {"type": "string"}},
            "text/markdown": {"schema": {"type": "string"}}}}, 400: "Bad query", 401: "Not logged in",
            403: "Not nurse or admin"})
def protocol_sheet(query):
    auth.require_role("nurse", "admin")
    fmt = query["format"]
    body = _sheet(query["protocol"], query["language"], fmt)
    if fmt == "json":
        return body
    response = Response(body, mimetype=MEDIA_TYPES[fmt])
    response.headers["Content-Security-Policy"] = HTML_POLICY
    return response
