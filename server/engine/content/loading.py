"""load_content: read content/ file by file, validate every rule, build Content.

Loading fails with a :class:`ContentError` naming the file, the place and the
problem: an unknown code, a missing translation or placeholder, a missing or
unknown source, a rule naming an analyte or setting that does not exist.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType
from typing import Any, Mapping

from ..errors import ContentError
from ..units import Unit, normalise
from .model import (
    ANCHORS,
    APPLIES_TO,
    ASKED_OF,
    LAB_TESTS,
    PATIENT_END_DATES,
    QUALITATIVE_VALUES,
    REMINDER_AUDIENCES,
    REMINDER_REPEATS,
    ROUTES,
    SCOPES,
    WARNING_CODES,
    WARNING_COURSES,
    WEEKDAYS,
    Analyte,
    CareTeam,
    ClosedBy,
    Content,
    CourseProposal,
    GroupRule,
    ItemRule,
    LabRule,
    LabTest,
    NearInfusion,
    Offset,
    ProposalRoute,
    Question,
    ReminderStep,
    SeriesPart,
    Setting,
    WarningRule,
    WeeklyCbc,
)
from .reading import Reader, month_day, read_number, read_toml, sources_of
from .settings import load_settings, unit_settings
from .texts import load_texts, sheet_texts

#: content/ at the top of the repository (the project installs in editable mode).
DEFAULT_CONTENT_DIR = Path(__file__).resolve().parents[3] / "content"
#: what every protocol shares: sources, site settings, analytes and units, sheet words
SHARED_DIR = "shared"
#: the protocol a patient follows unless told otherwise (CLINICAL.md section 1)
DEFAULT_PROTOCOL = "ms"
#: texts.*.reminders keys the clock uses whatever the steps say
REMINDER_TEXTS = ("generic_title", "generic_body", "today", "care_team_title", "care_team_body")


def load_content(root: Path | str | None = None) -> Content:
    """Read and validate content/ (or ``root``); raise ContentError on any defect.

    content/shared/ holds what every protocol shares and content/<code>/ each
    protocol (a folder with a protocol.toml). The answer is the default
    protocol's Content; ``Content.of(code)`` gives any other, and all of them
    share one ``protocols`` mapping, analytes, settings and sources.
    """
    root = Path(root) if root is not None else DEFAULT_CONTENT_DIR
    sources = _load_sources(root)
    settings = load_settings(root, sources)
    doc = Reader(ANALYTES_FILE, "top", read_toml(root, ANALYTES_FILE))
    analytes = _load_analytes(doc, sources)
    doc.done()
    # The clinics' usual units are site settings like the others (API, settings screen).
    settings = MappingProxyType({**settings, **unit_settings(analytes)})
    codes = sorted(path.parent.name for path in root.glob("*/protocol.toml"))
    if DEFAULT_PROTOCOL not in codes:
        raise ContentError(f"content/{DEFAULT_PROTOCOL}/protocol.toml: file is missing (the default protocol)")
    registry: dict[str, Content] = {}
    protocols = MappingProxyType(registry)
    for code in codes:
        registry[code] = _load_protocol(root, code, tuple(codes), sources, settings, analytes, protocols)
    levels = registry[DEFAULT_PROTOCOL].levels
    for code, loaded in registry.items():
        # Flags of every protocol share one queue, ordered by level.
        if loaded.levels != levels:
            raise ContentError(f"content/{code}/checklist.toml: 'levels' must be those of "
                               f"{DEFAULT_PROTOCOL}: {', '.join(levels)}")
    return registry[DEFAULT_PROTOCOL]


def _load_protocol(root: Path, folder: str, codes: tuple[str, ...], sources: Mapping[str, str],
                   settings: Mapping[str, Setting], analytes: Mapping[str, Analyte],
                   protocols: Mapping[str, Content]) -> Content:
    """One protocol's folder: checklist, lab rules, items, reminders and texts."""
    levels, questions, group_rules, care_team = _load_checklist(root, folder, sources)

    labs = Reader(f"{folder}/labs.toml", "top", read_toml(root, f"{folder}/labs.toml"))
    rules = _load_rules(labs, folder, analytes, settings, levels, sources)
    weekly_cbc = None
    if "weekly_cbc" in labs.table:
        weekly = labs.child("weekly_cbc")
        weekly_cbc = WeeklyCbc(
            analyte=weekly.get("analyte", str),
            interval_days=weekly.get("interval_days", int),
            normal_results_to_stop=weekly.get("normal_results_to_stop", int),
            source=sources_of(weekly, sources),
            restart_rules=tuple(weekly.get("restart_rules", list)),
            restart_fall=read_number(weekly, "restart_fall"),
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

    (monitoring_months, pregnancy_months, items, protocol, block_max_gap_days, warnings, max_course_dates,
     proposal) = _load_items(
        root, folder, sources, settings, analytes, tuple(rule.code for rule in rules)
    )
    if protocol != folder:
        raise ContentError(f"content/{folder}/protocol.toml: 'code' {protocol!r} must be the folder's name")
    # A protocol without a fixed monitoring period has items per course only
    # (timeline._protocol_items); one with it has no dose or series items.
    allowed = ("course", "dose", "series") if not monitoring_months else ("course", "block", "monitoring",
                                                                          "season", "end")
    for item in items:
        if item.scope not in allowed:
            raise ContentError(f"content/{folder}/protocol.toml: items.{item.code}: scope {item.scope!r} "
                               f"needs {'no' if not monitoring_months else 'a'} [monitoring] ends_with_items")
    if sum(item.kind == "checklist" for item in items) != 1:
        raise ContentError(f"content/{folder}/protocol.toml: a protocol has exactly one checklist item")
    reminders, reminder_texts = _load_reminders(root, folder, items, levels, sources, settings)
    if sum(item.weekly_series for item in items) > 1:
        raise ContentError(f"content/{folder}/protocol.toml: only one item can carry the weekly series")
    if any(item.weekly_series for item in items) and weekly_cbc is None:
        raise ContentError(f"content/{folder}/labs.toml: an item carries the weekly series but there is "
                           "no [weekly_cbc]")

    texts = load_texts(
        root,
        folder,
        {
            "levels": set(levels),
            "kinds": {item.kind for item in items},
            "groups": {q.group for q in questions},
            "items": {item.code for item in items},
            "questions": {q.code for q in questions},
            "rules": {rule.code for rule in rules},
            "analytes": set(analytes),
            "reminders": reminder_texts,
            **sheet_texts(codes, items, rules, settings, reminders),
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
        max_course_dates=max_course_dates,
        proposal=proposal,
        protocols=protocols,
    )


@lru_cache(maxsize=1)
def default_content() -> Content:
    """content/ of this repository, loaded once per process (the default protocol's;
    ``.of(code)`` for the others)."""
    return load_content()


SOURCES_FILE = f"{SHARED_DIR}/sources.toml"
ANALYTES_FILE = f"{SHARED_DIR}/analytes.toml"


def _load_sources(root: Path) -> Mapping[str, str]:
    doc = Reader(SOURCES_FILE, "top", read_toml(root, SOURCES_FILE))
    sources = doc.get("sources", dict)
    doc.done()
    titles = {}
    for key in sources:
        entry = Reader(SOURCES_FILE, f"sources.{key}", sources[key])
        titles[key] = entry.get("title", str)
        entry.get("file", str, default=None)
        entry.done()
    return MappingProxyType(titles)


def _load_analytes(doc: Reader, sources: Mapping[str, str]) -> Mapping[str, Analyte]:
    table = doc.get("analytes", dict)
    analytes = {}
    for code in table:
        entry = Reader(ANALYTES_FILE, f"analytes.{code}", table[code])
        kind = entry.choice("kind", ("number", "qualitative"))
        if kind == "number":
            unit = entry.get("unit", str)
            units, index = _load_units(entry, code, unit)
            analyte = Analyte(
                code=code,
                kind=kind,
                unit=unit,
                low=read_number(entry, "low", default=None),
                high=read_number(entry, "high", default=None),
                source=sources_of(entry, sources),
                units=units,
                unit_index=index,
                plausible=_plausible(entry),
                units_source=sources_of(entry, sources, "units_source"),
                ucum=entry.get("ucum", str),
                **_codes(entry, sources),
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
                source=sources_of(entry, sources),
                **_codes(entry, sources),
            )
        entry.done()
        analytes[code] = analyte
    return MappingProxyType(analytes)


def _load_units(entry: Reader, code: str, canonical: str) -> tuple[tuple[tuple[str, float], ...],
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


def _codes(entry: Reader, sources: Mapping[str, str]) -> dict[str, Any]:
    """The analyte's LOINC code (``loinc = {code, display}``) and where it comes from."""
    loinc = entry.child("loinc")
    code = loinc.get("code", str)
    if not re.fullmatch(r"\d{1,7}-\d", code):
        loinc.fail(f"'code' {code!r} is not a LOINC code (digits, a hyphen, a check digit)")
    display = loinc.get("display", str)
    loinc.done()
    return {"loinc": code, "loinc_display": display, "codes_source": sources_of(entry, sources, "codes_source")}


def _plausible(entry: Reader) -> tuple[float, float]:
    value = entry.get("plausible", list)
    if len(value) != 2 or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value) \
            or not 0 <= value[0] < value[1]:
        entry.fail("'plausible' must be [least, most], two numbers with 0 <= least < most")
    return float(value[0]), float(value[1])



def _load_rules(
    doc: Reader,
    folder: str,
    analytes: Mapping[str, Analyte],
    settings: Mapping[str, Setting],
    levels: tuple[str, ...],
    sources: Mapping[str, str],
) -> tuple[LabRule, ...]:
    rules = []
    for index, raw in enumerate(doc.get("rules", list)):
        entry = Reader(f"{folder}/labs.toml", f"rules[{index}]", raw)
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
                    Reader(f"{folder}/labs.toml", f"{entry.where}.when[{test_index}]", raw_test),
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
                source=sources_of(entry, sources),
            )
        )
        entry.done()
    codes = [rule.code for rule in rules]
    for rule in rules:
        if codes.count(rule.code) > 1:
            raise ContentError(f"content/{folder}/labs.toml: rule code {rule.code!r} appears twice")
        for other in rule.supersedes:
            if other not in codes:
                raise ContentError(
                    f"content/{folder}/labs.toml: rule {rule.code!r} supersedes unknown rule {other!r}"
                )
    return tuple(rules)


