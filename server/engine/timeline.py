"""The timeline of CLINICAL.md sections 2 and 4: every item a patient's history implies.

``timeline()`` is a pure function of its inputs (no clock, no I/O): the same
patient, courses, labs and settings give the same items, and recording a course
or a result means calling it again.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass
from datetime import date, timedelta
from operator import itemgetter
from typing import Any, Mapping, NamedTuple

from .content.model import Content, ItemRule, Offset, WarningRule
from .dates import add_months
from .inputs import Course, LabResult, Patient, pregnancy_spans
from .labs import Finding, evaluate_all, finding_to_json, weekly_cbc_spans


class Item(NamedTuple):
    """One occurrence of a timeline item.

    A window has ``start`` and ``end`` (both inclusive; ``end`` None while open); a
    one-day item has ``due``. ``course`` is k for the items of section 2.1;
    ``month`` is n (due = F_1 + n months) for the monthly grid of section 2.2;
    ``cadence`` is "weekly" for the weekly blood-count series; ``variant`` is the
    value of the item's ``words_by`` setting (the drug of med.aciclovir), which
    picks its words (Content.item_text).
    """

    # A NamedTuple rather than a dataclass: a timeline has hundreds of items and
    # tuples are several times cheaper to build and sort (bench/engine.py).
    #: the date the item is sorted by: ``due``, or ``start`` for a window
    on: date
    code: str
    kind: str
    start: date | None = None
    end: date | None = None
    due: date | None = None
    course: int | None = None
    month: int | None = None
    cadence: str | None = None
    variant: str | None = None

    @property
    def date(self) -> date:
        return self.on


# tuple.__new__ skips the keyword-handling __new__ NamedTuple generates: the
# hot loops below make about 500 items per timeline.
_new = tuple.__new__


def _window(code: str, kind: str, start: date, end: date | None, course: int | None = None,
            variant: str | None = None) -> Item:
    return _new(Item, (start, code, kind, start, end, None, course, None, None, variant))


def _on_day(code: str, kind: str, due: date, course: int | None = None,
            month: int | None = None, cadence: str | None = None, variant: str | None = None) -> Item:
    return _new(Item, (due, code, kind, None, None, due, course, month, cadence, variant))


#: API.md: items are sorted by (due or start, code); the sort is stable, so items
#: of one code on one day keep the order they were made in (course order).
_SORT_KEY = itemgetter(0, 1)


class CourseWarning(NamedTuple):
    """A planned course that breaks a rule (CLINICAL.md 2.3): a warning code of
    content/protocol.toml [warnings] and the course number k (1 = the first by date)."""

    code: str
    course: int


@dataclass(frozen=True, slots=True)
class Timeline:
    items: tuple[Item, ...]
    #: every rule fired by a result, level "none" included (cd4.recovered)
    findings: tuple[Finding, ...]
    #: L* + monitoring months; None before any course is recorded
    monitoring_ends: date | None
    #: the warnings on planned courses, by course then content order; they raise no flag
    warnings: tuple[CourseWarning, ...] = ()

    @property
    def flags(self) -> tuple[Finding, ...]:
        """The findings that raise a flag (level above "none")."""
        return tuple(f for f in self.findings if f.level != "none")


def _applies(rule: ItemRule, patient: Patient, settings: Mapping[str, Any]) -> bool:
    if rule.enabled_by is not None and not settings[rule.enabled_by]:
        return False
    who = rule.applies_to
    if who == "all":
        return True
    if who == "cervical_screening":
        return patient.screens_cervix
    if who == "childbearing":
        # Whatever the sex field says (CLINICAL.md v2 change 6).
        return patient.childbearing_potential
    if who == "breastfeeding":
        return patient.breastfeeding
    raise AssertionError(f"unhandled applies_to {who}")  # content validation forbids this


def infusion_blocks(infusions: tuple[date, ...], max_gap_days: int) -> list[tuple[date, date]]:
    """A course's infusion blocks (CLINICAL.md 1): runs of sorted infusion dates
    no more than ``max_gap_days`` apart, as (B_start, B_end)."""
    blocks = []
    start = previous = infusions[0]
    for day in infusions[1:]:
        if (day - previous).days > max_gap_days:
            blocks.append((start, previous))
            start = day
        previous = day
    blocks.append((start, previous))
    return blocks


def _at(offset: Offset, first: date, last: date) -> date:
    anchor = first if offset.anchor == "first" else last
    if offset.months:
        anchor = add_months(anchor, offset.months)
    return anchor + timedelta(days=offset.days) if offset.days else anchor


def _end(offset: Offset, first: date, last: date, labs: tuple[LabResult, ...],
         findings: list[list[Finding]]) -> date | None:
    base = _at(offset, first, last)
    closed_by = offset.closed_by
    if closed_by is None:
        return base
    # Results count from the anchor (F_k or L_k), or from the offset's own date.
    anchor = base if closed_by.counted_from == "offset" else first if offset.anchor == "first" else last
    result_date = None
    for result, fired in zip(labs, findings):
        taken = result.taken_on
        if taken < anchor or (closed_by.strictly_after and taken == anchor):
            continue
        if closed_by.rule is not None:
            hit = any(f.rule == closed_by.rule for f in fired)
        else:
            hit = result.analyte == closed_by.analyte and result.value >= closed_by.at_least
        if hit:
            result_date = taken
            break
    if result_date is None:
        return None
    return result_date if closed_by.combine == "result" else max(base, result_date)


def _course_items(rule: ItemRule, patient: Patient, courses: tuple[Course, ...], labs: tuple[LabResult, ...],
                  findings: list[list[Finding]], settings: Mapping[str, Any], max_gap_days: int) -> list[Item]:
    """The items of a course-scope rule: one per course k, or one per infusion
    block of course k for scope "block" (``first``/``last`` are then B_start/B_end)."""
    variant = settings[rule.words_by] if rule.words_by else None
    if rule.scope == "block":
        spans = [(k, start, end) for k, course in enumerate(courses, 1)
                 for start, end in infusion_blocks(course.infusions, max_gap_days)]
    else:
        spans = [(k, course.first, course.last) for k, course in enumerate(courses, 1)]
    if rule.due is not None:
        return [_on_day(rule.code, rule.kind, _at(rule.due, first, last), k, variant=variant)
                for k, first, last in spans]
    end_offset = rule.end_options[settings[rule.end_by_setting]] if rule.end_by_setting else rule.end
    items = [
        _window(rule.code, rule.kind, _at(rule.start, first, last),
                _end(end_offset, first, last, labs, findings), k, variant)
        for k, first, last in spans
    ]
    extended_to = getattr(patient, rule.end_extended_by) if rule.end_extended_by else None
    if extended_to is not None and items:
        # The care team's later end for this patient applies to the window of her
        # latest course by F_k, given or planned (002 Rec 10: "on an individual basis").
        item = items[-1]
        if item.end is not None and extended_to > item.end:
            items[-1] = item._replace(end=extended_to)
    return items


def _warns(rule: WarningRule, patient: Patient, course: Course, previous: Course | None,
           labs: tuple[LabResult, ...], findings: list[list[Finding]],
           pregnant: tuple[tuple[date, date], ...], content: Content) -> bool:
    code = rule.code
    if code in ("course.too_soon", "course.cd4_not_recovered") and previous is None:
        return False  # they compare with the previous course: there is none before course 1
    if code == "course.too_soon":
        return course.first < add_months(previous.last, rule.min_months_after_previous)
    if code == "course.during_pregnancy":
        return any(start <= day <= end for day in course.infusions for start, end in pregnant)
    if code == "course.during_breastfeeding":
        return patient.breastfeeding
    if code == "course.cd4_not_recovered":
        # The latest result of the rule's analyte taken after L_{k-1} and on or
        # before F_k must fire the rule (CD4 > 200/uL); none at all warns too.
        recovered = next(r for r in content.rules if r.code == rule.recovered_rule)
        latest = None
        for result, fired in zip(labs, findings):
            if result.analyte in recovered.analytes and previous.last < result.taken_on <= course.first:
                latest = fired
        return latest is None or not any(f.rule == recovered.code for f in latest)
    raise AssertionError(f"unhandled warning {code}")  # content validation forbids this


def course_warnings(patient: Patient, courses: tuple[Course, ...], labs: tuple[LabResult, ...],
                    findings: list[list[Finding]], settings: Mapping[str, Any],
                    content: Content) -> tuple[CourseWarning, ...]:
    """The warnings of CLINICAL.md 2.3 on the planned courses (given ones never warn)."""
    pregnant = pregnancy_spans(patient, content.pregnancy_months)
    out = []
    for k, course in enumerate(courses, 1):
        if course.status != "planned":
            continue
        previous = courses[k - 2] if k >= 2 else None
        for rule in content.warnings:
            if k < rule.from_course or (rule.enabled_by is not None and not settings[rule.enabled_by]):
                continue
            if _warns(rule, patient, course, previous, labs, findings, pregnant, content):
                out.append(CourseWarning(rule.code, k))
    return tuple(out)


def _monthly_items(rule: ItemRule, grid: list[tuple[int, date]],
                   pregnant: tuple[tuple[date, date], ...]) -> list[Item]:
    every = rule.every_months
    code, kind = rule.code, rule.kind
    if every == 1:
        chosen = grid
    elif rule.monthly_when_pregnant and pregnant:
        chosen = [
            (n, due) for n, due in grid
            if n % every == 0 or any(start <= due <= end for start, end in pregnant)
        ]
    else:
        chosen = grid[every - 1::every]
    return [_new(Item, (due, code, kind, None, None, due, None, n, None, None)) for n, due in chosen]


def _with_weekly_series(items: list[Item], spans: list[tuple[date, date | None]],
                        interval: timedelta, ends: date, code: str, kind: str) -> list[Item]:
    """The monthly ``items`` with each weekly span's dates in place of its months."""
    kept = items
    weekly = []
    for started, stopped in spans:
        last = stopped if stopped is not None and stopped < ends else ends
        kept = [
            item for item in kept
            if not (started < item.due and (stopped is None or item.due <= stopped))
        ]
        due = started + interval
        while due <= last:
            weekly.append(_on_day(code, kind, due, cadence="weekly"))
            due += interval
    return kept + weekly


