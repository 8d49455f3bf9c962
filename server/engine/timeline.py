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

from .content.model import ClosedBy, Content, ItemRule, Offset, WarningRule
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


def _at(offset: Offset, first: date, last: date, settings: Mapping[str, Any] | None = None) -> date:
    anchor = first if offset.anchor == "first" else last
    months = offset.months + (settings[offset.months_by] if offset.months_by else 0)
    if months:
        anchor = add_months(anchor, months)
    days = offset.days + (7 * settings[offset.weeks_by] if offset.weeks_by else 0)
    return anchor + timedelta(days=days) if days else anchor


def _first_result(closed_by: ClosedBy, anchor: date, labs: tuple[LabResult, ...],
                  findings: list[list[Finding]]) -> date | None:
    """The date of the first result on or after ``anchor`` (after it, with
    ``strictly_after``) that fires the rule or reaches the value of ``closed_by``."""
    for result, fired in zip(labs, findings):
        taken = result.taken_on
        if taken < anchor or (closed_by.strictly_after and taken == anchor):
            continue
        if closed_by.rule is not None:
            hit = any(f.rule == closed_by.rule for f in fired)
        elif result.analyte != closed_by.analyte:
            hit = False
        elif closed_by.above is not None:
            hit = result.value > closed_by.above
        else:
            hit = result.value >= closed_by.at_least
        if hit:
            return taken
    return None


def _end(offset: Offset, first: date, last: date, labs: tuple[LabResult, ...],
         findings: list[list[Finding]], settings: Mapping[str, Any] | None = None) -> date | None:
    base = _at(offset, first, last, settings)
    closed_by = offset.closed_by
    if closed_by is None:
        return base
    # Results count from the anchor (F_k or L_k), or from the offset's own date.
    anchor = base if closed_by.counted_from == "offset" else first if offset.anchor == "first" else last
    result_date = _first_result(closed_by, anchor, labs, findings)
    if result_date is None:
        return None
    return result_date if closed_by.combine == "result" else max(base, result_date)