def _load_lab_test(
    entry: Reader,
    rule_analytes: tuple[str, ...],
    analytes: Mapping[str, Analyte],
    settings: Mapping[str, Setting],
    levels: tuple[str, ...],
) -> LabTest:
    level = entry.choice("level", levels)
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
        elif test == "rising":
            param = entry.get(test, int)
            if param < 1:
                entry.fail("'rising' is the number of days back a previous result counts (1 or more)")
        elif test == "hold":
            sub = entry.child("hold")
            present_cmp = [name for name in ("below", "at_most") if name in sub.table]
            if len(present_cmp) != 1:
                sub.fail("needs exactly one of 'below' or 'at_most'")
            param = (present_cmp[0], read_number(sub, present_cmp[0]),
                     read_number(sub, "baseline_at_most"), read_number(sub, "fall"))
            if not 0 < param[3] < 1:
                sub.fail("'fall' must be a fraction between 0 and 1")
            sub.done()
        elif test == "baseline_at_least" and isinstance(entry.table[test], str):
            param = entry.get(test, str)
            if param not in settings or settings[param].type != "number":
                entry.fail(f"names setting {param!r}, which is not a number setting")
        else:
            param = float(entry.get(test, (int, float)))
    entry.done()
    return LabTest(level=level, test=test, param=param, analytes=applies, rank=levels.index(level))


