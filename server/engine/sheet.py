"""The protocol sheet: content/ as a clinical lead reads, reviews and signs it.

``build_sheet(content, language)`` turns the very :class:`Content` the engine
computes with into sections of rows; ``render(sheet, fmt)`` prints them as a
printable HTML document, Markdown tables or JSON. Nothing here holds a clinical
number or a list of codes: every row comes from iterating over what Content
holds, and every word from the ``[sheet]`` table of content/texts/<language>.toml
(validated on load: a code without words there fails loading).

Each kind of content has one small function (``_items_section``,
``_questions_section`` ...), listed in ``SECTIONS``; a new kind of content is a
new function and a line there. Each row carries ``cells`` (the words, one per
column) and ``data`` (the content value itself, as plain JSON), so a new field of
an existing kind is in the JSON at once and in the words once a cell says it.
"""

from __future__ import annotations

import dataclasses
import hashlib
import html
import json
from datetime import date, time
from types import MappingProxyType
from typing import Any, Callable, Iterable, Mapping

from .content.model import LANGUAGES, WEEKDAYS, Content, ItemRule, LabRule, LabTest, Offset, SeriesPart
from .content.settings import UNIT_SETTING_PREFIX

FORMATS = ("html", "markdown", "json")

#: the flat labels of texts.*.toml [sheet] (its sub-tables are keyed by content
#: codes; engine/content/texts.py checks both when content/ is loaded)
SHEET_LABELS = frozenset("""
title subtitle protocol language version version_note contents monitoring
items_title items_intro questions_title questions_intro checklist_rules_title note_rule
labs_title labs_intro analytes_title analytes_intro reminders_title reminders_intro
settings_title settings_intro sources_title sources_intro approval_title approval_text
sign_clinic sign_name sign_role sign_date sign_signature generated_by
col_code col_item col_timing col_applies col_settings col_source col_question col_group
col_level col_rule col_conditions col_follow_up col_analyte col_unit col_range col_items
col_reminder col_time col_audience col_message col_setting col_type col_default col_values
col_changes col_title
day days week weeks month months hour hours amount_and window due later_of
closed_analyte closed_analyte_after closed_rule closed_rule_after open_until
end_by_setting option extended_by enabled_by cadence every_one every_many
monthly_when_pregnant weekly_series checklist_window done_when season day_of_year
near_infusion group_rule care_team above_high no_default positive negative supersedes
starts_weekly no_flag weekly_cbc range_both range_high range_low normal_value at_setting
unless_done raises_flag useful grouped yes no not_set between at_least at_most used_by
list_and list_or decimal
extended_by_patient closed_rule_from closed_analyte_from at_end warnings_title warnings_intro
col_warning col_from_course col_units col_plausible usual_unit
each_dose series_weekly series_monthly series_stops first_course_only plus_setting_months plus_setting_weeks
closed_analyte_above_from hold_low_baseline
proposal_title proposal_intro proposal_none col_route proposal_escalation proposal_no_escalation
proposal_doses proposal_limit
""".split())

#: fields of a content value that never name a site setting (see ``_settings_named``)
_NOT_SETTINGS = {"code", "kind", "source", "scope", "group", "level", "anchor", "audience", "step"}


# --- the sheet as data ----------------------------------------------------------------


@dataclasses.dataclass(frozen=True, slots=True)
class Column:
    key: str
    label: str


@dataclasses.dataclass(frozen=True, slots=True)
class Row:
    #: column key -> words (a string, or a list of lines)
    cells: Mapping[str, str | list[str]]
    #: the content value the row says, as plain JSON
    data: Mapping[str, Any]


@dataclasses.dataclass(frozen=True, slots=True)
class Section:
    key: str
    title: str
    intro: tuple[str, ...]
    columns: tuple[Column, ...]
    rows: tuple[Row, ...]
    #: paragraphs after the table, each with its sources
    notes: tuple[Mapping[str, Any], ...] = ()


@dataclasses.dataclass(frozen=True, slots=True)
class Sheet:
    protocol: str
    protocol_name: str
    language: str
    language_name: str
    #: sha256 of every rule and text of the Content (``content_version``)
    version: str
    sections: tuple[Section, ...]
    #: the sheet's own words (title, approval block ...)
    labels: Mapping[str, str]


