"""One JSON error envelope for every error (docs/api.md):

    {"error": {"code": "<machine code>", "message": "<for people>", "field": "<when one field is at fault>"}}
"""

from __future__ import annotations

import logging
import traceback
from typing import Any, Mapping

from apiflask import APIFlask, HTTPError
from sqlalchemy.exc import DBAPIError
from werkzeug.exceptions import HTTPException

from .engine.errors import InputError
from .services.errors import Conflict, DomainError, Forbidden, InvalidInput, NotAuthenticated, NotFound, RateLimited

log = logging.getLogger(__name__)

#: the status of each domain error (server.services.errors): the one place services meet HTTP
DOMAIN_STATUS = {InvalidInput: 400, NotAuthenticated: 401, Forbidden: 403, NotFound: 404, Conflict: 409,
                 RateLimited: 429}

DEFAULT_CODES = {
    400: "invalid_request",
    401: "not_logged_in",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "body_too_large",
    415: "unsupported_media_type",
    422: "invalid_request",
    429: "rate_limited",
    500: "internal_error",
}

#: the envelope, as a JSON schema for the OpenAPI document
ERROR_SCHEMA = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {
                "code": {"type": "string"},
                "message": {"type": "string"},
                "field": {"type": "string"},
            },
        }
    },
}


def api_error(status: int, code: str, message: str, field: str | None = None,
              headers: Mapping[str, str] | None = None) -> HTTPError:
    """An HTTPError that renders as the envelope; ``raise api_error(...)``."""
    extra = {"code": code}
    if field is not None:
        extra["field"] = field
    return HTTPError(status, message, extra_data=extra, headers=dict(headers or {}))


def envelope(status: int, code: str, message: str, field: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"code": code, "message": message}
    if field:
        body["field"] = field
    return {"error": body}


def _first_problem(detail: Any, path: tuple[str, ...] = ()) -> tuple[str | None, str]:
    """The first (field path, message) of a webargs/marshmallow error detail."""
    if isinstance(detail, Mapping):
        for key, value in detail.items():
            # webargs puts the location ("json", "query") first; "_schema" is the whole body.
            key = str(key)
            if (not path and key in ("json", "query", "form", "view_args")) or key == "_schema":
                inner = path
            elif key.isdigit() and path:  # list positions as the engine writes them: results[0]
                inner = path[:-1] + (f"{path[-1]}[{key}]",)
            else:
                inner = path + (key,)
            return _first_problem(value, inner)
    if isinstance(detail, list) and detail:
        if all(isinstance(item, str) for item in detail):
            return (".".join(path) or None), detail[0]
        return _first_problem(detail[0], path)
    return (".".join(path) or None), str(detail) if detail else "invalid value"


def _from_http_error(error: HTTPError):
    extra = dict(error.extra_data or {})
    status = error.status_code
    code = extra.pop("code", None) or DEFAULT_CODES.get(status, "error")
    field = extra.pop("field", None)
    message = error.message
    if error.detail:
        field, problem = _first_problem(error.detail)
        message = f"{field}: {problem}" if field else problem
        if problem in ("Invalid JSON body.", "Invalid input type.") and not field:
            code = "malformed_json" if "JSON" in problem else code
    return envelope(status, code, message, field), status, error.headers


def init_app(app: APIFlask) -> None:
    app.config["VALIDATION_ERROR_STATUS_CODE"] = 400
    app.config["VALIDATION_ERROR_SCHEMA"] = ERROR_SCHEMA
    app.config["HTTP_ERROR_SCHEMA"] = ERROR_SCHEMA
    app.error_processor(_from_http_error)

    @app.errorhandler(InputError)
    def _input_error(error: InputError):
        code = "unknown_code" if error.problem.startswith("unknown") else "invalid_value"
        return envelope(400, code, str(error), error.field), 400

    @app.errorhandler(DomainError)
    def _domain_error(error: DomainError):
        status = next((s for kind, s in DOMAIN_STATUS.items() if isinstance(error, kind)), 400)
        headers = {"Retry-After": str(error.retry_after)} if isinstance(error, RateLimited) else {}
        body = envelope(status, error.code, error.message, error.field)
        body["error"].update(getattr(error, "details", None) or {})  # e.g. every refused row of an import
        return body, status, headers

    @app.errorhandler(Exception)
    def _unexpected(error: Exception):
        if isinstance(error, HTTPException):  # handled by APIFlask's processor
            return _from_http_error(HTTPError(error.code or 500, error.description or ""))
        # The exception goes to the log without request data: no health values.
        log_unexpected(log, "unhandled error", error)
        return envelope(500, "internal_error", "Something went wrong on our side."), 500


def log_unexpected(logger: logging.Logger, what: str, error: BaseException) -> None:
    """Log an error nobody expected, with where it was raised.

    A database error is logged without the driver's message, which may quote
    the row it refused (PostgreSQL: "Failing row contains (...)"): the
    statement and the driver's error class only. The statement's values are
    left out of every database error already (server.db.make_engine).
    """
    if isinstance(error, DBAPIError):
        logger.error("%s: database error %s in %s\n%s", what, type(error.orig).__name__, error.statement,
                     "".join(traceback.format_tb(error.__traceback__)))
    else:
        logger.error(what, exc_info=error)