def _season_items(rule: ItemRule, courses: tuple[Course, ...], ends: date) -> list[Item]:
    infusions = sorted(day for course in courses for day in course.infusions)
    items = []
    for year in range(courses[0].first.year, ends.year + 1):
        season_end = date(year, *rule.season_end)
        # L_prev: the last infusion on or before the end of this year's season.
        last_before = infusions[bisect_right(infusions, season_end) - 1]
        start = max(date(year, *rule.season_start),
                    add_months(last_before, rule.after_last_infusion_months))
        if start <= season_end and start <= ends:
            items.append(_window(rule.code, rule.kind, start, season_end))
    return items


def monitoring_end(courses: tuple[Course, ...], content: Content) -> date | None:
    """L* + the monitoring months: 48 months after the last infusion of the last course."""
    if not courses:
        return None
    return add_months(max(course.last for course in courses), content.monitoring_months)


def checklist_month(courses: tuple[Course, ...], day: date, opens_days: int,
                    content: Content) -> tuple[int, date | None]:
    """The monthly checklist (n, due) that a checklist answered on ``day`` belongs to.

    Periods tile time: month n's runs from ``opens_days`` before its due date
    (F_1 + n months) to the day before month n+1's opens, and the last one is
    the last due date on or before the end of monitoring. Before the first:
    (0, None). The same as picking, among the timeline's checklist items, the
    latest whose window has opened - without computing the timeline.
    """
    if not courses:
        return 0, None
    first = courses[0].first
    ends = monitoring_end(courses, content)
    opens = timedelta(days=opens_days)
    n = (day.year - first.year) * 12 + (day.month - first.month) + 1
    while n >= 1:
        due = add_months(first, n)
        if due - opens <= day and due <= ends:
            return n, due
        n -= 1
    return 0, None


