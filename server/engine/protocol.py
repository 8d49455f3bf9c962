"""Load content/ (protocol, checklist, labs, settings, texts) into frozen values.

Everything clinical the engine knows comes from here; the engine code holds no
clinical number. Loading validates the whole of content/ and fails with a
:class:`ContentError` naming the file, the place and the problem: an unknown
code, a missing translation or placeholder, a missing or unknown source, a rule
naming an analyte or setting that does not exist.
"""

from __future__ import annotations

import math
import re
import string
import tomllib
from dataclasses import dataclass, field, replace
from datetime import date, time
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType
from typing import Any, Mapping

from .dates import parse_date
from .errors import ContentError, InputError
from .units import Unit, normalise

#: content/ at the top of the repository (the project installs in editable mode).
DEFAULT_CONTENT_DIR = Path(__file__).resolve().parents[2] / "content"
DEFAULT_LANGUAGE = "en"
#: Languages every text must exist in. A language file not listed here is refused
#: so that a half-translated file cannot ship by accident.
LANGUAGES = ("en", "es", "de", "it")

ANCHORS = ("first", "last")
SCOPES = ("course", "block", "monitoring", "season", "end")
#: patient attributes an item can depend on (engine.inputs.Patient): childbearing
#: potential is its own attribute whatever the sex field says (CLINICAL.md v2)
APPLIES_TO = ("all", "cervical_screening", "childbearing", "breastfeeding")
#: patient attributes (dates) that can give a course window a later end
PATIENT_END_DATES = ("listeria_until",)
#: the planned-course warnings the engine knows how to test (timeline.course_warnings)
WARNING_CODES = ("course.too_soon", "course.during_pregnancy", "course.during_breastfeeding",
                 "course.cd4_not_recovered")
#: who a question is asked of (engine/triage.py is_asked): everyone; sex female or
#: childbearing potential (menstrual bleeding); childbearing potential only.
ASKED_OF = ("all", "female_or_childbearing", "childbearing")
SETTING_TYPES = ("bool", "int", "number", "choice", "date", "time", "time_range")
LAB_TESTS = (
    "below",
    "above",
    "below_low",
    "outside_range",
    "above_high_times",
    "baseline_at_most",
    "baseline_at_least",
    "equals",
)
QUALITATIVE_VALUES = ("positive", "negative")


# --- values -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ClosedBy:
    """An end that waits for a lab result (CD4 recovery).

    Either ``rule`` (the first result that fires that lab rule) or ``analyte``
    with ``at_least`` (the first result of that analyte at or above the value).
    ``combine``: ``"result"`` - the end is the result's date; ``"later"`` - the
    later of the offset date and the result's date. No such result: open end.
    ``counted_from``: ``"anchor"`` - results taken on or after F_k or L_k count
    (after it, with ``strictly_after``); ``"offset"`` - only results taken on or
    after the offset's own date count (the live-vaccine window: a CD4 taken at
    least 6 months after the course).
    """

    rule: str | None
    analyte: str | None
    at_least: float | None
    combine: str
    strictly_after: bool
    counted_from: str = "anchor"


@dataclass(frozen=True, slots=True)
class Offset:
    """``anchor`` (F_k or L_k) plus ``months`` (clamped) and then ``days``."""

    anchor: str
    days: int = 0
    months: int = 0
    closed_by: ClosedBy | None = None


@dataclass(frozen=True, slots=True)
class ItemRule:
    code: str
    kind: str
    scope: str
    applies_to: str
    source: tuple[str, ...]
    enabled_by: str | None = None
    # scope "course"
    start: Offset | None = None
    end: Offset | None = None
    due: Offset | None = None
    end_by_setting: str | None = None
    end_options: Mapping[str, Offset] = field(default_factory=lambda: MappingProxyType({}))
    #: a patient attribute (PATIENT_END_DATES) that gives the window of her
    #: latest course a later end
    end_extended_by: str | None = None
    #: a choice setting whose value picks the item's words (Item.variant)
    words_by: str | None = None
    # scope "monitoring"
    every_months: int = 0
    analytes: tuple[str, ...] = ()
    weekly_series: bool = False
    monthly_when_pregnant: bool = False
    #: checklist: it can be answered from this many days before due, and is
    #: missed this many days after (CLINICAL.md section 5)
    window_before_days: int = 0
    missed_after_days: int = 0
    # scope "season": (month, day) pairs
    season_start: tuple[int, int] | None = None
    season_end: tuple[int, int] | None = None
    after_last_infusion_months: int = 0


@dataclass(frozen=True, slots=True)
class WarningRule:
    """A warning on planned courses (CLINICAL.md 2.3): ``code`` is one of WARNING_CODES."""

    code: str
    #: the first course number it applies to
    from_course: int
    source: tuple[str, ...]
    #: a bool site setting that switches it off when false
    enabled_by: str | None = None
    #: course.too_soon: F_k earlier than L_{k-1} + this many months
    min_months_after_previous: int = 0
    #: course.cd4_not_recovered: the lab rule a CD4 result must fire to count as recovered
    recovered_rule: str | None = None


@dataclass(frozen=True, slots=True)
class NearInfusion:
    level: str
    within_months: int
    source: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Question:
    code: str
    level: str
    group: str
    asked_of: str
    source: tuple[str, ...]
    near_infusion: NearInfusion | None = None


@dataclass(frozen=True, slots=True)
class GroupRule:
    group: str
    min_yes: int
    level: str
    source: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class CareTeam:
    """What the care team gets per level (CLINICAL.md section 3)."""

    flag_from: str
    push_levels: tuple[str, ...]
    snooze_max_months: int
    source: tuple[str, ...]
    #: the level a non-blank free-text note gives a checklist that would be "none"
    #: (reason "note"): on the care team's list to read, never pushed
    note_level: str | None = None


