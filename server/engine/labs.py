"""Lab rules of CLINICAL.md section 4, and the weekly blood-count series.

The thresholds come from content/labs.toml; this module only knows how each kind
of test compares a value with them.
"""

from __future__ import annotations

from bisect import bisect_right
from datetime import date
from typing import Any, Iterable, Mapping, NamedTuple, Sequence

from .content.model import Content, LabTest
from .inputs import LabResult


class Finding(NamedTuple):
    """A lab rule fired by one result. Level "none" findings raise no flag.

    ``value`` is in the canonical ``unit``; the value and unit as recorded
    are those the person entered (the same when entered in the canonical unit).
    """

    rule: str
    level: str
    taken_on: date
    analyte: str
    value: float | str
    unit: str | None = None
    value_as_recorded: float | str | None = None
    unit_as_recorded: str | None = None


class LabContext(NamedTuple):
    """What a rule may read besides the result (CLINICAL.md 7.4): the patient's
    results in date order with the result's place among them, and the first dose
    date F_k of each course, in order."""

    results: Sequence[LabResult]
    #: the result's index in ``results``: those before it are earlier
    index: int
    starts: tuple[date, ...]

    def previous(self, analyte: str) -> LabResult | None:
        """The latest earlier result of ``analyte``."""
        for earlier in reversed(self.results[:self.index]):
            if earlier.analyte == analyte:
                return earlier
        return None

    def before_course(self, result: LabResult) -> LabResult | None:
        """The last result of the analyte taken before F_k of the course ``result`` falls in
        (the latest F_k on or before its date); None before the first dose or with none."""
        k = bisect_right(self.starts, result.taken_on)
        if k == 0:
            return None
        first = self.starts[k - 1]
        found = None
        for earlier in self.results:
            if earlier.analyte == result.analyte and earlier.taken_on < first:
                found = earlier
        return found


def _times(factor: float, limit: float) -> float:
    # Binary floating point makes 0.7 x 330 = 230.99999999999997; rounding the
    # product keeps "at or below 70% of baseline" exact for the few decimals lab
    # values carry.
    return round(factor * limit, 9)


def _limits(result: LabResult, content: Content) -> tuple[float | None, float | None]:
    """The result's own lab range where given, else the default of content/."""
    analyte = content.analytes[result.analyte]
    low = result.ref_low if result.ref_low is not None else analyte.low
    high = result.ref_high if result.ref_high is not None else analyte.high
    return low, high


def _holds(test: LabTest, result: LabResult, base: float | None, settings: Mapping[str, Any],
           content: Content, context: LabContext | None = None) -> bool:
    kind = test.test
    value = result.value
    if kind == "equals":
        return value == test.param
    if kind == "below":
        return value < test.param
    if kind == "above":
        return value > test.param
    if kind == "at_most":
        return value <= test.param
    if kind == "at_least":
        return value >= test.param
    if kind == "rising":
        # Above 0 and higher than the previous result, itself above 0 and taken
        # within ``param`` days before (000 Table 4: two positive tests, rising).
        previous = context.previous(result.analyte) if context is not None else None
        return (value > 0 and previous is not None and previous.value > 0 and value > previous.value
                and 0 <= (result.taken_on - previous.taken_on).days <= test.param)
    if kind == "hold":
        compare, threshold, low_baseline, fall = test.param
        before = context.before_course(result) if context is not None else None
        if before is not None and before.value <= low_baseline:
            # Already low before the course: a fall of ``fall`` or more from that value.
            return value <= _times(1 - fall, before.value)
        return value < threshold if compare == "below" else value <= threshold
    if kind in ("below_low", "outside_range", "above_high_times"):
        low, high = _limits(result, content)
        if kind == "below_low":
            return low is not None and value < low
        if kind == "outside_range":
            return (low is not None and value < low) or (high is not None and value > high)
        return high is not None and value > _times(test.param, high)
    if base is None:
        return False
    if kind == "baseline_at_most":
        return value <= _times(test.param, base)
    if kind == "baseline_at_least":
        factor = settings[test.param] if isinstance(test.param, str) else test.param
        return value >= _times(factor, base)
    raise AssertionError(f"unhandled lab test {kind}")  # content validation forbids this