def _load_checklist(
    root: Path, folder: str, sources: Mapping[str, str]
) -> tuple[tuple[str, ...], tuple[Question, ...], tuple[GroupRule, ...], CareTeam]:
    name = f"{folder}/checklist.toml"
    doc = Reader(name, "top", read_toml(root, name))
    levels = tuple(doc.get("levels", list))
    if len(levels) < 2 or levels[0] != "none" or len(set(levels)) != len(levels):
        doc.fail("'levels' must list distinct levels from lowest ('none') to highest")
    questions = []
    table = doc.get("questions", dict)
    for code in table:
        entry = Reader(name, f"questions.{code}", table[code])
        near = None
        if "near_infusion" in entry.table:
            sub = entry.child("near_infusion")
            near = NearInfusion(
                level=sub.choice("level", levels),
                within_months=sub.get("within_months", int),
                source=sources_of(sub, sources),
            )
            sub.done()
        questions.append(
            Question(
                code=code,
                level=entry.choice("level", levels),
                group=entry.get("group", str),
                asked_of=entry.choice("asked_of", ASKED_OF),
                source=sources_of(entry, sources),
                near_infusion=near,
            )
        )
        entry.done()
    groups = {q.group for q in questions}
    group_rules = []
    for index, raw in enumerate(doc.get("group_rules", list, default=[])):
        entry = Reader(name, f"group_rules[{index}]", raw)
        rule = GroupRule(
            group=entry.get("group", str),
            min_yes=entry.get("min_yes", int),
            level=entry.choice("level", levels),
            source=sources_of(entry, sources),
        )
        if rule.group not in groups:
            entry.fail(f"names group {rule.group!r}, which no question belongs to")
        entry.done()
        group_rules.append(rule)
    team = doc.child("care_team")
    care_team = CareTeam(
        flag_from=team.choice("flag_from", levels),
        push_levels=tuple(team.get("push_levels", list)),
        snooze_max_months=team.get("snooze_max_months", int),
        note_level=team.choice("note_level", levels),
        source=sources_of(team, sources),
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
    entry: Reader, key: str, analytes: Mapping[str, Analyte], rule_codes: tuple[str, ...],
    settings: Mapping[str, Setting],
) -> Offset:
    sub = entry.child(key)
    closed_by = _load_closed_by(sub.child("closed_by"), analytes, rule_codes) if "closed_by" in sub.table else None
    offset = Offset(
        anchor=sub.choice("from", ANCHORS),
        days=sub.get("days", int, default=0),
        months=sub.get("months", int, default=0),
        closed_by=closed_by,
        months_by=sub.get("months_by", str, default=None),
        weeks_by=sub.get("weeks_by", str, default=None),
    )
    for name in (offset.months_by, offset.weeks_by):
        if name is not None and (name not in settings or settings[name].type != "int"):
            sub.fail(f"names setting {name!r}, which is not an int setting of settings.toml")
    sub.done()
    return offset