@dataclass(frozen=True, slots=True)
class Analyte:
    code: str
    kind: str  # "number" | "qualitative"
    source: tuple[str, ...]
    #: the canonical unit: rules compare values in it (CLINICAL.md 4.1)
    unit: str | None = None
    low: float | None = None
    high: float | None = None
    normal: str | None = None
    #: every accepted unit as (spelling, factor to canonical), canonical first with factor 1
    units: tuple[tuple[str, float], ...] = ()
    #: normalised spelling (units.normalise) -> the accepted unit
    unit_index: Mapping[str, Unit] = field(default_factory=lambda: MappingProxyType({}))
    #: (least, most) canonical values a result can have; beyond them it is a typo or a unit mix-up
    plausible: tuple[float, float] | None = None
    #: where the conversion factors come from
    units_source: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class LabTest:
    """One condition of a lab rule; ``param`` is a number, ``True``, a value or a setting name."""

    level: str
    test: str
    param: Any
    analytes: tuple[str, ...]
    #: the level's rank in the checklist levels (none < routine < soon ...)
    rank: int = 0


@dataclass(frozen=True, slots=True)
class LabRule:
    code: str
    analytes: tuple[str, ...]
    tests: tuple[LabTest, ...]
    source: tuple[str, ...]
    follow_up: str
    supersedes: tuple[str, ...] = ()
    weekly_cbc: bool = False


@dataclass(frozen=True, slots=True)
class WeeklyCbc:
    """The weekly blood-count series of CLINICAL.md section 4.2 (content/labs.toml [weekly_cbc])."""

    analyte: str
    interval_days: int
    #: the series stops at the last of this many consecutive results at or above the lower limit
    normal_results_to_stop: int
    source: tuple[str, ...]
    #: after a series stopped, a new one starts only on a result that fires one of these
    #: rules, is below the lower limit, or is at or below ``restart_fall`` x the value
    #: that stopped the last series
    restart_rules: tuple[str, ...] = ()
    restart_fall: float = 0.7


@dataclass(frozen=True, slots=True)
class ReminderStep:
    """One reminder step of CLINICAL.md section 5 (content/reminders.toml)."""

    step: str
    #: items of one group due the same day share one reminder (the monthly labs)
    group: str | None
    anchor: str  # "due" | "start" | "end"
    days: int
    months: int
    #: local times: "reminder_time" (the site setting) or fixed "HH:MM" values
    #: (with ``at_by``: the times of the setting's default choice)
    at: tuple[str, ...]
    repeat: str | None  # None | "daily" | "weekly" | "monthly"
    audience: str  # "patient" | "care_team"
    useful_hours: int
    source: tuple[str, ...]
    unless: str | None = None  # "done"
    flag: str | None = None
    text: str | None = None
    #: a choice setting whose value picks the times from ``at_choices``
    at_by: str | None = None
    at_choices: Mapping[str, tuple[str, ...]] = field(default_factory=lambda: MappingProxyType({}))


@dataclass(frozen=True, slots=True)
class Setting:
    name: str
    type: str
    default: Any
    source: tuple[str, ...]
    choices: tuple[str, ...] = ()
    min: float | None = None
    max: float | None = None


@dataclass(frozen=True, slots=True)
class Content:
    """The whole of content/, validated. Shared read-only by every caller."""

    protocol: str
    monitoring_months: int
    pregnancy_months: int
    items: tuple[ItemRule, ...]
    questions: tuple[Question, ...]
    group_rules: tuple[GroupRule, ...]
    levels: tuple[str, ...]
    analytes: Mapping[str, Analyte]
    rules: tuple[LabRule, ...]
    weekly_cbc: WeeklyCbc
    settings: Mapping[str, Setting]
    sources: Mapping[str, str]
    texts: Mapping[str, Mapping[str, Any]]
    #: flag, push and snooze rules for the care team (content/checklist.toml [care_team])
    care_team: CareTeam | None = None
    #: item code -> its reminder steps (content/reminders.toml)
    reminders: Mapping[str, tuple[ReminderStep, ...]] = field(default_factory=lambda: MappingProxyType({}))
    #: analyte code -> the rules that read it (an index over ``rules``)
    rules_by_analyte: Mapping[str, tuple[LabRule, ...]] = field(
        default_factory=lambda: MappingProxyType({})
    )
    #: infusion dates at most this many days apart are one block (scope "block")
    block_max_gap_days: int = 3
    #: the warnings on planned courses (CLINICAL.md 2.3)
    warnings: tuple[WarningRule, ...] = ()

    def level_rank(self, level: str) -> int:
        return self.levels.index(level)

    @property
    def item_codes(self) -> tuple[str, ...]:
        return tuple(item.code for item in self.items)

    @property
    def question_codes(self) -> tuple[str, ...]:
        return tuple(q.code for q in self.questions)

    def text(self, language: str, *path: str) -> str:
        """A text in ``language`` (falls back to English for an unknown language)."""
        node: Any = self.texts.get(language) or self.texts[DEFAULT_LANGUAGE]
        for key in path:
            node = node[key]
        return node

    def word_variant(self, code: str, settings: Mapping[str, Any]) -> str | None:
        """The variant of item ``code``'s words these resolved settings pick (None: its only words)."""
        rule = next((item for item in self.items if item.code == code), None)
        return settings[rule.words_by] if rule is not None and rule.words_by is not None else None

    def item_text(self, language: str, code: str, key: str, variant: str | None = None) -> str:
        """An item's ``key`` text (title, detail, why) in its words for ``variant``
        (Item.variant: a choice of its ``words_by`` setting); the plain item text
        for the setting's default or no variant."""
        node: Any = (self.texts.get(language) or self.texts[DEFAULT_LANGUAGE])["items"][code]
        if variant is not None and variant in node and not isinstance(node[variant], str):
            node = node[variant]
        return node[key]


