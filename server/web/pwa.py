"""Serves the progressive web app in pwa/ (plain files, no build step).

The service worker is served from the root so that its scope is the whole
app; it and the app shell are revalidated on every load (no-cache), so a new
version is seen at once and the worker's own versioned cache does the rest.
"""

from __future__ import annotations

import mimetypes
from pathlib import Path

from apiflask import APIBlueprint
from flask import Response, request
from werkzeug.routing import PathConverter
from werkzeug.security import safe_join

from ..errors import api_error

PWA_DIR = Path(__file__).resolve().parents[2] / "pwa"
pwa_bp = APIBlueprint("pwa", __name__, enable_openapi=False)

#: files a browser must check with the server on each load (ETag, 304 if unchanged)
ALWAYS_REVALIDATE = {"index.html", "sw.js", "manifest.webmanifest"}


def _send(filename: str):
    # Read whole (the app's files are small), not streamed: a streamed file
    # response compressed on the fly would be left open by Flask-Compress.
    path = safe_join(str(PWA_DIR), filename)
    if path is None or not Path(path).is_file():
        raise api_error(404, "not_found", "No such file.")
    response = Response(Path(path).read_bytes(),
                        mimetype=mimetypes.guess_type(path)[0] or "application/octet-stream")
    response.add_etag()
    response.make_conditional(request)
    if filename in ALWAYS_REVALIDATE:
        response.headers["Cache-Control"] = "no-cache"
    else:
        response.headers["Cache-Control"] = "public, max-age=3600"
    if filename == "sw.js":
        response.headers["Service-Worker-Allowed"] = "/"
    if filename.endswith(".webmanifest"):
        response.mimetype = "application/manifest+json"
    # The Content-Security-Policy is the app's (server.CONTENT_SECURITY_POLICY), on
    # every answer: the shell's page and the service worker's script included.
    return response


@pwa_bp.get("/")
def index():
    return _send("index.html")


class AssetPath(PathConverter):
    """A path outside /api/ and /calendar/: an unknown API URL must answer 404, not
    405 because this GET-only route happens to match its path."""

    regex = r"(?!api/|calendar/)[^/].*?"


@pwa_bp.record_once
def _register_converter(state) -> None:
    state.app.url_map.converters["asset"] = AssetPath


@pwa_bp.get("/<asset:filename>")
def asset(filename: str):
    return _send(filename)