def _load_closed_by(raw: Reader, analytes: Mapping[str, Analyte], rule_codes: tuple[str, ...]) -> ClosedBy:
    closed_by = ClosedBy(
        rule=raw.get("rule", str, default=None),
        analyte=raw.get("analyte", str, default=None),
        at_least=read_number(raw, "at_least", default=None),
        combine=raw.choice("combine", ("result", "later")),
        strictly_after=raw.get("strictly_after", bool, default=False),
        counted_from=raw.choice("counted_from", ("anchor", "offset"), default="anchor"),
        above=read_number(raw, "above", default=None),
    )
    if (closed_by.rule is None) == (closed_by.analyte is None):
        raw.fail("needs exactly one of 'rule' or 'analyte'")
    if closed_by.rule is not None and closed_by.rule not in rule_codes:
        raw.fail(f"names lab rule {closed_by.rule!r}, which is not in the protocol's labs.toml")
    if closed_by.analyte is not None:
        if closed_by.analyte not in analytes:
            raw.fail(f"names analyte {closed_by.analyte!r}, which is not in content/{ANALYTES_FILE}")
        if (closed_by.at_least is None) == (closed_by.above is None):
            raw.fail("an 'analyte' end needs exactly one of 'at_least' or 'above'")
    raw.done()
    return closed_by