# --- loading ------------------------------------------------------------------


class _Reader:
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

    def child(self, key: str, where: str | None = None) -> "_Reader":
        return _Reader(self.file, where or f"{self.where}.{key}", self.get(key, dict))

    def done(self) -> None:
        unknown = sorted(set(self.table) - self.used)
        if unknown:
            self.fail(f"unknown key(s) {', '.join(unknown)}")


def _as_tuple(types: type | tuple[type, ...]) -> tuple[type, ...]:
    return types if isinstance(types, tuple) else (types,)


def _type_names(types: type | tuple[type, ...]) -> str:
    return " or ".join(t.__name__ for t in _as_tuple(types))


def _read_toml(root: Path, name: str) -> dict:
    path = root / name
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise ContentError(f"content/{name}: file is missing") from None
    except tomllib.TOMLDecodeError as exc:
        raise ContentError(f"content/{name}: not valid TOML: {exc}") from None


def _sources(reader: _Reader, known: Mapping[str, str], key: str = "source") -> tuple[str, ...]:
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


def _level(reader: _Reader, key: str, levels: tuple[str, ...]) -> str:
    return reader.choice(key, levels)


def _number(reader: _Reader, key: str, default: Any = ...) -> Any:
    value = reader.get(key, (int, float), default)
    return float(value) if isinstance(value, (int, float)) and value is not default else value


def _month_day(reader: _Reader, key: str) -> tuple[int, int]:
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


def _load_sources(root: Path) -> Mapping[str, str]:
    doc = _Reader("sources.toml", "top", _read_toml(root, "sources.toml"))
    sources = doc.get("sources", dict)
    doc.done()
    titles = {}
    for key in sources:
        entry = _Reader("sources.toml", f"sources.{key}", sources[key])
        titles[key] = entry.get("title", str)
        entry.get("file", str, default=None)
        entry.done()
    return MappingProxyType(titles)


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


def _load_settings(root: Path, sources: Mapping[str, str]) -> Mapping[str, Setting]:
    doc = _Reader("settings.toml", "top", _read_toml(root, "settings.toml"))
    table = doc.get("settings", dict)
    doc.done()
    settings = {}
    for name in table:
        entry = _Reader("settings.toml", f"settings.{name}", table[name])
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
            min=_number(entry, "min", default=None),
            max=_number(entry, "max", default=None),
            source=_sources(entry, sources),
        )
        entry.done()
        try:
            default = None if raw_default is None else check_setting_value(setting, raw_default)
        except ValueError as exc:
            entry.fail(f"default {raw_default!r}: {exc}")
        settings[name] = replace(setting, default=default)
    return MappingProxyType(settings)


def _load_analytes(doc: _Reader, sources: Mapping[str, str]) -> Mapping[str, Analyte]:
    table = doc.get("analytes", dict)
    analytes = {}
    for code in table:
        entry = _Reader("labs.toml", f"analytes.{code}", table[code])
        kind = entry.choice("kind", ("number", "qualitative"))
        if kind == "number":
            unit = entry.get("unit", str)
            units, index = _load_units(entry, code, unit)
            analyte = Analyte(
                code=code,
                kind=kind,
                unit=unit,
                low=_number(entry, "low", default=None),
                high=_number(entry, "high", default=None),
                source=_sources(entry, sources),
                units=units,
                unit_index=index,
                plausible=_plausible(entry),
                units_source=_sources(entry, sources, "units_source"),
            )
            if analyte.low is None and analyte.high is None:
                entry.fail("a number analyte needs a default 'low', 'high' or both")
            if analyte.low is not None and analyte.high is not None and analyte.low > analyte.high:
                entry.fail("'low' is above 'high'")
            least, most = analyte.plausible
            for name in ("low", "high"):
                limit = getattr(analyte, name)
                if limit is not None and not least <= limit <= most:
                    entry.fail(f"'{name}' = {limit:g} is outside the plausible range")
        else:
            analyte = Analyte(
                code=code,
                kind=kind,
                normal=entry.choice("normal", QUALITATIVE_VALUES),
                source=_sources(entry, sources),
            )
        entry.done()
        analytes[code] = analyte
    return MappingProxyType(analytes)


def _load_units(entry: _Reader, code: str, canonical: str) -> tuple[tuple[tuple[str, float], ...],
                                                                     Mapping[str, Unit]]:
    """The canonical unit and the accepted ones (``units``: spelling = factor to canonical)."""
    table = entry.get("units", dict, default={})
    units = [(canonical, 1.0)]
    for spelling, factor in table.items():
        if isinstance(factor, bool) or not isinstance(factor, (int, float)) or not 0 < factor < 1e9:
            entry.fail(f"units.{spelling!r}: the factor to {canonical} must be a positive number")
        units.append((spelling, float(factor)))
    index: dict[str, Unit] = {}
    for spelling, factor in units:
        key = normalise(spelling)
        if not key:
            entry.fail("a unit needs a spelling")
        if key in index:
            entry.fail(f"units {index[key].spelling!r} and {spelling!r} are the same unit "
                       "once case and the micro sign are ignored")
        index[key] = Unit(spelling, factor)
    return tuple(units), MappingProxyType(index)