def evaluate(result: LabResult, baseline: Mapping[str, float], settings: Mapping[str, Any],
             content: Content, context: LabContext | None = None) -> list[Finding]:
    """Every rule ``result`` fires, highest rules replacing the ones they supersede.

    A rule's level is the highest level among its tests that hold. ``context``
    (the patient's other results and course starts) is what the tests of
    CLINICAL.md 7.4 read; without it they judge the result alone (a rising CMV
    needs an earlier result; a hold rule uses its plain threshold).
    """
    rules = content.rules_by_analyte[result.analyte]
    if not rules:
        return []
    analyte = result.analyte
    base = baseline.get(analyte)
    fired: dict[str, LabTest] = {}
    for rule in rules:
        best = None
        for test in rule.tests:
            if analyte in test.analytes and (best is None or test.rank > best.rank) \
                    and _holds(test, result, base, settings, content, context):
                best = test
        if best is not None:
            fired[rule.code] = best
    if not fired:
        return []
    if len(fired) > 1:
        for rule in rules:
            if rule.code in fired:
                for other in rule.supersedes:
                    fired.pop(other, None)
    return [Finding(code, test.level, result.taken_on, analyte, result.value, result.unit,
                    result.value_as_recorded, result.unit_as_recorded) for code, test in fired.items()]


def finding_to_json(finding: Finding) -> dict[str, Any]:
    """A finding as API.md's ``flags[]`` entry: ``value`` and ``unit`` canonical, and
    ``value_as_recorded``/``unit_as_recorded`` when the result was entered in another unit."""
    out: dict[str, Any] = {
        "rule": finding.rule,
        "level": finding.level,
        "taken_on": finding.taken_on.isoformat(),
        "analyte": finding.analyte,
        "value": finding.value,
    }
    if finding.unit is not None:
        out["unit"] = finding.unit
        if finding.unit_as_recorded is not None and finding.unit_as_recorded != finding.unit:
            out["value_as_recorded"] = finding.value_as_recorded
            out["unit_as_recorded"] = finding.unit_as_recorded
    return out


def evaluate_all(results: Iterable[LabResult], baseline: Mapping[str, float],
                 settings: Mapping[str, Any], content: Content,
                 starts: tuple[date, ...] = ()) -> list[list[Finding]]:
    """``evaluate`` for each result (in date order), each read against the earlier
    ones and the courses' first dates ``starts``."""
    results = tuple(results)
    return [evaluate(result, baseline, settings, content, LabContext(results, index, starts))
            for index, result in enumerate(results)]


def weekly_cbc_spans(results: tuple[LabResult, ...], findings: list[list[Finding]],
                     content: Content, not_before: date) -> list[tuple[date, date | None]]:
    """The weekly blood-count series (CLINICAL.md 4.2) as (T, R) pairs; R is None for a series that never stops.

    ``results`` are in date order and ``findings`` parallel to them. Only
    results of the series analyte taken on or after ``not_before`` (the first
    infusion: the series is part of post-infusion monitoring) count.

    * Start: a result taken on T that fires a ``weekly_cbc`` rule while no series
      runs. Once a series has stopped, a new one starts only on a result that
      fires one of ``restart_rules``, is below its lower limit, or is at or below
      ``restart_fall`` x V (V: the value that stopped the last series); a result
      low only against the baseline starts none.
    * Stop: R is the last of ``normal_results_to_stop`` consecutive results taken
      after T at or above their lower limit (``ref_low``, else the default); a
      result below it starts the count again.
    """
    weekly = content.weekly_cbc
    triggering = {rule.code for rule in content.rules if rule.weekly_cbc}
    restarting = set(weekly.restart_rules)
    spans: list[tuple[date, date | None]] = []
    started: date | None = None
    stopped_at: float | None = None  # V of the last series that stopped
    normal_in_a_row = 0
    for result, fired in zip(results, findings):
        if result.analyte != weekly.analyte or result.taken_on < not_before:
            continue
        low, _ = _limits(result, content)
        below_low = low is not None and result.value < low
        if started is None:
            codes = {f.rule for f in fired}
            if stopped_at is None:
                starts = bool(codes & triggering)
            else:
                starts = bool(codes & restarting) or below_low \
                    or result.value <= _times(weekly.restart_fall, stopped_at)
            if starts:
                started, normal_in_a_row = result.taken_on, 0
            continue
        if result.taken_on <= started:
            continue  # "taken after T": a second result on T's own day does not count
        if below_low:
            normal_in_a_row = 0
            continue
        normal_in_a_row += 1
        if normal_in_a_row == weekly.normal_results_to_stop:
            spans.append((started, result.taken_on))
            started, stopped_at = None, result.value
    if started is not None:
        spans.append((started, None))
    return spans
