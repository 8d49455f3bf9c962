"""Reminder instants of CLINICAL.md section 5, from a timeline (pure).

``plan()`` turns timeline items into the reminders due in a span of time:
each with a stable key (unique per patient: item occurrence and step), the
aware UTC instant from the patient's local date and time in her IANA time zone
(daylight-saving changes included), quiet hours respected for patient
reminders, and how long it stays worth sending. A reminder whose instant is
before the span but whose useful time is not over is in it too (the catch-up
rule of CLINICAL.md section 5): a course recorded at 10:00 still gets that
morning's 09:00 safety reminder.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from typing import Any, Iterable, Mapping, NamedTuple
from zoneinfo import ZoneInfo

from .content.model import Content, ReminderStep
from .dates import add_months
from .timeline import Item

#: one-day items remind from 7 days before to 14 days after their date
#: (content/reminders.toml); items further from the span are skipped cheaply
_REACH = timedelta(days=31)


class PlannedReminder(NamedTuple):
    #: unique per patient: "<code or group>|<occurrence>|<step>|<local date>T<HH:MM>"
    key: str
    codes: tuple[str, ...]
    kind: str
    #: the item's date (due, or start of a window): what the reminder is about
    occurrence: date
    step: str
    at: datetime
    useful_until: datetime
    audience: str
    unless: str | None
    flag: str | None
    text: str | None
    #: the occurrence's due date for done-checks (labs, checklists)
    due: date | None


def _times(step: ReminderStep, settings: Mapping[str, Any]) -> list[time]:
    # A step whose times follow a setting (aciclovir twice daily, valaciclovir once).
    values = step.at_choices[settings[step.at_by]] if step.at_by is not None else step.at
    return [settings["reminder_time"] if value == "reminder_time" else time.fromisoformat(value)
            for value in values]


def out_of_quiet_hours(local: datetime, quiet: tuple[time, time]) -> datetime:
    """``local`` moved to the end of the quiet hours when it falls inside them."""
    start, end = quiet
    clock = local.time()
    if start == end:
        return local
    if start < end:  # e.g. 13:00-15:00
        inside = start <= clock < end
        return local.replace(hour=end.hour, minute=end.minute) if inside else local
    # e.g. 21:00-08:00: the late evening goes to the next morning
    if clock >= start:
        return datetime.combine(local.date() + timedelta(days=1), end, tzinfo=local.tzinfo)
    if clock < end:
        return local.replace(hour=end.hour, minute=end.minute)
    return local


def to_instant(day: date, at: time, zone: ZoneInfo) -> datetime:
    """The UTC instant of local ``day`` ``at`` in ``zone``.

    PEP 495 with fold=0: a time skipped by a daylight-saving change (02:30 on
    the spring-forward night) is read with the offset before the change, which
    lands an hour later on the wall clock (03:30); a time that happens twice in
    the autumn is its first occurrence.
    """
    return datetime.combine(day, at, tzinfo=zone).astimezone(timezone.utc)


def _dates(step: ReminderStep, item: Item, first: date, last: date) -> Iterable[date]:
    """The days in [first, last] on which ``step`` reminds of ``item``."""
    anchor = getattr(item, step.anchor)  # "due", "start" or "end"
    if anchor is None:  # an open window has no end reminder yet
        return ()
    if step.months:
        anchor = add_months(anchor, step.months)
    anchor += timedelta(days=step.days)
    if step.repeat is None:
        return (anchor,) if first <= anchor <= last else ()
    end = min(item.end, last) if item.end is not None else last
    if step.repeat == "monthly":
        # Each day from the anchor itself (31 Jan, 28 Feb, 31 Mar), starting at the
        # first month that can reach ``first``: a series years old costs nothing.
        n = max(0, (first.year - anchor.year) * 12 + first.month - anchor.month - 1)
        out = []
        while (day := add_months(anchor, n)) <= end:
            if day >= first:
                out.append(day)
            n += 1
        return out
    every = 1 if step.repeat == "daily" else 7
    # The first repeat on or after ``first``, without walking the days before it.
    skipped = max(0, -(-(first - anchor).days // every))
    day, out = anchor + timedelta(days=skipped * every), []
    while day <= end:
        out.append(day)
        day += timedelta(days=every)
    return out


def _due_days(steps: list[ReminderStep]) -> tuple[float, float]:
    """How many days before and after its due date a one-day item can be reminded of
    by ``steps`` (the ones anchored at "due"; a repeat has no end): plan() skips an
    item whose reminder days all miss the span without looking at each step."""
    before = after = 0.0
    for step in steps:
        if step.anchor != "due":
            continue
        if step.repeat is not None:
            return float("inf"), float("inf")
        # A month is 28 to 31 days: the widest reading of each side.
        low = step.days + step.months * (28 if step.months > 0 else 31)
        high = step.days + step.months * (31 if step.months > 0 else 28)
        before, after = max(before, -low), max(after, high)
    return before, after


def reach_back(content: Content) -> timedelta:
    """How long after its instant a reminder can still be planned: the longest useful time of any step."""
    return timedelta(hours=max((step.useful_hours for steps in content.reminders.values() for step in steps),
                               default=0))


def _local_days(since: datetime, until: datetime, zone: ZoneInfo, content: Content) -> tuple[date, date]:
    """The first and last local days on which a reminder of [since, until) can fall."""
    return ((since - reach_back(content)).astimezone(zone).date() - timedelta(days=1),
            until.astimezone(zone).date() + timedelta(days=1))


def item_days(tz_name: str, content: Content, since: datetime, until: datetime) -> tuple[date, date]:
    """The days an item must touch for ``plan`` to remind of it in [since, until):
    the timeline's ``between`` for planning (the rest of it plan() would pass over)."""
    first_day, last_day = _local_days(since, until, ZoneInfo(tz_name), content)
    return first_day - _REACH, last_day + _REACH


