"""Errors the engine raises. Callers turn them into exit codes or HTTP answers."""


class InputError(ValueError):
    """Bad input from a caller: names the field at fault and the problem.

    ``field`` is a dotted path into the input document (``courses[1].infusions[0]``)
    so that a command line prints one useful line and an API can fill the
    ``field`` of its error envelope.
    """

    def __init__(self, field: str, problem: str):
        # Field names can come from the input's own keys: escape control
        # characters so that a message stays one line.
        field, problem = _printable(field), _printable(problem)
        super().__init__(f"{field}: {problem}")
        self.field = field
        self.problem = problem


def _printable(text: str) -> str:
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in str(text))


class ContentError(Exception):
    """content/ is invalid: names the file, the place in it and the problem."""
