"""Alemtrack server: ``create_app`` builds the Flask application.

The factory only configures: it opens no connection, creates no table and
starts no scheduler (``init-db`` and ``clock`` are commands). The pure clinical
engine lives in :mod:`server.engine`.
"""

from __future__ import annotations

import json
from typing import Any, Mapping
from urllib.parse import urlsplit

from apiflask import APIFlask
from flask import current_app, request
from flask_compress import Compress
from werkzeug.middleware.proxy_fix import ProxyFix

from . import auth, errors
from .config import load_config
from .db import Database
from .engine.content.loading import default_content, load_content
from .errors import api_error
from .web import csrf, sessions
from .web.csrf import STATE_CHANGING

#: gzip/brotli for the app shell and JSON: a cheap phone on a slow network loads a fraction
compress = Compress()
#: every answer's policy: the app's own scripts, styles and connections only (no inline
#: code, no other site, never in a frame); a page with a style of its own sets its own
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; "
    "manifest-src 'self'; worker-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)
#: HTTPS only for a year, subdomains included (RFC 6797), outside development
STRICT_TRANSPORT_SECURITY = "max-age=31536000; includeSubDomains"


class Request(APIFlask.request_class):
    def on_json_loading_failed(self, e: ValueError | None):
        """A body read as JSON that is not: a 400 that says where it breaks,
        not a bare "Bad Request"."""
        if isinstance(e, UnicodeDecodeError):
            message = "The body is not UTF-8 text."
        elif not self.get_data(cache=True).strip():
            message = "The body is empty: send a JSON object."
        elif isinstance(e, json.JSONDecodeError):
            message = f"The body is not valid JSON: {e.msg} at line {e.lineno} column {e.colno}."
        else:
            message = "The body is not valid JSON."
        raise api_error(400, "malformed_json", message) from None

    @property
    def max_content_length(self) -> int | None:
        """The lab import takes files of a few thousand results (ALEMTRACK_MAX_IMPORT_BYTES); every
        other body stays under ALEMTRACK_MAX_BODY_BYTES."""
        if self.path.startswith("/api/v1/lab-import/"):
            return current_app.config["MAX_IMPORT_BYTES"]
        return current_app.config["MAX_CONTENT_LENGTH"]


def create_app(config: Mapping[str, Any] | None = None, environ: Mapping[str, str] | None = None) -> APIFlask:
    """The application; ``config`` overrides what the environment gives (tests pass a dict)."""
    app = APIFlask(__name__, title="Alemtrack API", version="1", spec_path="/api/v1/openapi.json",
                   docs_path=None)
    app.request_class = Request
    app.config.update(load_config(environ, config))
    if app.config["TRUSTED_PROXIES"] > 0:
        # The client's address and scheme as the configured proxies saw them, trusting
        # exactly that many hops of X-Forwarded-For and -Proto (the left-most values a
        # client may write itself are ignored); Host is the proxy's to pass on.
        hops = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=0, x_port=0, x_prefix=0)
    app.config["DESCRIPTION"] = ("The Alemtrack HTTP API (docs/api.md). Cookie sessions; every "
                                 "POST, PUT, PATCH and DELETE sends the token of GET /api/v1/auth/csrf in "
                                 "the X-CSRF-Token header.")
    app.config["SECURITY_SCHEMES"] = {"cookieAuth": {"type": "apiKey", "in": "cookie",
                                                     "name": app.config["SESSION_COOKIE_NAME"]},
                                       "apiKeyBearer": {"type": "http", "scheme": "bearer"}}
    app.extensions["alemtrack_content"] = (
        load_content(app.config["CONTENT_DIR"]) if app.config.get("CONTENT_DIR") else default_content()
    )
    Database(app.config["DATABASE_URL"], app.config["DB_POOL_SIZE"]).init_app(app)
    errors.init_app(app)
    auth.init_app(app)
    csrf.init_app(app)  # before the other hooks
    sessions.init_app(app)
    compress.init_app(app)
    app.before_request(_refuse_cross_origin)
    app.before_request(_refuse_malformed_json)
    app.after_request(_security_headers)

    from .api import bp
    from .web.calendar_feed import calendar_bp
    from .web.docs import docs_bp
    from .web.pwa import pwa_bp
    app.register_blueprint(bp)
    app.register_blueprint(docs_bp)
    app.register_blueprint(calendar_bp)
    app.register_blueprint(pwa_bp)

    from .commands import register_commands
    register_commands(app)
    return app


def _refuse_cross_origin():
    """A state change from another site's page is refused, whatever its cookies.

    SameSite=Lax and the CSRF token already stop it; the Origin check is the
    second lock (browsers send Origin on every cross-origin POST).
    """
    if request.method not in STATE_CHANGING:
        return None
    origin = request.headers.get("Origin")
    if request.headers.get("Sec-Fetch-Site") == "cross-site" or (
        origin is not None and urlsplit(origin)[:2] != urlsplit(request.host_url)[:2]
    ):
        raise api_error(403, "cross_origin", "Requests from other sites are refused.")
    return None


def _refuse_malformed_json():
    """Malformed JSON gets a clear 400 naming where it breaks, before any view
    runs (:meth:`Request.on_json_loading_failed`)."""
    if request.method not in STATE_CHANGING or not request.is_json:
        return None
    if not request.get_data(cache=True).strip():
        return None  # no body: a view that needs one says so
    try:
        request.get_json()
    except RecursionError:
        raise api_error(400, "malformed_json", "The body's JSON is nested too deeply.") from None
    return None


def _security_headers(response):
    response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    if current_app.config["ENV_NAME"] != "development":
        response.headers.setdefault("Strict-Transport-Security", STRICT_TRANSPORT_SECURITY)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("X-Frame-Options", "DENY")
    if request.path.startswith("/api/") and request.endpoint != "api.texts":
        # Health data: never kept by shared caches or the browser's disk cache
        # (the service worker keeps the patient's own timeline for offline use).
        response.headers.setdefault("Cache-Control", "no-store")
    return response