def plan(items: Iterable[Item], tz_name: str, settings: Mapping[str, Any], content: Content,
         since: datetime, until: datetime) -> list[PlannedReminder]:
    """The reminders still useful at ``since`` whose instant is before ``until``,
    sorted by instant then key: those with an instant in [since, until), and
    earlier ones whose useful time ends at ``since`` or later (CLINICAL.md
    section 5's catch-up: sent also when planned after their instant).
    ``items`` are sorted by ``on``, as the timeline gives them."""
    zone = ZoneInfo(tz_name)
    quiet = settings["quiet_hours"]
    first_day, last_day = _local_days(since, until, zone, content)
    #: per useful time (a handful of values), the first local day a step's reminder can still be useful
    first_days: dict[int, date] = {}
    #: per item code: the local times of day of each of its steps, and _due_days
    by_code: dict[str, tuple[list[list[time]], tuple[float, float]]] = {}
    planned: dict[str, PlannedReminder] = {}
    groups: dict[str, list[str]] = {}
    for item in items:
        if item.on > last_day + _REACH:
            break  # sorted: this item and every later one starts too late (years of monthly items)
        steps = content.reminders.get(item.code)
        if not steps:
            continue
        known = by_code.get(item.code)
        if known is None:
            known = by_code[item.code] = ([_times(step, settings) for step in steps], _due_days(steps))
        code_times, (before, after) = known
        if item.due is not None and not (-after <= (item.due - first_day).days
                                         and (item.due - last_day).days <= before):
            continue
        if item.due is None and item.end is not None and item.end < first_day - _REACH:
            continue
        for step, step_times in zip(steps, code_times):
            useful = timedelta(hours=step.useful_hours)
            step_first_day = first_days.get(step.useful_hours)
            if step_first_day is None:
                step_first_day = first_days[step.useful_hours] = (since - useful).astimezone(zone).date() \
                    - timedelta(days=1)
            for day in _dates(step, item, step_first_day, last_day):
                for at in step_times:
                    local = datetime.combine(day, at, tzinfo=zone)
                    if step.audience == "patient":
                        local = out_of_quiet_hours(local, quiet)
                    instant = to_instant(local.date(), local.time(), zone)
                    if not (instant < until and instant + useful >= since):
                        continue
                    subject = step.group or item.code
                    key = f"{subject}|{item.on.isoformat()}|{step.step}|{day.isoformat()}T{at.hour:02}:{at.minute:02}"
                    if key in planned:  # another item of the same group, same day
                        groups[key].append(item.code)
                        continue
                    groups[key] = [item.code]
                    planned[key] = PlannedReminder(
                        key=key, codes=(), kind=item.kind, occurrence=item.on, step=step.step, at=instant,
                        useful_until=instant + useful, audience=step.audience,
                        unless=step.unless, flag=step.flag, text=step.text, due=item.due,
                    )
    result = [reminder._replace(codes=tuple(groups[key])) for key, reminder in planned.items()]
    result.sort(key=lambda r: (r.at, r.key))
    return result