def _load_series(entry: Reader, analytes: Mapping[str, Analyte], rule_codes: tuple[str, ...],
                 settings: Mapping[str, Setting]) -> tuple[SeriesPart, ...]:
    parts = []
    for index, raw in enumerate(entry.get("series", list)):
        sub = Reader(entry.file, f"{entry.where}.series[{index}]", raw)
        part = SeriesPart(
            anchor=sub.choice("from", ANCHORS),
            first=sub.get("first", int),
            every_days=sub.get("every_days", int, default=0),
            every_months=sub.get("every_months", int, default=0),
            last=sub.get("last", int, default=0),
            until=_load_offset(sub, "until", analytes, rule_codes, settings) if "until" in sub.table else None,
        )
        if bool(part.every_days) == bool(part.every_months):
            sub.fail("needs exactly one of 'every_days' or 'every_months' (1 or more)")
        if part.every_days and (part.until is None or part.last):
            sub.fail("a weekly run ends 'until' an offset (and has no 'last')")
        if part.every_months and (part.until is not None or part.last < part.first):
            sub.fail("a monthly run goes from 'first' to 'last' months (no 'until')")
        if part.first < 0 or part.every_days < 0 or part.every_months < 0:
            sub.fail("'first', 'every_days' and 'every_months' cannot be negative")
        sub.done()
        parts.append(part)
    if not parts:
        entry.fail("a series needs at least one run in 'series'")
    return tuple(parts)