def _plausible(entry: _Reader) -> tuple[float, float]:
    value = entry.get("plausible", list)
    if len(value) != 2 or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value) \
            or not 0 <= value[0] < value[1]:
        entry.fail("'plausible' must be [least, most], two numbers with 0 <= least < most")
    return float(value[0]), float(value[1])


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


def _load_rules(
    doc: _Reader,
    analytes: Mapping[str, Analyte],
    settings: Mapping[str, Setting],
    levels: tuple[str, ...],
    sources: Mapping[str, str],
) -> tuple[LabRule, ...]:
    rules = []
    for index, raw in enumerate(doc.get("rules", list)):
        entry = _Reader("labs.toml", f"rules[{index}]", raw)
        code = entry.get("code", str)
        entry.where = f"rules[{index}] ({code})"
        rule_analytes = tuple(entry.get("analytes", list))
        for analyte in rule_analytes:
            if analyte not in analytes:
                entry.fail(f"names analyte {analyte!r}, which is not in [analytes]")
        tests = []
        for test_index, raw_test in enumerate(entry.get("when", list)):
            tests.append(
                _load_lab_test(
                    _Reader("labs.toml", f"{entry.where}.when[{test_index}]", raw_test),
                    rule_analytes,
                    analytes,
                    settings,
                    levels,
                )
            )
        if not tests:
            entry.fail("a rule needs at least one 'when' test")
        rules.append(
            LabRule(
                code=code,
                analytes=rule_analytes,
                tests=tuple(tests),
                follow_up=entry.get("follow_up", str),
                supersedes=tuple(entry.get("supersedes", list, default=[])),
                weekly_cbc=entry.get("weekly_cbc", bool, default=False),
                source=_sources(entry, sources),
            )
        )
        entry.done()
    codes = [rule.code for rule in rules]
    for rule in rules:
        if codes.count(rule.code) > 1:
            raise ContentError(f"content/labs.toml: rule code {rule.code!r} appears twice")
        for other in rule.supersedes:
            if other not in codes:
                raise ContentError(
                    f"content/labs.toml: rule {rule.code!r} supersedes unknown rule {other!r}"
                )
    return tuple(rules)


def _load_lab_test(
    entry: _Reader,
    rule_analytes: tuple[str, ...],
    analytes: Mapping[str, Analyte],
    settings: Mapping[str, Setting],
    levels: tuple[str, ...],
) -> LabTest:
    level = _level(entry, "level", levels)
    only = entry.get("analytes", list, default=None)
    if only is not None:
        for analyte in only:
            if analyte not in rule_analytes:
                entry.fail(f"names analyte {analyte!r}, which is not among the rule's analytes")
    present = [name for name in LAB_TESTS if name in entry.table]
    if len(present) != 1:
        entry.fail(f"needs exactly one test of {', '.join(LAB_TESTS)}; found {present or 'none'}")
    test = present[0]
    applies = tuple(only) if only is not None else rule_analytes
    kinds = {analytes[a].kind for a in applies}
    if test == "equals":
        param = entry.choice(test, QUALITATIVE_VALUES)
        if kinds != {"qualitative"}:
            entry.fail("'equals' applies to qualitative analytes only")
    else:
        if kinds != {"number"}:
            entry.fail(f"{test!r} applies to number analytes only")
        if test in ("below_low", "outside_range"):
            param = entry.get(test, bool)
            if not param:
                entry.fail(f"{test!r} can only be true")
        elif test == "baseline_at_least" and isinstance(entry.table[test], str):
            param = entry.get(test, str)
            if param not in settings or settings[param].type != "number":
                entry.fail(f"names setting {param!r}, which is not a number setting")
        else:
            param = float(entry.get(test, (int, float)))
    entry.done()
    return LabTest(level=level, test=test, param=param, analytes=applies, rank=levels.index(level))


def _load_checklist(
    root: Path, sources: Mapping[str, str]
) -> tuple[tuple[str, ...], tuple[Question, ...], tuple[GroupRule, ...], CareTeam]:
    doc = _Reader("checklist.toml", "top", _read_toml(root, "checklist.toml"))
    levels = tuple(doc.get("levels", list))
    if len(levels) < 2 or levels[0] != "none" or len(set(levels)) != len(levels):
        doc.fail("'levels' must list distinct levels from lowest ('none') to highest")
    questions = []
    table = doc.get("questions", dict)
    for code in table:
        entry = _Reader("checklist.toml", f"questions.{code}", table[code])
        near = None
        if "near_infusion" in entry.table:
            sub = entry.child("near_infusion")
            near = NearInfusion(
                level=_level(sub, "level", levels),
                within_months=sub.get("within_months", int),
                source=_sources(sub, sources),
            )
            sub.done()
        questions.append(
            Question(
                code=code,
                level=_level(entry, "level", levels),
                group=entry.get("group", str),
                asked_of=entry.choice("asked_of", ASKED_OF),
                source=_sources(entry, sources),
                near_infusion=near,
            )
        )
        entry.done()
    groups = {q.group for q in questions}
    group_rules = []
    for index, raw in enumerate(doc.get("group_rules", list, default=[])):
        entry = _Reader("checklist.toml", f"group_rules[{index}]", raw)
        rule = GroupRule(
            group=entry.get("group", str),
            min_yes=entry.get("min_yes", int),
            level=_level(entry, "level", levels),
            source=_sources(entry, sources),
        )
        if rule.group not in groups:
            entry.fail(f"names group {rule.group!r}, which no question belongs to")
        entry.done()
        group_rules.append(rule)
    team = doc.child("care_team")
    care_team = CareTeam(
        flag_from=_level(team, "flag_from", levels),
        push_levels=tuple(team.get("push_levels", list)),
        snooze_max_months=team.get("snooze_max_months", int),
        note_level=_level(team, "note_level", levels),
        source=_sources(team, sources),
    )
    for level in care_team.push_levels:
        if level not in levels:
            team.fail(f"push level {level!r} is not one of {', '.join(levels)}")
    if care_team.note_level == levels[0] or care_team.note_level in care_team.push_levels:
        team.fail(f"'note_level' {care_team.note_level!r} must be above {levels[0]!r} and never pushed")
    team.done()
    doc.done()
    return levels, tuple(questions), tuple(group_rules), care_team


