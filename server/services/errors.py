"""The domain errors services raise; ``server.errors`` turns each into the envelope.

Services know no HTTP: they say what went wrong in the domain's words, and
the one mapping in ``server.errors`` chooses the status.
"""

from __future__ import annotations


class DomainError(Exception):
    """Something a caller asked for that the domain refuses; ``code`` is the envelope's."""

    code = "error"

    def __init__(self, message: str, field: str | None = None, code: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field
        if code is not None:
            self.code = code


class InvalidInput(DomainError):
    """A value that cannot be stored (400); ``field`` names it."""

    code = "invalid_value"

    def __init__(self, field: str | None, message: str, code: str | None = None):
        super().__init__(message, field, code)


class NotAuthenticated(DomainError):
    """Credentials that do not match an account (401)."""

    code = "invalid_credentials"


class Forbidden(DomainError):
    """The logged-in account may see this object but not do this to it (403)."""

    code = "forbidden"


class NotFound(DomainError):
    """No such object, or one this account may not see (404: never say which)."""

    code = "not_found"

    def __init__(self, message: str = "No such object."):
        super().__init__(message)


class Conflict(DomainError):
    """The request clashes with what is stored (409), e.g. a second checklist this month."""

    code = "conflict"

    def __init__(self, code: str, message: str, field: str | None = None):
        super().__init__(message, field, code)


class RateLimited(DomainError):
    """Too many attempts (429); try again after ``retry_after`` seconds."""

    code = "rate_limited"

    def __init__(self, retry_after: int, message: str):
        super().__init__(message)
        self.retry_after = retry_after