def plain(value: Any) -> Any:
    """A content value as plain JSON values (dataclasses, mappings, tuples, dates)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        # Fields left out of comparison (Content.protocols: the other protocols) are not
        # part of this value: each protocol has its own version.
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value) if f.compare}
    if isinstance(value, (dict, MappingProxyType)):
        return {str(key): plain(item) for key, item in value.items()}
    if isinstance(value, (tuple, list, set, frozenset)):
        items = [plain(item) for item in value]
        return sorted(items, key=repr) if isinstance(value, (set, frozenset)) else items
    if isinstance(value, (date, time)):
        return value.isoformat()
    return value


def content_version(content: Content) -> str:
    """A fingerprint of everything the engine computes with: every rule, setting and
    text of ``content``. Equal contents give equal versions, on any machine; a
    changed number or word gives another one. Comments and layout of the files do
    not count."""
    canonical = json.dumps(plain(content), sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


# --- words ----------------------------------------------------------------------------


class _Words:
    """The [sheet] words of one language, and the ways numbers and offsets are said."""

    def __init__(self, content: Content, language: str):
        self.content = content
        self.language = language
        self.texts = content.texts[language]
        self.sheet = self.texts["sheet"]

    def __call__(self, key: str, **values: Any) -> str:
        return self.sheet[key].format(**values)

    def sub(self, table: str, key: str, **values: Any) -> str:
        return self.sheet[table][key].format(**values)

    def number(self, value: float | int | None) -> str:
        if value is None:
            return self("no_default")
        text = f"{value:g}" if isinstance(value, float) else str(value)
        return text.replace(".", self("decimal"))

    def percent(self, factor: float) -> str:
        return f"{self.number(round(factor * 100, 6))}%"

    def count(self, n: int, unit: str) -> str:
        """``n`` days, weeks, months or hours ("1 day", "14 days")."""
        return self(unit) if abs(n) == 1 else self(unit + "s", n=abs(n))

    def amount(self, months: int = 0, days: int = 0) -> str:
        parts = [self.count(months, "month")] if months else []
        if days:
            parts.append(self.count(days, "day"))
        return self("amount_and", first=parts[0], second=parts[1]) if len(parts) == 2 else parts[0]

    def join(self, items: Iterable[str], key: str = "list_and") -> str:
        """"a, b and c" (``key`` "list_or": "a, b or c")."""
        items = list(items)
        if len(items) < 2:
            return "".join(items)
        return self(key, rest=", ".join(items[:-1]), last=items[-1])

    def level(self, level: str) -> str:
        return self.texts["levels"][level]["name"]

    def analyte(self, code: str) -> str:
        return self.texts["analytes"][code]

    def unit(self, code: str) -> str:
        return self.content.analytes[code].unit or ""

    def offset(self, offset: Offset, table: str = "offsets") -> str:
        """"14 days before the first infusion": ``anchor`` plus months, then days."""
        months, days = offset.months, offset.days
        if not months and not days:
            words = self.sub(table, f"{offset.anchor}_on")
        else:
            # The engine adds months first, then days; both share a sign in content/.
            direction = "before" if (months or days) < 0 else "after"
            words = self.sub(table, f"{offset.anchor}_{direction}", amount=self.amount(abs(months), abs(days)))
        # A site setting's months or weeks come on top (CLINICAL.md 7.2), its default said.
        for name, label, unit in ((offset.months_by, "plus_setting_months", "month"),
                                  (offset.weeks_by, "plus_setting_weeks", "week")):
            if name is not None:
                words = self(label, offset=words, setting=name,
                             amount=self.count(self.content.settings[name].default, unit))
        return words

    def day_of_year(self, month_day: tuple[int, int]) -> str:
        month, day = month_day
        return self("day_of_year", day=day, month=self.sheet["month_names"][str(month)])

    def setting_value(self, name: str, value: Any) -> str:
        setting = self.content.settings[name]
        if value is None:
            return self("not_set")
        if setting.type == "bool":
            return self("yes") if value else self("no")
        if setting.type == "time":
            return value.strftime("%H:%M")
        if setting.type == "time_range":
            return "–".join(part.strftime("%H:%M") for part in value)
        if isinstance(value, (int, float)):
            return self.number(value)
        return str(value.isoformat() if isinstance(value, date) else value)


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


def _settings_named(value: Any, content: Content) -> list[str]:
    """The site settings a content value names, in any of its fields (``enabled_by``,
    ``end_by_setting``, a lab test's factor, a reminder's ``at`` ...)."""
    found: list[str] = []

    def walk(node: Any, key: str | None) -> None:
        if key in _NOT_SETTINGS:
            return
        if isinstance(node, dict):
            for k, v in node.items():
                walk(v, k)
        elif isinstance(node, list):
            for v in node:
                walk(v, key)
        elif isinstance(node, str) and node in content.settings and node not in found:
            found.append(node)

    walk(plain(value), None)
    return found


def _sources(citations: Iterable[str]) -> list[str]:
    return list(citations)


# --- one function per kind of content ------------------------------------------------------


def _rule_named(w: _Words, code: str) -> str:
    rule = next(r for r in w.content.rules if r.code == code)
    return f"{rule.code} ({'; '.join(_condition(w, test) for test in rule.tests)})"


def _end_words(w: _Words, offset: Offset) -> str:
    base = w.offset(offset)
    closed = offset.closed_by
    if closed is None:
        return base
    if closed.counted_from == "offset":  # only results taken on or after the offset's own date count
        if closed.rule is not None:
            result = w("closed_rule_from", rule=_rule_named(w, closed.rule), date=base)
        elif closed.above is not None:
            result = w("closed_analyte_above_from", analyte=w.analyte(closed.analyte), value=w.number(closed.above),
                       unit=w.unit(closed.analyte), date=base)
        else:
            result = w("closed_analyte_from", analyte=w.analyte(closed.analyte), value=w.number(closed.at_least),
                       unit=w.unit(closed.analyte), date=base)
        return f"{result}, {w('open_until')}"
    anchor = w.sub("anchors", offset.anchor)
    after = "_after" if closed.strictly_after else ""
    if closed.rule is not None:
        result = w(f"closed_rule{after}", rule=_rule_named(w, closed.rule), anchor=anchor)
    else:
        result = w(f"closed_analyte{after}", analyte=w.analyte(closed.analyte),
                   value=w.number(closed.at_least), unit=w.unit(closed.analyte), anchor=anchor)
    if closed.combine == "later":
        result = w("later_of", first=base, second=result)
    return f"{result}, {w('open_until')}"


def _cadence_words(w: _Words, item: ItemRule) -> str:
    every = w("every_one") if item.every_months == 1 else w("every_many", n=item.every_months)
    return w("cadence", every=every, first=w.count(item.every_months, "month"),
             end=w.count(w.content.monitoring_months, "month"))


def _series_words(w: _Words, part: SeriesPart) -> str:
    """One run of a series item: weekly from F_k + n days while on or before an
    offset, or monthly from n to m months after an anchor."""
    if part.every_days:
        return w("series_weekly", every=w.count(part.every_days, "day"),
                 first=w.offset(Offset(part.anchor, days=part.first * part.every_days)),
                 until=w.offset(part.until))
    return w("series_monthly", first=w.count(part.first, "month"), last=w.count(part.last, "month"),
             anchor=w.sub("anchors", part.anchor))


def item_timing(w: _Words, item: ItemRule) -> list[str]:
    """When an item falls, in words: its scope's sentence, then what modifies it."""
    if item.due is not None:
        body = w("due", due=w.offset(item.due))
    elif item.start is not None:
        if item.end_by_setting:
            options = "; ".join(w("option", choice=choice, end=_end_words(w, offset))
                                for choice, offset in item.end_options.items())
            end = w("end_by_setting", setting=item.end_by_setting, options=options)
        else:
            end = _end_words(w, item.end)
        body = w("window", start=w.offset(item.start), end=end)
    elif item.every_months:
        body = _cadence_words(w, item)
    elif item.season_start is not None:
        window = w("window", start=w.day_of_year(item.season_start), end=w.day_of_year(item.season_end))
        body = w("season", window=window, after=w.count(item.after_last_infusion_months, "month"))
    elif item.scope == "end":
        body = w("at_end", months=w.count(w.content.monitoring_months, "month"))
    elif item.scope == "dose":
        body = w("each_dose")
    elif item.scope == "series":
        body = "; ".join(_series_words(w, part) for part in item.series)
    else:  # a shape this sheet does not know yet must not pass unsaid
        raise ValueError(f"protocol sheet: no words for the timing of {item.code} (scope {item.scope})")
    lines = [_sentence(w.sub("scopes", item.scope, timing=body))]
    if item.first_course_only:
        lines.append(w("first_course_only"))
    if item.stops_at is not None:
        lines.append(w("series_stops", analyte=w.analyte(item.stops_at.analyte),
                       value=w.number(item.stops_at.at_least), unit=w.unit(item.stops_at.analyte)))
    if item.monthly_when_pregnant:
        lines.append(w("monthly_when_pregnant"))
    if item.weekly_series:
        lines.append(w("weekly_series"))
    if item.kind == "checklist" and item.missed_after_days:
        lines.append(w("checklist_window", before=w.count(item.window_before_days, "day"),
                       after=w.count(item.missed_after_days, "day")))
    if item.analytes:
        lines.append(w("done_when", analytes=w.join(w.analyte(a) for a in item.analytes)))
    return lines