def timeline(patient: Patient, courses: tuple[Course, ...], labs: tuple[LabResult, ...],
             settings: Mapping[str, Any], content: Content) -> Timeline:
    """Every item of CLINICAL.md sections 2 and 4 for this history, sorted.

    ``courses`` in date order without overlaps (``inputs.check_courses``), ``labs``
    in date order, ``settings`` resolved (``inputs.resolve_settings``). Given and
    planned courses count alike: a planned course already moves L*.
    """
    findings = evaluate_all(labs, patient.baseline, settings, content)
    flat = tuple(f for fired in findings for f in fired)
    if not courses:
        return Timeline(items=(), findings=flat, monitoring_ends=None)
    warnings = course_warnings(patient, courses, labs, findings, settings, content)

    first = courses[0].first
    ends = monitoring_end(courses, content)
    grid = []
    n = 1
    while (due := add_months(first, n)) <= ends:
        grid.append((n, due))
        n += 1
    pregnant = pregnancy_spans(patient, content.pregnancy_months)

    items: list[Item] = []
    for rule in content.items:
        if not _applies(rule, patient, settings):
            continue
        if rule.scope in ("course", "block"):
            items.extend(_course_items(rule, patient, courses, labs, findings, settings,
                                       content.block_max_gap_days))
        elif rule.scope == "end":
            items.append(_on_day(rule.code, rule.kind, ends))
        elif rule.scope == "monitoring":
            series = _monthly_items(rule, grid, pregnant)
            if rule.weekly_series:
                spans = weekly_cbc_spans(labs, findings, content, not_before=first)
                if spans:
                    interval = timedelta(days=content.weekly_cbc.interval_days)
                    series = _with_weekly_series(series, spans, interval, ends, rule.code, rule.kind)
            items.extend(series)
        else:
            items.extend(_season_items(rule, courses, ends))
    items.sort(key=_SORT_KEY)
    return Timeline(items=tuple(items), findings=flat, monitoring_ends=ends, warnings=warnings)


