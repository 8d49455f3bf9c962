"""The strict TOML reader of content/: every defect is a ContentError naming file and place."""

from __future__ import annotations

import re
import tomllib
from datetime import date
from pathlib import Path
from typing import Any, Mapping

from ..errors import ContentError


class Reader:
    """Reads one TOML table with strict keys, raising ContentError with its place."""

    def __init__(self, file: str, where: str, table: Any):
        self.file = file
        self.where = where
        if not isinstance(table, dict):
            self.fail(f"expected a table, got {type(table).__name__}")
        self.table = table
        self.used: set[str] = set()

    def fail(self, problem: str) -> None:
        raise ContentError(f"content/{self.file}: {self.where}: {problem}")

    def get(self, key: str, types: type | tuple[type, ...], default: Any = ...) -> Any:
        self.used.add(key)
        if key not in self.table:
            if default is ...:
                self.fail(f"missing '{key}'")
            return default
        value = self.table[key]
        # TOML booleans are ints to isinstance; keep numbers and booleans apart.
        if isinstance(value, bool) and bool not in _as_tuple(types):
            self.fail(f"'{key}' must be {_type_names(types)}, got a boolean")
        if not isinstance(value, types):
            self.fail(f"'{key}' must be {_type_names(types)}, got {type(value).__name__}")
        return value

    def choice(self, key: str, allowed: tuple[str, ...], default: Any = ...) -> Any:
        value = self.get(key, str, default)
        if value is not default and value not in allowed:
            self.fail(f"'{key}' = {value!r} is not one of {', '.join(allowed)}")
        return value

    def child(self, key: str, where: str | None = None) -> "Reader":
        return Reader(self.file, where or f"{self.where}.{key}", self.get(key, dict))

    def done(self) -> None:
        unknown = sorted(set(self.table) - self.used)
        if unknown:
            self.fail(f"unknown key(s) {', '.join(unknown)}")


def _as_tuple(types: type | tuple[type, ...]) -> tuple[type, ...]:
    return types if isinstance(types, tuple) else (types,)


def _type_names(types: type | tuple[type, ...]) -> str:
    return " or ".join(t.__name__ for t in _as_tuple(types))


def read_toml(root: Path, name: str) -> dict:
    path = root / name
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise ContentError(f"content/{name}: file is missing") from None
    except tomllib.TOMLDecodeError as exc:
        raise ContentError(f"content/{name}: not valid TOML: {exc}") from None


def sources_of(reader: Reader, known: Mapping[str, str], key: str = "source") -> tuple[str, ...]:
    """The citations under ``key``: at least one, each starting with a source of sources.toml."""
    cited = reader.get(key, list, default=None)
    if not cited:
        reader.fail(f"missing '{key}': every rule must name where it comes from")
    for citation in cited:
        if not isinstance(citation, str) or not any(
            citation == key or citation.startswith(key + " ") for key in known
        ):
            reader.fail(
                f"source {citation!r} does not start with a known source "
                f"({', '.join(known)}) of content/sources.toml"
            )
    return tuple(cited)


def read_number(reader: Reader, key: str, default: Any = ...) -> Any:
    value = reader.get(key, (int, float), default)
    return float(value) if isinstance(value, (int, float)) and value is not default else value


def month_day(reader: Reader, key: str) -> tuple[int, int]:
    value = reader.get(key, str)
    match = re.fullmatch(r"(\d{2})-(\d{2})", value)
    if not match:
        reader.fail(f"'{key}' must be MM-DD, got {value!r}")
    month, day = int(match.group(1)), int(match.group(2))
    try:
        date(2000, month, day)  # a leap year, so 02-29 is allowed
    except ValueError:
        reader.fail(f"'{key}' = {value!r} is not a real day of the year")
    return month, day