def _load_offset(
    entry: _Reader, key: str, analytes: Mapping[str, Analyte], rule_codes: tuple[str, ...]
) -> Offset:
    sub = entry.child(key)
    closed_by = None
    if "closed_by" in sub.table:
        raw = sub.child("closed_by")
        closed_by = ClosedBy(
            rule=raw.get("rule", str, default=None),
            analyte=raw.get("analyte", str, default=None),
            at_least=_number(raw, "at_least", default=None),
            combine=raw.choice("combine", ("result", "later")),
            strictly_after=raw.get("strictly_after", bool, default=False),
            counted_from=raw.choice("counted_from", ("anchor", "offset"), default="anchor"),
        )
        if (closed_by.rule is None) == (closed_by.analyte is None):
            raw.fail("needs exactly one of 'rule' or 'analyte'")
        if closed_by.rule is not None and closed_by.rule not in rule_codes:
            raw.fail(f"names lab rule {closed_by.rule!r}, which is not in content/labs.toml")
        if closed_by.analyte is not None:
            if closed_by.analyte not in analytes:
                raw.fail(f"names analyte {closed_by.analyte!r}, which is not in content/labs.toml")
            if closed_by.at_least is None:
                raw.fail("an 'analyte' end needs 'at_least'")
        raw.done()
    offset = Offset(
        anchor=sub.choice("from", ANCHORS),
        days=sub.get("days", int, default=0),
        months=sub.get("months", int, default=0),
        closed_by=closed_by,
    )
    sub.done()
    return offset


def _load_items(
    root: Path,
    sources: Mapping[str, str],
    settings: Mapping[str, Setting],
    analytes: Mapping[str, Analyte],
    rule_codes: tuple[str, ...],
) -> tuple[int, int, tuple[ItemRule, ...], str, int, tuple[WarningRule, ...]]:
    doc = _Reader("protocol.toml", "top", _read_toml(root, "protocol.toml"))
    protocol = doc.get("code", str)
    doc.get("name", str)
    monitoring = doc.child("monitoring")
    monitoring_months = monitoring.get("months", int)
    _sources(monitoring, sources)
    monitoring.done()
    pregnancy = doc.child("pregnancy")
    pregnancy_months = pregnancy.get("default_months", int)
    _sources(pregnancy, sources)
    pregnancy.done()
    blocks = doc.child("blocks")
    block_max_gap_days = blocks.get("max_gap_days", int)
    if block_max_gap_days < 1:
        blocks.fail("'max_gap_days' must be 1 or more")
    _sources(blocks, sources)
    blocks.done()

    def setting_of_type(entry: _Reader, key: str, wanted: str) -> str | None:
        name = entry.get(key, str, default=None)
        if name is not None and (name not in settings or settings[name].type != wanted):
            entry.fail(f"'{key}' names {name!r}, which is not a {wanted} setting of settings.toml")
        return name

    items = []
    table = doc.get("items", dict)
    for code in table:
        entry = _Reader("protocol.toml", f"items.{code}", table[code])
        scope = entry.choice("scope", SCOPES)
        fields: dict[str, Any] = dict(
            code=code,
            kind=entry.get("kind", str),
            scope=scope,
            applies_to=entry.choice("applies_to", APPLIES_TO),
            enabled_by=setting_of_type(entry, "enabled_by", "bool"),
            source=_sources(entry, sources),
        )
        if scope in ("course", "block"):
            if "due" in entry.table:
                fields["due"] = _load_offset(entry, "due", analytes, rule_codes)
            else:
                fields["start"] = _load_offset(entry, "start", analytes, rule_codes)
                if "end_by_setting" in entry.table:
                    name = setting_of_type(entry, "end_by_setting", "choice")
                    options = entry.child("end_options")
                    fields["end_by_setting"] = name
                    fields["end_options"] = MappingProxyType(
                        {
                            choice: _load_offset(options, choice, analytes, rule_codes)
                            for choice in settings[name].choices
                        }
                    )
                    options.done()
                else:
                    fields["end"] = _load_offset(entry, "end", analytes, rule_codes)
                fields["end_extended_by"] = entry.choice("end_extended_by", PATIENT_END_DATES, default=None)
            fields["words_by"] = setting_of_type(entry, "words_by", "choice")
        elif scope == "monitoring":
            fields["every_months"] = entry.get("every_months", int)
            if fields["every_months"] < 1:
                entry.fail("'every_months' must be 1 or more")
            fields["analytes"] = tuple(entry.get("analytes", list, default=[]))
            for analyte in fields["analytes"]:
                if analyte not in analytes:
                    entry.fail(f"names analyte {analyte!r}, which is not in content/labs.toml")
            if fields["kind"] == "lab" and not fields["analytes"]:
                entry.fail("a lab item must name the analytes that count as done")
            fields["weekly_series"] = entry.get("weekly_series", bool, default=False)
            fields["monthly_when_pregnant"] = entry.get("monthly_when_pregnant", bool, default=False)
            if fields["kind"] == "checklist":
                fields["window_before_days"] = entry.get("window_before_days", int)
                fields["missed_after_days"] = entry.get("missed_after_days", int)
                # Periods must not overlap: a checklist answers exactly one month.
                if not 0 <= fields["window_before_days"] < 28 or fields["missed_after_days"] < 1:
                    entry.fail("'window_before_days' must be 0-27 and 'missed_after_days' 1 or more")
        elif scope == "end":
            pass  # due on the day monitoring ends: nothing to configure
        else:
            fields["season_start"] = _month_day(entry, "season_start")
            fields["season_end"] = _month_day(entry, "season_end")
            fields["after_last_infusion_months"] = entry.get("after_last_infusion_months", int)
            if fields["season_start"] > fields["season_end"]:
                entry.fail("a season must start and end in the same calendar year")
        entry.done()
        items.append(ItemRule(**fields))
    warnings = []
    for code, raw in doc.get("warnings", dict, default={}).items():
        entry = _Reader("protocol.toml", f"warnings.{code}", raw)
        if code not in WARNING_CODES:
            entry.fail(f"unknown warning; the engine knows {', '.join(WARNING_CODES)}")
        warning = WarningRule(
            code=code,
            from_course=entry.get("from_course", int),
            enabled_by=setting_of_type(entry, "enabled_by", "bool"),
            min_months_after_previous=entry.get("min_months_after_previous", int,
                                                default=... if code == "course.too_soon" else 0),
            recovered_rule=entry.get("recovered_rule", str,
                                     default=... if code == "course.cd4_not_recovered" else None),
            source=_sources(entry, sources),
        )
        if warning.from_course < 1:
            entry.fail("'from_course' must be 1 or more")
        if warning.recovered_rule is not None and warning.recovered_rule not in rule_codes:
            entry.fail(f"names lab rule {warning.recovered_rule!r}, which is not in content/labs.toml")
        entry.done()
        warnings.append(warning)
    doc.done()
    return monitoring_months, pregnancy_months, tuple(items), protocol, block_max_gap_days, tuple(warnings)


