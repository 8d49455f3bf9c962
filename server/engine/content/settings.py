"""Site settings: their types, how a value is checked, and settings.toml."""

from __future__ import annotations

import math
import re
from dataclasses import replace
from datetime import date, time
from pathlib import Path
from types import MappingProxyType
from typing import Any, Mapping

from ..dates import parse_date
from ..errors import InputError
from .model import SETTING_TYPES, Analyte, Setting
from .reading import Reader, read_number, read_toml, sources_of


def _parse_setting_value(setting_type: str, value: Any) -> Any:
    """A setting value of ``setting_type`` in engine form, or ValueError."""
    if setting_type == "bool":
        if not isinstance(value, bool):
            raise ValueError("expected true or false")
        return value
    if setting_type in ("int", "number"):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError("expected a number")
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError("expected a finite number")
        if abs(value) > 1e9:  # beyond any setting; huge integers do not convert to float
            raise ValueError("is too large")
        if setting_type == "int" and not (isinstance(value, int) or float(value).is_integer()):
            raise ValueError("expected a whole number")
        return int(value) if setting_type == "int" else float(value)
    if setting_type == "choice":
        if not isinstance(value, str):
            raise ValueError("expected a text choice")
        return value
    if setting_type == "date":
        try:
            return parse_date(value, "date")  # the one date rule, its range included
        except InputError as exc:
            raise ValueError(exc.problem) from None
    if setting_type == "time":
        return _parse_time(value)
    if setting_type == "time_range":
        if not isinstance(value, str) or value.count("-") != 1:
            raise ValueError("expected a range of local times as HH:MM-HH:MM")
        start, end = value.split("-")
        return (_parse_time(start), _parse_time(end))
    raise ValueError(f"unknown setting type {setting_type}")


def _parse_time(value: Any) -> time:
    if not isinstance(value, str) or not re.fullmatch(r"\d{2}:\d{2}", value):
        raise ValueError("expected a local time as HH:MM")
    return time.fromisoformat(value)


def check_setting_value(setting: Setting, value: Any) -> Any:
    """``value`` for ``setting`` in engine form, or ValueError naming the problem."""
    if value is None and setting.default is None:
        return None
    parsed = _parse_setting_value(setting.type, value)
    if setting.choices and parsed not in setting.choices:
        raise ValueError(f"must be one of {', '.join(map(repr, setting.choices))}")
    if setting.min is not None and parsed < setting.min:
        raise ValueError(f"must be at least {setting.min:g}")
    if setting.max is not None and parsed > setting.max:
        raise ValueError(f"must be at most {setting.max:g}")
    return parsed


#: site settings are the clinic's, shared by every protocol
SETTINGS_FILE = "shared/settings.toml"


def load_settings(root: Path, sources: Mapping[str, str]) -> Mapping[str, Setting]:
    doc = Reader(SETTINGS_FILE, "top", read_toml(root, SETTINGS_FILE))
    table = doc.get("settings", dict)
    doc.done()
    settings = {}
    for name in table:
        entry = Reader(SETTINGS_FILE, f"settings.{name}", table[name])
        setting_type = entry.choice("type", SETTING_TYPES)
        raw_default = entry.get("default", (bool, int, float, str, date), default=None)
        choices = tuple(entry.get("choices", list, default=[]))
        if (setting_type == "choice") != bool(choices):
            entry.fail("'choices' is required for type choice and only for it")
        setting = Setting(
            name=name,
            type=setting_type,
            default=None,
            choices=choices,
            min=read_number(entry, "min", default=None),
            max=read_number(entry, "max", default=None),
            source=sources_of(entry, sources),
        )
        entry.done()
        try:
            default = None if raw_default is None else check_setting_value(setting, raw_default)
        except ValueError as exc:
            entry.fail(f"default {raw_default!r}: {exc}")
        settings[name] = replace(setting, default=default)
    return MappingProxyType(settings)

#: the site setting that holds a clinic's usual unit of an analyte (its lab's reports)
UNIT_SETTING_PREFIX = "lab_unit."


def unit_settings(analytes: Mapping[str, Analyte]) -> dict[str, "Setting"]:
    """One choice setting per number analyte with alternative units: the unit the
    clinic's laboratory reports, the default of the app's result form. It changes
    no rule (results are converted whatever unit they come in)."""
    return {
        UNIT_SETTING_PREFIX + code: Setting(
            name=UNIT_SETTING_PREFIX + code, type="choice", default=analyte.unit,
            choices=tuple(spelling for spelling, _ in analyte.units), source=analyte.units_source)
        for code, analyte in analytes.items()
        if analyte.kind == "number" and len(analyte.units) > 1
    }
