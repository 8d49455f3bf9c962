"""The engine stays pure: no web framework, no database, no clock (DESIGN.md).

A test that reads the source: it fails as soon as a module under server/engine/
imports a web framework, a validation library, the database or anything of the
server outside the engine (relative imports included), or asks the system for
the current date or time.
"""

import ast
from pathlib import Path

import pytest

ENGINE = Path(__file__).resolve().parents[2] / "server" / "engine"
MODULES = sorted(ENGINE.rglob("*.py"))
FORBIDDEN_IMPORTS = ("flask", "sqlalchemy", "apiflask", "werkzeug", "pydantic", "marshmallow", "time")
#: attribute calls that read the clock: date.today(), datetime.now(), ...
CLOCK_CALLS = {"today", "now", "utcnow"}
#: the time module's clocks (a datetime's .time() is no clock read)
TIME_MODULE_CALLS = {"time", "monotonic", "perf_counter", "time_ns"}


def violations(source: str, package: str = "server.engine") -> list[str]:
    """What ``source``, a module of ``package``, does that the engine must not."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            names = [node.module or ""]
        elif isinstance(node, ast.ImportFrom):
            # relative to the module's package: in server/engine/content/x.py
            # "." is server.engine.content, ".." the engine, "..." the server
            base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
            names = [".".join(base + ([node.module] if node.module else []))]
        else:
            names = []
        for name in names:
            outside_engine = name.startswith("server") and not name.startswith("server.engine")
            if name.split(".")[0] in FORBIDDEN_IMPORTS or outside_engine:
                found.append(f"line {node.lineno}: imports {name}")
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            receiver = node.func.value
            if node.func.attr in CLOCK_CALLS or (
                node.func.attr in TIME_MODULE_CALLS and isinstance(receiver, ast.Name) and receiver.id == "time"
            ):
                found.append(f"line {node.lineno}: calls .{node.func.attr}()")
    return found


def test_engine_has_modules():
    assert len(MODULES) >= 6, MODULES


def package_of(module: Path) -> str:
    return ".".join(("server", "engine", *module.relative_to(ENGINE).parent.parts))


@pytest.mark.parametrize("module", MODULES, ids=lambda p: str(p.relative_to(ENGINE)))
def test_engine_module_is_pure(module):
    assert violations(module.read_text(encoding="utf-8"), package_of(module)) == []


@pytest.mark.parametrize(
    "source",
    [
        "import flask",
        "from flask import Flask",
        "import sqlalchemy.orm",
        "from sqlalchemy import select",
        "from datetime import date\nx = date.today()",
        "import datetime\nx = datetime.datetime.now()",
        "from datetime import datetime\nx = datetime.utcnow()",
        "import time\nx = time.time()",
        "x = time.monotonic()",
        "from ..models import Patient",
        "from .. import db",
        "from ...server import models",
        "import server.models",
        "from server.services import checklists",
        "import apiflask",
        "from werkzeug.exceptions import NotFound",
        "from pydantic import BaseModel",
        "import marshmallow",
    ],
)
def test_the_check_catches(source):
    """The check itself can fail: each of these sources is caught."""
    assert violations(source)


@pytest.mark.parametrize("source", ["from ...models import Patient", "from ... import db", "from ...auth import x"])
def test_the_check_catches_from_a_subpackage(source):
    """In server/engine/content/, ".." is still the engine and "..." the server."""
    assert violations(source, "server.engine.content")


def test_imports_within_the_engine_are_allowed():
    assert violations("from . import dates\nfrom .content.model import Content\nimport server.engine.labs") == []
    assert violations("from ..dates import parse_date\nfrom .model import Content", "server.engine.content") == []


def test_a_datetimes_time_method_is_no_clock_read():
    assert violations("from datetime import datetime\nx = datetime(2026, 1, 1).time()") == []