REMINDER_REPEATS = ("daily", "weekly", "monthly")
REMINDER_AUDIENCES = ("patient", "care_team")
#: texts.*.reminders keys the clock uses whatever the steps say
REMINDER_TEXTS = ("generic_title", "generic_body", "today", "care_team_title", "care_team_body")


def _load_reminders(root: Path, items: tuple[ItemRule, ...], levels: tuple[str, ...],
                    sources: Mapping[str, str], settings: Mapping[str, Setting],
                    ) -> tuple[Mapping[str, tuple[ReminderStep, ...]], set[str]]:
    doc = _Reader("reminders.toml", "top", _read_toml(root, "reminders.toml"))
    by_code = {item.code: item for item in items}
    plans: dict[str, tuple[ReminderStep, ...]] = {}
    texts = set(REMINDER_TEXTS)
    for index, raw in enumerate(doc.get("reminders", list)):
        entry = _Reader("reminders.toml", f"reminders[{index}]", raw)
        codes = entry.get("codes", list)
        group = entry.get("group", str, default=None)
        source = _sources(entry, sources)
        steps = []
        for step_index, raw_step in enumerate(entry.get("steps", list)):
            sub = _Reader("reminders.toml", f"{entry.where}.steps[{step_index}]", raw_step)
            at = sub.get("at", (str, list, dict))
            at_by, at_choices = None, {}
            if isinstance(at, dict):
                # { by = "<choice setting>", <choice> = [times], ... }: one entry per choice
                at_by = at.get("by")
                setting = settings.get(at_by) if isinstance(at_by, str) else None
                if setting is None or setting.type != "choice":
                    sub.fail(f"'at.by' = {at_by!r} is not a choice setting of settings.toml")
                if set(at) - {"by"} != set(setting.choices):
                    sub.fail(f"'at' must give times for each choice of {at_by}: {', '.join(setting.choices)}")
                at_choices = {choice: (at[choice],) if isinstance(at[choice], str) else tuple(at[choice])
                              for choice in setting.choices}
                at = at_choices[setting.default]
            else:
                at = (at,) if isinstance(at, str) else tuple(at)
            for value in [v for times in (at, *at_choices.values()) for v in times]:
                if value != "reminder_time" and not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", str(value)):
                    sub.fail(f"'at' = {value!r} is not 'reminder_time' or HH:MM")
            step = ReminderStep(
                step=sub.get("step", str),
                group=group,
                anchor=sub.choice("anchor", ("due", "start", "end")),
                days=sub.get("days", int, default=0),
                months=sub.get("months", int, default=0),
                at=at,
                repeat=sub.choice("repeat", REMINDER_REPEATS, default=None),
                audience=sub.choice("audience", REMINDER_AUDIENCES),
                useful_hours=sub.get("useful_hours", int),
                unless=sub.choice("unless", ("done",), default=None),
                flag=sub.choice("flag", levels, default=None),
                text=sub.get("text", str, default=None),
                source=source,
                at_by=at_by,
                at_choices=MappingProxyType(at_choices),
            )
            sub.done()
            if (step.audience == "care_team") != (step.flag is not None):
                sub.fail("a care_team step raises a 'flag', and only care_team steps do")
            if step.text:
                texts.add(step.text)
            steps.append(step)
        for code in codes:
            item = by_code.get(code)
            if item is None:
                entry.fail(f"names item {code!r}, which is not in content/protocol.toml")
            one_day = item.due is not None or item.scope in ("monitoring", "end")
            for step in steps:
                if (step.anchor == "due") != one_day:
                    entry.fail(f"step {step.step!r}: anchor {step.anchor!r} does not fit {code} "
                               f"({'a one-day item' if one_day else 'a window'})")
                if step.unless == "done" and item.kind not in ("lab", "checklist"):
                    entry.fail(f"step {step.step!r}: only labs and checklists can be done")
            if code in plans:
                entry.fail(f"{code} has reminders in two entries")
            plans[code] = tuple(steps)
        entry.done()
    doc.done()
    return MappingProxyType(plans), texts