def _setting_lines(w: _Words, value: Any, enabled_by: str | None = None,
                   extended_by: str | None = None) -> list[str]:
    lines = []
    for name in _settings_named(value, w.content):
        if name == enabled_by:
            lines.append(w("enabled_by", setting=name))
        elif name == extended_by:
            lines.append(w("extended_by", setting=name))
        else:
            lines.append(f"{name}: {w.sub('settings', name)}")
    return lines


def _warnings_section(w: _Words) -> Section:
    rows = []
    for warning in w.content.warnings:
        rows.append(Row(
            cells={"code": warning.code, "warning": w.texts["warnings"][warning.code]["text"],
                   "from_course": str(warning.from_course),
                   "settings": _setting_lines(w, warning, warning.enabled_by),
                   "source": _sources(warning.source)},
            data=plain(warning)))
    return Section("warnings", w("warnings_title"), (w("warnings_intro"),),
                   _columns(w, "code", "warning", "from_course", "settings", "source"), tuple(rows))


def _proposal_section(w: _Words) -> Section:
    """The proposed course of CLINICAL.md 7.1 ([proposal]); a protocol without one says so."""
    proposal = w.content.proposal
    columns = _columns(w, "route", "timing", "source")
    if proposal is None:
        return Section("proposal", w("proposal_title"), (w("proposal_none"),), columns, ())
    mg = lambda value: f"{w.number(value)} mg"  # noqa: E731
    rows = []
    for route in proposal.routes.values():
        first = (w("proposal_escalation", doses=w.join(mg(dose) for dose in route.escalation_mg),
                   every=w.count(route.escalation_every_days, "day"))
                 if route.escalation_mg else w("proposal_no_escalation"))
        rows.append(Row(
            cells={"route": w.sub("routes", route.route),
                   "timing": [first,
                              w("proposal_doses", count=proposal.doses, mg=w.number(proposal.dose_mg),
                                weekdays=w.join(w.sub("weekdays", WEEKDAYS[day]) for day in proposal.weekdays),
                                gap=w.count(proposal.min_gap_days, "day")),
                              w("proposal_limit", mg=w.number(proposal.window_mg),
                                days=w.count(proposal.window_days, "day"), warning=proposal.keep_within)],
                   "source": _sources((*proposal.source, *route.source))},
            data={"proposal": plain(proposal), "route": route.route}))
    return Section("proposal", w("proposal_title"), (w("proposal_intro"),), columns, tuple(rows))