def _load_items(
    root: Path,
    folder: str,
    sources: Mapping[str, str],
    settings: Mapping[str, Setting],
    analytes: Mapping[str, Analyte],
    rule_codes: tuple[str, ...],
) -> tuple[int, int, tuple[ItemRule, ...], str, int, tuple[WarningRule, ...], int, CourseProposal | None]:
    name = f"{folder}/protocol.toml"
    doc = Reader(name, "top", read_toml(root, name))
    protocol = doc.get("code", str)
    doc.get("name", str)
    max_course_dates = doc.get("max_course_dates", int)
    if max_course_dates < 1:
        doc.fail("'max_course_dates' must be 1 or more")
    monitoring = doc.child("monitoring")
    # months after L*, or (0) until the protocol's last item (CLINICAL.md 7.2)
    if monitoring.get("ends_with_items", bool, default=False):
        monitoring_months = 0
    else:
        monitoring_months = monitoring.get("months", int)
        if monitoring_months < 1:
            monitoring.fail("'months' must be 1 or more (or ends_with_items = true)")
    sources_of(monitoring, sources)
    monitoring.done()
    pregnancy = doc.child("pregnancy")
    pregnancy_months = pregnancy.get("default_months", int)
    sources_of(pregnancy, sources)
    pregnancy.done()
    block_max_gap_days = 3
    if "blocks" in doc.table:  # only protocols with scope "block" items need it
        blocks = doc.child("blocks")
        block_max_gap_days = blocks.get("max_gap_days", int)
        if block_max_gap_days < 1:
            blocks.fail("'max_gap_days' must be 1 or more")
        sources_of(blocks, sources)
        blocks.done()

    def setting_of_type(entry: Reader, key: str, wanted: str) -> str | None:
        name = entry.get(key, str, default=None)
        if name is not None and (name not in settings or settings[name].type != wanted):
            entry.fail(f"'{key}' names {name!r}, which is not a {wanted} setting of settings.toml")
        return name

    items = []
    table = doc.get("items", dict)
    for code in table:
        entry = Reader(name, f"items.{code}", table[code])
        scope = entry.choice("scope", SCOPES)
        fields: dict[str, Any] = dict(
            code=code,
            kind=entry.get("kind", str),
            scope=scope,
            applies_to=entry.choice("applies_to", APPLIES_TO),
            enabled_by=setting_of_type(entry, "enabled_by", "bool"),
            source=sources_of(entry, sources),
            first_course_only=entry.get("first_course_only", bool, default=False),
        )
        if scope in ("dose", "series"):
            if scope == "series":
                fields["series"] = _load_series(entry, analytes, rule_codes, settings)
                if "stops_at" in entry.table:
                    fields["stops_at"] = _load_closed_by(entry.child("stops_at"), analytes, rule_codes)
            fields["analytes"] = tuple(entry.get("analytes", list, default=[]))
            for analyte in fields["analytes"]:
                if analyte not in analytes:
                    entry.fail(f"names analyte {analyte!r}, which is not in content/{ANALYTES_FILE}")
            if fields["kind"] == "lab" and not fields["analytes"]:
                entry.fail("a lab item must name the analytes that count as done")
            if fields["kind"] == "checklist":
                fields["window_before_days"] = entry.get("window_before_days", int)
                fields["missed_after_days"] = entry.get("missed_after_days", int)
                # Periods must not overlap: a weekly checklist answers exactly one week.
                if not 0 <= fields["window_before_days"] < 7 or fields["missed_after_days"] < 1:
                    entry.fail("'window_before_days' must be 0-6 and 'missed_after_days' 1 or more")
        elif scope in ("course", "block"):
            if "due" in entry.table:
                fields["due"] = _load_offset(entry, "due", analytes, rule_codes, settings)
            else:
                fields["start"] = _load_offset(entry, "start", analytes, rule_codes, settings)
                if "end_by_setting" in entry.table:
                    name = setting_of_type(entry, "end_by_setting", "choice")
                    options = entry.child("end_options")
                    fields["end_by_setting"] = name
                    fields["end_options"] = MappingProxyType(
                        {
                            choice: _load_offset(options, choice, analytes, rule_codes, settings)
                            for choice in settings[name].choices
                        }
                    )
                    options.done()
                else:
                    fields["end"] = _load_offset(entry, "end", analytes, rule_codes, settings)
                fields["end_extended_by"] = entry.choice("end_extended_by", PATIENT_END_DATES, default=None)
            fields["words_by"] = setting_of_type(entry, "words_by", "choice")
        elif scope == "monitoring":
            fields["every_months"] = entry.get("every_months", int)
            if fields["every_months"] < 1:
                entry.fail("'every_months' must be 1 or more")
            fields["analytes"] = tuple(entry.get("analytes", list, default=[]))
            for analyte in fields["analytes"]:
                if analyte not in analytes:
                    entry.fail(f"names analyte {analyte!r}, which is not in content/{ANALYTES_FILE}")
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
            fields["season_start"] = month_day(entry, "season_start")
            fields["season_end"] = month_day(entry, "season_end")
            fields["after_last_infusion_months"] = entry.get("after_last_infusion_months", int)
            if fields["season_start"] > fields["season_end"]:
                entry.fail("a season must start and end in the same calendar year")
        entry.done()
        items.append(ItemRule(**fields))
    warnings = []
    for code, raw in doc.get("warnings", dict, default={}).items():
        entry = Reader(name, f"warnings.{code}", raw)
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
            source=sources_of(entry, sources),
            courses=entry.choice("courses", WARNING_COURSES, default="planned"),
            max_dose_mg=read_number(entry, "max_dose_mg", default=... if code == "course.dose_limit" else 0),
            max_window_mg=read_number(entry, "max_window_mg", default=... if code == "course.dose_limit" else 0),
            window_days=entry.get("window_days", int, default=... if code == "course.dose_limit" else 0),
            gap_days=entry.get("gap_days", int, default=... if code == "course.reescalate" else 0),
            restart_mg=read_number(entry, "restart_mg", default=... if code == "course.reescalate" else 0),
        )
        if warning.from_course < 1:
            entry.fail("'from_course' must be 1 or more")
        if warning.recovered_rule is not None and warning.recovered_rule not in rule_codes:
            entry.fail(f"names lab rule {warning.recovered_rule!r}, which is not in content/{folder}/labs.toml")
        entry.done()
        warnings.append(warning)
    proposal = _load_proposal(doc.child("proposal", "proposal"), sources, warnings, max_course_dates) \
        if "proposal" in doc.table else None
    doc.done()
    return (monitoring_months, pregnancy_months, tuple(items), protocol, block_max_gap_days, tuple(warnings),
            max_course_dates, proposal)