def _load_texts(root: Path, required: dict[str, set[str]],
                variants: Mapping[str, set[str]] | None = None) -> Mapping[str, Mapping[str, Any]]:
    """Every language file, checked against the codes content/ defines.

    ``required`` maps a text section (``items``, ``questions``...) to the codes it
    must hold. English must hold exactly those; every other language must hold
    exactly English's keys with the same placeholders. ``variants`` maps an item
    code to the word variants (sub-tables) its English text must hold.
    """
    folder = root / "texts"
    present = sorted(path.stem for path in folder.glob("*.toml"))
    for language in present:
        if language not in LANGUAGES:
            raise ContentError(
                f"content/texts/{language}.toml: unknown language; supported: {', '.join(LANGUAGES)}"
            )
    texts = {}
    for language in LANGUAGES:
        name = f"texts/{language}.toml"
        if language not in present:
            raise ContentError(f"content/{name}: missing translation file")
        texts[language] = _read_toml(root, name)

    english = texts[DEFAULT_LANGUAGE]
    for section, codes in required.items():
        node = english
        for part in section.split("."):  # "sheet.who" is the table [sheet.who]
            node = node.get(part, {}) if isinstance(node, dict) else {}
        have = set(node) if isinstance(node, dict) else set()
        if codes - have:
            raise ContentError(
                f"content/texts/en.toml: [{section}] has no text for {', '.join(sorted(codes - have))}"
            )
        if have - codes:
            raise ContentError(
                f"content/texts/en.toml: [{section}] has text for unknown code(s) "
                f"{', '.join(sorted(have - codes))}"
            )
    _check_item_variants(english.get("items", {}), variants or {})
    reference = dict(_leaves(english))
    for key, english_text in reference.items():
        if isinstance(english_text, list):
            _check_text_list("content/texts/en.toml", key, english_text, None)
    for language in LANGUAGES[1:]:
        leaves = dict(_leaves(texts[language]))
        name = f"content/texts/{language}.toml"
        missing = sorted(set(reference) - set(leaves))
        if missing:
            raise ContentError(f"{name}: missing translation for {', '.join(missing[:5])}")
        extra = sorted(set(leaves) - set(reference))
        if extra:
            raise ContentError(f"{name}: unknown key(s) {', '.join(extra[:5])}")
        for key, english_text in reference.items():
            text = leaves[key]
            if isinstance(english_text, list):
                _check_text_list(name, key, text, english_text)
                continue
            if not isinstance(text, str) or not text.strip():
                raise ContentError(f"{name}: {key} is empty")
            if _placeholders(text) != _placeholders(english_text):
                raise ContentError(
                    f"{name}: {key} must use the placeholders {sorted(_placeholders(english_text))}"
                )
    return MappingProxyType({lang: _freeze(doc) for lang, doc in texts.items()})


#: text sections whose entries may hold a list of short texts (emergency signs:
#: a short lead, "any of these?", and one short item each, shown as a list)
TEXT_LIST_SECTIONS = ("questions", "levels", "items")


def _check_text_list(name: str, key: str, value: Any, english: list | None) -> None:
    """A list of non-blank texts, allowed in TEXT_LIST_SECTIONS only; a
    translation has as many entries as English, each with its placeholders."""
    if key.split(".", 1)[0] not in TEXT_LIST_SECTIONS:
        raise ContentError(f"{name}: {key} is a list; only [{'], ['.join(TEXT_LIST_SECTIONS)}] may hold lists")
    if not isinstance(value, list) or not value:
        raise ContentError(f"{name}: {key} must be a non-empty list of texts like English's")
    if english is not None and len(value) != len(english):
        raise ContentError(f"{name}: {key} must have {len(english)} entries, as in English; it has {len(value)}")
    for index, entry in enumerate(value):
        if not isinstance(entry, str) or not entry.strip():
            raise ContentError(f"{name}: {key}[{index}] is empty")
        if english is not None and _placeholders(entry) != _placeholders(english[index]):
            raise ContentError(
                f"{name}: {key}[{index}] must use the placeholders {sorted(_placeholders(english[index]))}"
            )


def _leaves(node: Mapping[str, Any], prefix: str = ""):
    for key, value in node.items():
        path = f"{prefix}.{key}" if prefix else key
        if isinstance(value, dict):
            yield from _leaves(value, path)
        else:
            yield path, value


def _placeholders(text: str) -> set[str]:
    return {field for _, field, _, _ in string.Formatter().parse(text) if field}


def _freeze(node: Any) -> Any:
    if isinstance(node, dict):
        return MappingProxyType({key: _freeze(value) for key, value in node.items()})
    if isinstance(node, list):
        return tuple(node)
    return node