def _items_section(w: _Words) -> Section:
    c = w.content
    rows = []
    for item in c.items:
        rows.append(Row(
            cells={
                "code": item.code,
                "item": [w.texts["items"][item.code]["title"], w.texts["kinds"][item.kind]],
                "timing": item_timing(w, item),
                "applies": w.sub("who", item.applies_to),
                "settings": _setting_lines(w, item, item.enabled_by, item.end_extended_by)
                + ([w("extended_by_patient", attribute=item.end_extended_by)]
                   if item.end_extended_by and item.end_extended_by not in c.settings else []),
                "source": _sources(item.source),
            },
            data=plain(item),
        ))
    intro = (w("items_intro"), w("monitoring", months=w.count(c.monitoring_months, "month"),
                                 pregnancy=w.count(c.pregnancy_months, "month")))
    return Section("items", w("items_title"), intro,
                   _columns(w, "code", "item", ("timing", "col_timing"), "applies", "settings", "source"),
                   tuple(rows))


def _questions_section(w: _Words) -> Section:
    rows = []
    for q in w.content.questions:
        level = [w.level(q.level)]
        if q.near_infusion is not None:
            level.append(_near_infusion(w, q.near_infusion))
        rows.append(Row(
            cells={
                "code": q.code,
                "question": w.texts["questions"][q.code]["text"],
                "group": w.texts["groups"][q.group],
                "level": level,
                "applies": w.sub("who", q.asked_of),
                "source": _sources(q.source),
            },
            data=plain(q),
        ))
    return Section("questions", w("questions_title"), (w("questions_intro"),),
                   _columns(w, "code", "question", "group", "level", ("applies", "col_applies"), "source"),
                   tuple(rows))


def _near_infusion(w: _Words, near) -> str:
    return w("near_infusion", level=w.level(near.level), within=w.count(near.within_months, "month"))


def _checklist_rules_section(w: _Words) -> Section:
    c = w.content
    rows = []
    for q in c.questions:
        if q.near_infusion is not None:
            rows.append(Row({"rule": f"{q.code}: {_near_infusion(w, q.near_infusion)}",
                             "source": _sources(q.near_infusion.source)},
                            {"question": q.code, "near_infusion": plain(q.near_infusion)}))
    for rule in c.group_rules:
        rows.append(Row({"rule": w("group_rule", min=rule.min_yes, group=w.texts["groups"][rule.group], code=rule.group,
                                   level=w.level(rule.level)),
                         "source": _sources(rule.source)},
                        {"group_rule": plain(rule)}))
    if c.care_team is not None:
        team = c.care_team
        rows.append(Row({"rule": w("care_team", flag_from=w.level(team.flag_from),
                                   push=w.join(w.level(level) for level in team.push_levels),
                                   snooze=w.count(team.snooze_max_months, "month")),
                         "source": _sources(team.source)},
                        {"care_team": plain(team)}))
        if team.note_level is not None:
            rows.append(Row({"rule": w("note_rule", none=w.level(c.levels[0]), level=w.level(team.note_level)),
                             "source": _sources(team.source)},
                            {"note_level": team.note_level}))
    return Section("checklist_rules", w("checklist_rules_title"), (), _columns(w, "rule", "source"), tuple(rows))