def _load_proposal(entry: Reader, sources: Mapping[str, str], warnings: list[WarningRule],
                   max_course_dates: int) -> CourseProposal:
    """[proposal]: the proposed course of CLINICAL.md 7.1, checked against the dose
    warning it keeps within, so that no proposal can warn."""
    keep_within = entry.get("keep_within", str)
    limit = next((w for w in warnings if w.code == keep_within), None)
    if limit is None or keep_within != "course.dose_limit":
        entry.fail(f"'keep_within' = {keep_within!r} must name this protocol's course.dose_limit warning")
    weekdays = entry.get("weekdays", list)
    if not weekdays or any(day not in WEEKDAYS for day in weekdays) or len(set(weekdays)) != len(weekdays):
        entry.fail(f"'weekdays' must be distinct days of {', '.join(WEEKDAYS)}")
    routes_table = entry.child("routes")
    routes = {}
    for route in routes_table.table:
        sub = routes_table.child(route)
        if route not in ROUTES:
            sub.fail(f"unknown route; the engine knows {', '.join(ROUTES)}")
        escalation = sub.get("escalation_mg", list)
        if any(isinstance(mg, bool) or not isinstance(mg, (int, float)) or mg <= 0 for mg in escalation):
            sub.fail("'escalation_mg' must be doses (mg) above 0")
        routes[route] = ProposalRoute(
            route=route,
            escalation_mg=tuple(float(mg) for mg in escalation),
            escalation_every_days=sub.get("escalation_every_days", int, default=... if escalation else 1),
            source=sources_of(sub, sources),
        )
        if routes[route].escalation_every_days < 1:
            sub.fail("'escalation_every_days' must be 1 or more")
        sub.done()
    routes_table.done()
    if not routes:
        entry.fail("[proposal.routes] needs at least one route")
    proposal = CourseProposal(
        dose_mg=read_number(entry, "dose_mg"),
        doses=entry.get("doses", int),
        weekdays=tuple(sorted(WEEKDAYS.index(day) for day in weekdays)),
        min_gap_days=entry.get("min_gap_days", int),
        keep_within=keep_within,
        window_mg=limit.max_window_mg,
        window_days=limit.window_days,
        routes=MappingProxyType(routes),
        source=sources_of(entry, sources),
    )
    entry.done()
    if proposal.doses < 1 or proposal.min_gap_days < 1:
        entry.fail("'doses' and 'min_gap_days' must be 1 or more")
    # A proposal the dose warning would flag, or one no day of the week can fit, is a content defect.
    if not 0 < proposal.dose_mg <= limit.max_dose_mg or proposal.dose_mg > proposal.window_mg:
        entry.fail(f"'dose_mg' must be above 0 and within {keep_within} ({limit.max_dose_mg:g} mg a dose, "
                   f"{limit.max_window_mg:g} mg in {limit.window_days} days)")
    for route in routes.values():
        if any(mg > proposal.dose_mg for mg in route.escalation_mg):
            entry.fail(f"routes.{route.route}: an escalation dose above 'dose_mg'")
        if proposal.doses + len(route.escalation_mg) > max_course_dates:
            entry.fail(f"routes.{route.route}: more doses than 'max_course_dates' ({max_course_dates})")
    return proposal


def _load_reminders(root: Path, folder: str, items: tuple[ItemRule, ...], levels: tuple[str, ...],
                    sources: Mapping[str, str], settings: Mapping[str, Setting],
                    ) -> tuple[Mapping[str, tuple[ReminderStep, ...]], set[str]]:
    name = f"{folder}/reminders.toml"
    doc = Reader(name, "top", read_toml(root, name))
    by_code = {item.code: item for item in items}
    plans: dict[str, tuple[ReminderStep, ...]] = {}
    texts = set(REMINDER_TEXTS)
    for index, raw in enumerate(doc.get("reminders", list)):
        entry = Reader(name, f"reminders[{index}]", raw)
        codes = entry.get("codes", list)
        group = entry.get("group", str, default=None)
        source = sources_of(entry, sources)
        steps = []
        for step_index, raw_step in enumerate(entry.get("steps", list)):
            sub = Reader(name, f"{entry.where}.steps[{step_index}]", raw_step)
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
                entry.fail(f"names item {code!r}, which is not in content/{folder}/protocol.toml")
            one_day = item.due is not None or item.scope in ("monitoring", "end", "dose", "series")
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
