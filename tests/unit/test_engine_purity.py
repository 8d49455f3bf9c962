"""The engine stays pure: no web framework, no database, no clock (DESIGN.md).

A test that reads the source: it fails as soon as a module under server/engine/
imports flask or sqlalchemy, or asks the system for the current date or time.
"""

import ast
from pathlib import Path

import pytest

ENGINE = Path(__file__).resolve().parents[2] / "server" / "engine"
MODULES = sorted(ENGINE.rglob("*.py"))
FORBIDDEN_IMPORTS = ("flask", "sqlalchemy", "time")
#: attribute calls that read the clock: date.today(), datetime.now(), ...
CLOCK_CALLS = {"today", "now", "utcnow"}
#: the time module's clocks (a datetime's .time() is no clock read)
TIME_MODULE_CALLS = {"time", "monotonic", "perf_counter", "time_ns"}


def violations(source: str) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            names = [node.module or ""] if node.level == 0 else []
        else:
            names = []
        for name in names:
            if name.split(".")[0] in FORBIDDEN_IMPORTS:
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


@pytest.mark.parametrize("module", MODULES, ids=lambda p: p.name)
def test_engine_module_is_pure(module):
    assert violations(module.read_text(encoding="utf-8")) == []


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
    ],
)
def test_the_check_catches(source):
    """The check itself can fail: each of these sources is caught."""
    assert violations(source)


def test_a_datetimes_time_method_is_no_clock_read():
    assert violations("from datetime import datetime\nx = datetime(2026, 1, 1).time()") == []