def _condition(w: _Words, test: LabTest) -> str:
    """One test of a lab rule in words, for each analyte it reads."""
    parts = []
    for code in test.analytes:
        analyte = w.content.analytes[code]
        values: dict[str, Any] = {"analyte": w.analyte(code), "unit": w.unit(code)}
        key = test.test
        if key in ("below", "above", "at_most", "at_least"):
            values["value"] = w.number(test.param)
        elif key == "rising":
            values["days"] = w.number(test.param)
        elif key == "hold":
            compare, threshold, low_baseline, fall = test.param
            values = {"threshold": w.sub("tests", compare, analyte=w.analyte(code), value=w.number(threshold),
                                         unit=w.unit(code)).strip(),
                      "low_baseline": w("hold_low_baseline", baseline=w.number(low_baseline), unit=w.unit(code),
                                        percent=w.percent(fall))}
        elif key == "below_low":
            values["limit"] = w.number(analyte.low)
        elif key == "outside_range":
            values["limit"] = _range(w, analyte.low, analyte.high)
        elif key == "above_high_times":
            limit = None if analyte.high is None else round(test.param * analyte.high, 9)
            values.update(limit=w.number(limit), times=w.number(test.param))
            if test.param == 1:
                parts.append(w("above_high", **values))
                continue
        elif key in ("baseline_at_most", "baseline_at_least"):
            if isinstance(test.param, str):  # a number site setting
                default = w.content.settings[test.param].default
                values["percent"] = w("at_setting", time=w.percent(default), setting=test.param)
            else:
                values["percent"] = w.percent(test.param)
        elif key == "equals":
            values["value"] = w(test.param) if test.param in ("positive", "negative") else test.param
        parts.append(w.sub("tests", key, **values).strip())
    return w.join(parts, "list_or")  # the test holds for a result of any of its analytes


def _conditions(w: _Words, rule: LabRule) -> list[str]:
    # Level "none" raises no flag (cd4.recovered): said so, not with the patients' word for it.
    return [f"{w('no_flag') if test.level == content_none(w.content) else w.level(test.level)}: "
            f"{_condition(w, test)}" for test in rule.tests]


def content_none(content: Content) -> str:
    """The lowest level, the one that raises nothing."""
    return content.levels[0]


def _lab_rules_section(w: _Words) -> Section:
    c = w.content
    rows = []
    for rule in c.rules:
        follow = [w.sub("follow_up", rule.follow_up)]
        if rule.weekly_cbc:
            follow.append(w("starts_weekly"))
        if rule.supersedes:
            follow.append(w("supersedes", rules=w.join(rule.supersedes)))
        rows.append(Row(
            cells={
                "code": rule.code,
                "title": w.texts["rules"][rule.code]["title"],
                "conditions": _conditions(w, rule),
                "follow_up": follow,
                "settings": _setting_lines(w, rule),
                "source": _sources(rule.source),
            },
            data=plain(rule),
        ))
    weekly = c.weekly_cbc
    notes: tuple = ()
    if weekly is not None:  # a protocol without the weekly series of CLINICAL.md 4.2 says nothing of it
        starters = [rule.code for rule in c.rules if rule.weekly_cbc]
        series_item = next((item.code for item in c.items if item.weekly_series), "")
        notes = ({"text": w("weekly_cbc", analyte=w.analyte(weekly.analyte), rules=w.join(starters, "list_or"),
                            item=series_item,
                            interval=w.count(weekly.interval_days, "day"), stop=weekly.normal_results_to_stop,
                            restart=w.join(weekly.restart_rules, "list_or"), fall=w.percent(weekly.restart_fall)),
                  "source": _sources(weekly.source), "data": plain(weekly)},)
    return Section("lab_rules", w("labs_title"), (w("labs_intro"),),
                   _columns(w, ("code", "col_rule"), "title", "conditions", "follow_up", "settings", "source"),
                   tuple(rows), notes)


def _range(w: _Words, low: float | None, high: float | None) -> str:
    if low is not None and high is not None:
        return w("range_both", low=w.number(low), high=w.number(high))
    if high is not None:
        return w("range_high", high=w.number(high))
    return w("range_low", low=w.number(low))