def _course_items(rule: ItemRule, patient: Patient, courses: tuple[Course, ...], labs: tuple[LabResult, ...],
                  findings: list[list[Finding]], settings: Mapping[str, Any], max_gap_days: int) -> list[Item]:
    """The items of a course-scope rule: one per course k, or one per infusion
    block of course k for scope "block" (``first``/``last`` are then B_start/B_end)."""
    variant = settings[rule.words_by] if rule.words_by else None
    if rule.first_course_only:
        courses = courses[:1]
    if rule.scope == "block":
        spans = [(k, start, end) for k, course in enumerate(courses, 1)
                 for start, end in infusion_blocks(course.infusions, max_gap_days)]
    else:
        spans = [(k, course.first, course.last) for k, course in enumerate(courses, 1)]
    if rule.due is not None:
        return [_on_day(rule.code, rule.kind, _at(rule.due, first, last, settings), k, variant=variant)
                for k, first, last in spans]
    end_offset = rule.end_options[settings[rule.end_by_setting]] if rule.end_by_setting else rule.end
    items = [
        _window(rule.code, rule.kind, _at(rule.start, first, last, settings),
                _end(end_offset, first, last, labs, findings, settings), k, variant)
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


def _dose_items(rule: ItemRule, courses: tuple[Course, ...]) -> list[Item]:
    """Scope "dose": one item on each administration date of each course."""
    return [_on_day(rule.code, rule.kind, day, k) for k, course in enumerate(courses, 1) for day in course.infusions]


def _series_items(rule: ItemRule, courses: tuple[Course, ...], labs: tuple[LabResult, ...],
                  findings: list[list[Finding]], settings: Mapping[str, Any]) -> list[Item]:
    """Scope "series": each course's runs of dates (SeriesPart), cut at ``stops_at``."""
    items = []
    for k, course in enumerate(courses, 1):
        first, last = course.first, course.last
        stop = None
        if rule.stops_at is not None:
            stop = _first_result(rule.stops_at, last, labs, findings)
        for part in rule.series:
            anchor = first if part.anchor == "first" else last
            if part.every_days:
                until = _at(part.until, first, last, settings)
                due = anchor + timedelta(days=part.first * part.every_days)
                step = timedelta(days=part.every_days)
                while due <= until and (stop is None or due <= stop):
                    items.append(_on_day(rule.code, rule.kind, due, k, cadence="weekly"))
                    due += step
            else:
                for n in range(part.first, part.last + 1, part.every_months):
                    due = add_months(anchor, n)
                    if stop is not None and due > stop:
                        break
                    items.append(_on_day(rule.code, rule.kind, due, k, cadence="monthly"))
    if rule.kind == "checklist":
        # A checklist's period is its place in the sorted series (checklist_period).
        days = sorted({item.due for item in items})
        period = {day: n for n, day in enumerate(days, 1)}
        items = [_new(Item, (day, rule.code, rule.kind, None, None, day, None, period[day], None, None))
                 for day in days]
    return items


def _dose_warnings(rule: WarningRule, course: Course) -> bool:
    """CLINICAL.md 7.1: the doses of a course that break the label's limits."""
    doses = [(day, dose) for day, dose in zip(course.infusions, course.doses) if dose.mg is not None]
    if rule.code == "course.dose_limit":
        if any(dose.mg > rule.max_dose_mg for _, dose in doses):
            return True
        window = timedelta(days=rule.window_days - 1)
        return any(sum(d.mg for other, d in doses if day - window <= other <= day) > rule.max_window_mg
                   for day, _ in doses)
    # course.reescalate: ``gap_days`` or more days without any dose, then an IV dose
    # above the first step of the escalation.
    given = list(zip(course.infusions, course.doses)) if course.doses else []
    for (before, _), (day, dose) in zip(given, given[1:]):
        days_without = (day - before).days - 1
        if days_without >= rule.gap_days and dose.route == "iv" and dose.mg is not None \
                and dose.mg > rule.restart_mg:
            return True
    return False


def _warns(rule: WarningRule, patient: Patient, course: Course, previous: Course | None,
           labs: tuple[LabResult, ...], findings: list[list[Finding]],
           pregnant: tuple[tuple[date, date], ...], content: Content) -> bool:
    code = rule.code
    if code in ("course.dose_limit", "course.reescalate"):
        return _dose_warnings(rule, course)
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
    """The warnings of CLINICAL.md 2.3 on the planned courses (given ones never warn),
    and those of 7.1 on the doses of every course (a rule with ``courses = "all"``)."""
    pregnant = pregnancy_spans(patient, content.pregnancy_months)
    out = []
    for k, course in enumerate(courses, 1):
        previous = courses[k - 2] if k >= 2 else None
        for rule in content.warnings:
            if course.status != "planned" and rule.courses == "planned":
                continue
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
        chosen = [(n, due) for n, due in grid if n % every == 0]
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
    """L* + the monitoring months: 48 months after the last infusion of the last course.

    For a protocol whose monitoring ends with its items (``monitoring_months`` 0,
    CLINICAL.md 7.2) this is the end ``timeline`` gives with the site defaults
    and no results (a result can close a series earlier or a window later)."""
    if not courses:
        return None
    if not content.monitoring_months:
        return _items_end(_protocol_items(Patient(), courses, (), [], _defaults(content), content))
    return add_months(max(course.last for course in courses), content.monitoring_months)


def _defaults(content: Content) -> Mapping[str, Any]:
    return {name: setting.default for name, setting in content.settings.items()}


def _items_end(items: list[Item]) -> date | None:
    """The latest due date or window end, an open window counting by its start."""
    return max((item.due or item.end or item.start for item in items), default=None)


def checklist_period(courses: tuple[Course, ...], day: date, opens_days: int,
                     content: Content) -> tuple[int, date | None]:
    """The checklist (n, due) that a checklist answered on ``day`` belongs to, for
    any protocol: the monthly grid (``checklist_month``), or the n-th date of a
    series checklist (CLINICAL.md 7.3), the latest whose window has opened."""
    rule = next(rule for rule in content.items if rule.kind == "checklist")
    if rule.scope == "monitoring":
        return checklist_month(courses, day, opens_days, content)
    opens = timedelta(days=opens_days)
    chosen = (0, None)
    for item in _series_items(rule, courses, (), [], _defaults(content)):
        if item.due - opens <= day:
            chosen = (item.month, item.due)
    return chosen


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


def _within(items: list[Item], between: tuple[date, date] | None) -> list[Item]:
    """The items on a day in ``between`` (inclusive), or whose window overlaps it; all without it."""
    if between is None:
        return items
    low, high = between
    return [item for item in items
            if item.on <= high and ((item.due or item.end) is None or (item.due or item.end) >= low)]


def timeline(patient: Patient, courses: tuple[Course, ...], labs: tuple[LabResult, ...],
             settings: Mapping[str, Any], content: Content,
             between: tuple[date, date] | None = None) -> Timeline:
    """Every item of CLINICAL.md sections 2 and 4 for this history, sorted.

    ``courses`` in date order without overlaps (``inputs.check_courses``), ``labs``
    in date order, ``settings`` resolved (``inputs.resolve_settings``). Given and
    planned courses count alike: a planned course already moves L*. The
    patient's protocol picks the rules (``content.of(patient.protocol)``).
    With ``between`` (first, last day), only the items that touch those days,
    the same as in the whole timeline (the reminder planner's few days out of
    years of monthly items); findings, warnings and the end are the whole ones.
    """
    content = content.of(patient.protocol)
    findings = evaluate_all(labs, patient.baseline, settings, content, tuple(c.first for c in courses))
    flat = tuple(f for fired in findings for f in fired)
    if not courses:
        return Timeline(items=(), findings=flat, monitoring_ends=None)
    warnings = course_warnings(patient, courses, labs, findings, settings, content)
    if not content.monitoring_months:
        items = _protocol_items(patient, courses, labs, findings, settings, content)
        ends = _items_end(items)
        items = _within(items, between)
        items.sort(key=_SORT_KEY)
        return Timeline(items=tuple(items), findings=flat, monitoring_ends=ends, warnings=warnings)

    first = courses[0].first
    ends = monitoring_end(courses, content)
    # Month n of the grid is due F_1 + n months (n counts from the first course
    # whatever ``between`` keeps: the 3-monthly tests fall on n = 3, 6, ...).
    grid = []
    n = 1
    if between is not None:
        # Straight to the month before ``between`` (years of months for the planner).
        n = max(1, (between[0].year - first.year) * 12 + between[0].month - first.month - 1)
    while (due := add_months(first, n)) <= ends and (between is None or due <= between[1]):
        if between is None or between[0] <= due:
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
    items = _within(items, between)
    items.sort(key=_SORT_KEY)
    return Timeline(items=tuple(items), findings=flat, monitoring_ends=ends, warnings=warnings)


def _protocol_items(patient: Patient, courses: tuple[Course, ...], labs: tuple[LabResult, ...],
                    findings: list[list[Finding]], settings: Mapping[str, Any], content: Content) -> list[Item]:
    """The items of a protocol without a fixed monitoring period (CLINICAL.md 7.2):
    course, dose and series scopes only (content validation)."""
    items: list[Item] = []
    for rule in content.items:
        if not _applies(rule, patient, settings):
            continue
        if rule.scope == "dose":
            items.extend(_dose_items(rule, courses))
        elif rule.scope == "series":
            items.extend(_series_items(rule, courses, labs, findings, settings))
        else:
            items.extend(_course_items(rule, patient, courses, labs, findings, settings,
                                       content.block_max_gap_days))
    return items


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