def item_to_json(item: Item, content: Content, language: str) -> dict[str, Any]:
    """An item as API.md's JSON: ``due`` or ``start``/``end``, plus title and extras."""
    out: dict[str, Any] = {"code": item.code, "kind": item.kind}
    if item.due is not None:
        out["due"] = item.due.isoformat()
    else:
        out["start"] = item.start.isoformat()
        out["end"] = item.end.isoformat() if item.end is not None else None
    if item.course is not None:
        out["course"] = item.course
    if item.month is not None:
        out["month"] = item.month
    if item.cadence is not None:
        out["cadence"] = item.cadence
    if item.variant is not None:
        out["variant"] = item.variant
    out["title"] = content.item_text(language, item.code, "title", item.variant)
    return out


def warning_to_json(warning: CourseWarning, content: Content, language: str) -> dict[str, Any]:
    """API.md: {"code": "course.too_soon", "course": 2}, plus its short text."""
    return {"code": warning.code, "course": warning.course,
            "text": content.text(language, "warnings", warning.code, "text")}


def timeline_to_json(result: Timeline, content: Content, language: str) -> dict[str, Any]:
    return {
        "items": [item_to_json(item, content, language) for item in result.items],
        "flags": [finding_to_json(f) for f in result.flags],
        "monitoring_ends": result.monitoring_ends.isoformat() if result.monitoring_ends else None,
        "warnings": [warning_to_json(w, content, language) for w in result.warnings],
    }