def _sheet_texts(protocol: str, items: tuple[ItemRule, ...], rules: tuple[LabRule, ...],
                 settings: Mapping[str, Setting], reminders: Mapping[str, tuple[ReminderStep, ...]]
                 ) -> dict[str, set[str]]:
    """What texts.*.toml [sheet] must hold: the protocol sheet (sheet.py) says every
    code of content/ through these tables, so a new code needs its words there."""
    from .sheet import SHEET_LABELS  # sheet.py reads Content: imported when loading

    tables = {
        "protocols": {protocol},
        "scopes": set(SCOPES),
        "anchors": set(ANCHORS),
        "offsets": {f"{anchor}_{way}" for anchor in ANCHORS for way in ("on", "before", "after")},
        "who": set(APPLIES_TO) | set(ASKED_OF),
        "tests": set(LAB_TESTS),
        "follow_up": {rule.follow_up for rule in rules},
        "reminder_anchors": {f"{step.anchor}_{way}" for steps in reminders.values() for step in steps
                             for way in ("on", "before", "after")},
        "repeats": set(REMINDER_REPEATS),
        "audiences": set(REMINDER_AUDIENCES),
        "setting_types": set(SETTING_TYPES),
        # the usual-unit settings are made from labs.toml: the sheet words them with one label
        "settings": {name for name in settings if not name.startswith(UNIT_SETTING_PREFIX)},
        "month_names": {str(month) for month in range(1, 13)},
    }
    return {"sheet": set(SHEET_LABELS) | set(tables), **{f"sheet.{name}": codes for name, codes in tables.items()}}


def load_content(root: Path | str | None = None) -> Content:
    """Read and validate content/ (or ``root``); raise ContentError on any defect."""
    root = Path(root) if root is not None else DEFAULT_CONTENT_DIR
    sources = _load_sources(root)
    settings = _load_settings(root, sources)
    levels, questions, group_rules, care_team = _load_checklist(root, sources)

    labs = _Reader("labs.toml", "top", _read_toml(root, "labs.toml"))
    analytes = _load_analytes(labs, sources)
    rules = _load_rules(labs, analytes, settings, levels, sources)
    weekly = labs.child("weekly_cbc")
    weekly_cbc = WeeklyCbc(
        analyte=weekly.get("analyte", str),
        interval_days=weekly.get("interval_days", int),
        normal_results_to_stop=weekly.get("normal_results_to_stop", int),
        source=_sources(weekly, sources),
        restart_rules=tuple(weekly.get("restart_rules", list)),
        restart_fall=_number(weekly, "restart_fall"),
    )
    if weekly_cbc.analyte not in analytes:
        weekly.fail(f"names analyte {weekly_cbc.analyte!r}, which is not in [analytes]")
    series_rules = {rule.code for rule in rules if rule.weekly_cbc}
    for code in weekly_cbc.restart_rules:
        if code not in series_rules:
            weekly.fail(f"restart rule {code!r} is not a weekly_cbc rule of [[rules]]")
    if not 0 < weekly_cbc.restart_fall < 1:
        weekly.fail("'restart_fall' must be a fraction between 0 and 1")
    if weekly_cbc.interval_days < 1 or weekly_cbc.normal_results_to_stop < 1:
        weekly.fail("'interval_days' and 'normal_results_to_stop' must be 1 or more")
    weekly.done()
    labs.done()
    # The clinics' usual units are site settings like the others (API, settings screen).
    settings = MappingProxyType({**settings, **unit_settings(analytes)})

    monitoring_months, pregnancy_months, items, protocol, block_max_gap_days, warnings = _load_items(
        root, sources, settings, analytes, tuple(rule.code for rule in rules)
    )
    reminders, reminder_texts = _load_reminders(root, items, levels, sources, settings)
    if sum(item.weekly_series for item in items) > 1:
        raise ContentError("content/protocol.toml: only one item can carry the weekly series")

    texts = _load_texts(
        root,
        {
            "levels": set(levels),
            "kinds": {item.kind for item in items},
            "groups": {q.group for q in questions},
            "items": {item.code for item in items},
            "questions": {q.code for q in questions},
            "rules": {rule.code for rule in rules},
            "analytes": set(analytes),
            "reminders": reminder_texts,
            **_sheet_texts(protocol, items, rules, settings, reminders),
            "warnings": {warning.code for warning in warnings},
        },
        {item.code: {choice for choice in settings[item.words_by].choices
                     if choice != settings[item.words_by].default}
         for item in items if item.words_by is not None},
    )

    return Content(
        protocol=protocol,
        monitoring_months=monitoring_months,
        pregnancy_months=pregnancy_months,
        items=items,
        questions=questions,
        group_rules=group_rules,
        levels=levels,
        analytes=analytes,
        rules=rules,
        weekly_cbc=weekly_cbc,
        settings=settings,
        sources=sources,
        texts=texts,
        care_team=care_team,
        reminders=reminders,
        rules_by_analyte=MappingProxyType({
            code: tuple(rule for rule in rules if code in rule.analytes) for code in analytes
        }),
        block_max_gap_days=block_max_gap_days,
        warnings=warnings,
    )


def _check_item_variants(english_items: Mapping[str, Any], variants: Mapping[str, set[str]]) -> None:
    """An item with ``words_by`` has, in English (the other languages follow it),
    a sub-table for every choice of its setting but the default, with the keys
    of the item's own words; an item without has no sub-table."""
    for code, node in english_items.items():
        tables = {key for key, value in node.items() if isinstance(value, dict)}
        wanted = variants.get(code, set())
        if tables != wanted:
            raise ContentError(
                f"content/texts/en.toml: [items.\"{code}\"] needs word variants for "
                f"{', '.join(sorted(wanted)) or 'no setting'}; found {', '.join(sorted(tables)) or 'none'}"
            )
        keys = {key for key, value in node.items() if not isinstance(value, dict)}
        for choice in wanted:
            if set(node[choice]) != keys:
                raise ContentError(
                    f"content/texts/en.toml: [items.\"{code}\".{choice}] must have the keys "
                    f"{', '.join(sorted(keys))}"
                )


@lru_cache(maxsize=1)
def default_content() -> Content:
    """content/ of this repository, loaded once per process."""
    return load_content()