def _analytes_section(w: _Words) -> Section:
    rows = []
    for code, analyte in w.content.analytes.items():
        if analyte.kind == "qualitative":
            default = w("normal_value", value=w(analyte.normal) if analyte.normal in ("positive", "negative")
                        else analyte.normal)
        else:
            default = _range(w, analyte.low, analyte.high)
        others = [f"{spelling} (× {w.number(factor)})" for spelling, factor in analyte.units[1:]]
        plausible = _range(w, *analyte.plausible) if analyte.plausible else "—"
        rows.append(Row(
            cells={"code": code, "analyte": [w.analyte(code), f"LOINC {analyte.loinc}"],
                   "unit": [analyte.unit, f"UCUM {analyte.ucum}"] if analyte.unit else "—", "range": default,
                   "units": others or "—", "plausible": plausible,
                   "source": _sources(analyte.source + analyte.units_source + analyte.codes_source)},
            data=plain(analyte),
        ))
    return Section("analytes", w("analytes_title"), (w("analytes_intro"),),
                   _columns(w, "code", "analyte", "unit", "range", "units", "plausible", "source"), tuple(rows))


def _reminder_rows(w: _Words) -> list[Row]:
    c = w.content
    # One [[reminders]] entry gives its steps to several items: one row per step of
    # each distinct list of steps, naming all its items.
    plans: list[tuple[tuple, list[str]]] = []
    for code, steps in c.reminders.items():
        for plan in plans:
            if plan[0] == steps:
                plan[1].append(code)
                break
        else:
            plans.append((steps, [code]))
    rows = []
    for steps, codes in plans:
        for step in steps:
            when = [_sentence(w.sub("reminder_anchors", f"{step.anchor}_on") if not (step.days or step.months)
                              else w.sub("reminder_anchors",
                                         f"{step.anchor}_{'before' if (step.months or step.days) < 0 else 'after'}",
                                         amount=w.amount(abs(step.months), abs(step.days))))]
            if step.repeat:
                when[0] += ", " + w.sub("repeats", step.repeat)
            when[0] += "."
            if step.unless == "done":
                when.append(w("unless_done"))
            hours = step.useful_hours
            late = w.count(hours // 24, "day") if hours >= 48 and hours % 24 == 0 else w.count(hours, "hour")
            when.append(w("useful", hours=late))
            if step.group:
                when.append(w("grouped"))
            times = [w("at_setting", time=w.setting_value(at, c.settings[at].default), setting=at)
                     if at in c.settings else at for at in step.at]
            who = [w.sub("audiences", step.audience)]
            if step.flag:
                who.append(w("raises_flag", level=w.level(step.flag)))
            rows.append(Row(
                cells={"items": codes, "reminder": when, "time": times, "audience": who,
                       "message": w.texts["reminders"][step.text] if step.text else "—",
                       "source": _sources(step.source)},
                data={"items": codes, **plain(step)},
            ))
    return rows


def _reminders_section(w: _Words) -> Section:
    return Section("reminders", w("reminders_title"), (w("reminders_intro"),),
                   _columns(w, "items", "reminder", "time", "audience", "message", "source"),
                   tuple(_reminder_rows(w)))


def _used_by(content: Content) -> dict[str, list[str]]:
    """Setting name -> the codes of the items, lab rules and reminders that name it."""
    users: dict[str, list[str]] = {name: [] for name in content.settings}
    named: list[tuple[str, Any]] = [(item.code, item) for item in content.items]
    named += [(rule.code, rule) for rule in content.rules]
    named += [(code, steps) for code, steps in content.reminders.items()]
    for code, value in named:
        for name in _settings_named(value, content):
            if code not in users[name]:
                users[name].append(code)
    return users


def _settings_section(w: _Words) -> Section:
    c = w.content
    users = _used_by(c)
    rows = []
    for name, setting in c.settings.items():
        if setting.choices:
            allowed = ", ".join(f"“{choice}”" for choice in setting.choices)
        elif setting.min is not None and setting.max is not None:
            allowed = w("between", min=w.number(setting.min), max=w.number(setting.max))
        elif setting.min is not None:
            allowed = w("at_least", min=w.number(setting.min))
        elif setting.max is not None:
            allowed = w("at_most", max=w.number(setting.max))
        else:
            allowed = "—"
        if name.startswith(UNIT_SETTING_PREFIX):
            changes = [w("usual_unit", analyte=w.analyte(name[len(UNIT_SETTING_PREFIX):]))]
        else:
            changes = [w.sub("settings", name)]
        if users[name]:
            changes.append(w("used_by", codes=", ".join(users[name])))
        rows.append(Row(
            cells={"setting": name, "type": w.sub("setting_types", setting.type),
                   "default": w.setting_value(name, setting.default), "values": allowed, "changes": changes,
                   "source": _sources(setting.source)},
            data={**plain(setting), "used_by": users[name]},
        ))
    return Section("settings", w("settings_title"), (w("settings_intro"),),
                   _columns(w, "setting", "type", "default", "values", "changes", "source"), tuple(rows))


def _sources_section(w: _Words) -> Section:
    rows = tuple(Row({"code": key, "title": title}, {"code": key, "title": title})
                 for key, title in w.content.sources.items())
    return Section("sources", w("sources_title"), (w("sources_intro"),), _columns(w, "code", "title"), rows)


def _columns(w: _Words, *keys: str | tuple[str, str]) -> tuple[Column, ...]:
    """Columns by key; the label is [sheet] col_<key> unless given as (key, label key)."""
    out = []
    for key in keys:
        key, label = key if isinstance(key, tuple) else (key, f"col_{key}")
        out.append(Column(key, w(label)))
    return tuple(out)


#: the sheet's sections in order: one function per kind of content
SECTIONS: tuple[Callable[[_Words], Section], ...] = (
    _items_section,
    _warnings_section,
    _proposal_section,
    _questions_section,
    _checklist_rules_section,
    _lab_rules_section,
    _analytes_section,
    _reminders_section,
    _settings_section,
    _sources_section,
)


def build_sheet(content: Content, language: str) -> Sheet:
    """The protocol sheet of ``content`` in ``language`` (one of LANGUAGES)."""
    if language not in LANGUAGES:
        raise ValueError(f"unknown language {language!r}")
    w = _Words(content, language)
    version = content_version(content)
    labels = {key: w(key) for key in ("title", "subtitle", "protocol", "language", "version", "version_note",
                                      "contents", "approval_title", "sign_clinic", "sign_name", "sign_role",
                                      "sign_date", "sign_signature", "generated_by")}
    labels["approval_text"] = w("approval_text", version=version)
    return Sheet(
        protocol=content.protocol,
        protocol_name=w.sub("protocols", content.protocol),
        language=language,
        language_name=content.texts[language]["language"],
        version=version,
        sections=tuple(section(w) for section in SECTIONS),
        labels=MappingProxyType(labels),
    )


# --- formats ------------------------------------------------------------------------------


def sheet_to_json(sheet: Sheet) -> dict[str, Any]:
    return {
        "protocol": sheet.protocol,
        "protocol_name": sheet.protocol_name,
        "language": sheet.language,
        "content_version": sheet.version,
        "labels": dict(sheet.labels),
        "sections": [
            {
                "key": s.key,
                "title": s.title,
                "intro": list(s.intro),
                "columns": [{"key": col.key, "label": col.label} for col in s.columns],
                "rows": [{"cells": dict(row.cells), "data": dict(row.data)} for row in s.rows],
                "notes": [dict(note) for note in s.notes],
            }
            for s in sheet.sections
        ],
    }


def _lines(cell: str | list[str]) -> list[str]:
    return [cell] if isinstance(cell, str) else list(cell)


def _md(text: str) -> str:
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def render_markdown(sheet: Sheet) -> str:
    label = sheet.labels
    out = [f"# {label['title']}: {sheet.protocol_name}", "", label["subtitle"], "",
           f"- {label['protocol']}: `{sheet.protocol}`",
           f"- {label['language']}: {sheet.language_name} (`{sheet.language}`)",
           f"- {label['version']}: `sha256:{sheet.version}`", "", label["version_note"], ""]
    for s in sheet.sections:
        out += [f"## {s.title}", ""]
        for paragraph in s.intro:
            out += [_md(paragraph), ""]
        out.append("| " + " | ".join(_md(col.label) for col in s.columns) + " |")
        out.append("|" + "---|" * len(s.columns))
        for row in s.rows:
            cells = ("<br>".join(_md(line) for line in _lines(row.cells.get(col.key, "—"))) or "—"
                     for col in s.columns)
            out.append("| " + " | ".join(cells) + " |")
        out.append("")
        for note in s.notes:
            out += [f"{_md(note['text'])} ({_md('; '.join(note['source']))})", ""]
    out += [f"## {label['approval_title']}", "", label["approval_text"], ""]
    for key in ("sign_clinic", "sign_name", "sign_role", "sign_date", "sign_signature"):
        out += [f"{label[key]}: ______________________________", ""]
    out += [f"_{label['generated_by']}_", ""]
    return "\n".join(out)


#: the printable document's only style: inline, so the file stands alone
HTML_STYLE = """
:root { color-scheme: light; }
body { font: 10.5pt/1.4 "DejaVu Sans", Arial, sans-serif; color: #111; margin: 1.5rem auto; max-width: 80rem;
       padding: 0 1rem; }
h1 { font-size: 1.6rem; margin: 0 0 .5rem; } h2 { font-size: 1.25rem; margin: 0 0 .5rem; }
.meta { display: grid; grid-template-columns: max-content 1fr; gap: .2rem 1rem; margin: 1rem 0; }
.meta dt { font-weight: 700; } .meta dd { margin: 0; }
code, .version { font-family: "DejaVu Sans Mono", monospace; overflow-wrap: anywhere; }
.running { color: #444; font-size: 8.5pt; border-bottom: 1px solid #999; margin-bottom: .75rem;
           display: flex; justify-content: space-between; gap: 1rem; }
section { margin: 2rem 0; }
table { border-collapse: collapse; width: 100%; }
th, td { border: 1px solid #999; padding: .3rem .4rem; text-align: left; vertical-align: top; }
th { background: #e8edf2; }
thead { display: table-header-group; }
tr { break-inside: avoid; }
td.code, td.source { white-space: nowrap; font-size: 9pt; }
td.source { white-space: normal; min-width: 9rem; }
.note { margin-top: .75rem; }
.sign { display: grid; grid-template-columns: max-content 1fr; gap: 1.6rem 1rem; margin-top: 2rem;
        max-width: 40rem; }
.sign span:nth-child(even) { border-bottom: 1px solid #111; min-height: 1.6rem; }
footer { color: #444; font-size: 9pt; margin-top: 2rem; }
@page { size: A4 landscape; margin: 12mm; }
@media print {
  body { margin: 0; max-width: none; padding: 0; }
  section { margin: 0; break-before: page; }
  nav { display: none; }
}
""".strip()


def _h(text: Any) -> str:
    return html.escape(str(text), quote=True)


def render_html(sheet: Sheet) -> str:
    label = sheet.labels
    short = sheet.version[:12]
    running = (f'<div class="running"><span>{_h(label["title"])}: {_h(sheet.protocol_name)}</span>'
               f'<span class="version">{_h(label["version"])} sha256:{_h(short)}</span></div>')
    out = [
        "<!doctype html>",
        f'<html lang="{_h(sheet.language)}">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_h(label['title'])}: {_h(sheet.protocol_name)} ({_h(sheet.language)}, {_h(short)})</title>",
        f"<style>{HTML_STYLE}</style>",
        "</head>",
        "<body>",
        "<header>",
        f"<h1>{_h(label['title'])}: {_h(sheet.protocol_name)}</h1>",
        f"<p>{_h(label['subtitle'])}</p>",
        '<dl class="meta">',
        f"<dt>{_h(label['protocol'])}</dt><dd><code>{_h(sheet.protocol)}</code></dd>",
        f"<dt>{_h(label['language'])}</dt><dd>{_h(sheet.language_name)} (<code>{_h(sheet.language)}</code>)</dd>",
        f"<dt>{_h(label['version'])}</dt><dd class=\"version\">sha256:{_h(sheet.version)}</dd>",
        "</dl>",
        f"<p>{_h(label['version_note'])}</p>",
        f'<nav aria-label="{_h(label["contents"])}"><h2>{_h(label["contents"])}</h2><ol>',
    ]
    out += [f'<li><a href="#{_h(s.key)}">{_h(s.title)}</a></li>' for s in sheet.sections]
    out += [f'<li><a href="#approval">{_h(label["approval_title"])}</a></li>', "</ol></nav>", "</header>"]
    for s in sheet.sections:
        out += [f'<section id="{_h(s.key)}" aria-labelledby="{_h(s.key)}-title">', running,
                f'<h2 id="{_h(s.key)}-title">{_h(s.title)}</h2>']
        out += [f"<p>{_h(paragraph)}</p>" for paragraph in s.intro]
        out.append("<table><thead><tr>" + "".join(f'<th scope="col">{_h(col.label)}</th>' for col in s.columns)
                   + "</tr></thead><tbody>")
        for row in s.rows:
            cells = []
            for col in s.columns:
                lines = _lines(row.cells.get(col.key, "—"))
                said = "<br>".join(_h(line) for line in lines) or "—"
                cells.append(f'<td class="{_h(col.key)}">{said}</td>')
            out.append("<tr>" + "".join(cells) + "</tr>")
        out.append("</tbody></table>")
        out += [f'<p class="note">{_h(note["text"])} ({_h("; ".join(note["source"]))})</p>' for note in s.notes]
        out.append("</section>")
    out += ['<section id="approval" aria-labelledby="approval-title">', running,
            f'<h2 id="approval-title">{_h(label["approval_title"])}</h2>', f"<p>{_h(label['approval_text'])}</p>",
            '<div class="sign">']
    for key in ("sign_clinic", "sign_name", "sign_role", "sign_date", "sign_signature"):
        out.append(f"<span>{_h(label[key])}</span><span></span>")
    out += ["</div>", f"<footer>{_h(label['generated_by'])}</footer>", "</section>", "</body>", "</html>", ""]
    return "\n".join(out)


def render(sheet: Sheet, fmt: str) -> str:
    """The sheet as ``fmt``: "html" (a printable document), "markdown" or "json"."""
    if fmt == "html":
        return render_html(sheet)
    if fmt == "markdown":
        return render_markdown(sheet)
    if fmt == "json":
        return json.dumps(sheet_to_json(sheet), ensure_ascii=False, indent=2) + "\n"
    raise ValueError(f"unknown format {fmt!r}")
