"""Errors the engine raises. Callers turn them into exit codes or HTTP answers."""

from __future__ import annotations

from typing import Any, Mapping


class InputError(ValueError):
    """Bad input from a caller: names the field at fault and the problem.

    ``field`` is a dotted path into the input document (``courses[1].infusions[0]``)
    so that a command line prints one useful line and an API can fill the
    ``field`` of its error envelope. ``code`` (optional) names the kind of
    problem in a stable word and ``params`` the values its sentence needs, so
    that a client can say it in its user's language (the lab import does).
    """

    def __init__(self, field: str, problem: str, code: str | None = None,
                 params: Mapping[str, Any] | None = None):
        # Field names can come from the input's own keys: escape control
        # characters so that a message stays one line.
        field, problem = _printable(field), _printable(problem)
        super().__init__(f"{field}: {problem}")
        self.field = field
        self.problem = problem
        self.code = code
        self.params = dict(params or {})


def _printable(text: str) -> str:
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in str(text))


class ContentError(Exception):
    """content/ is invalid: names the file, the place in it and the problem."""
