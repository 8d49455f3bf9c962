"""Lab rules of CLINICAL.md section 4, and the weekly blood-count series.

The thresholds come from content/labs.toml; this module only knows how each kind
of test compares a value with them.
"""

from __future__ import annotations

from datetime import date
from typing import Any, Iterable, Mapping, NamedTuple

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
           content: Content) -> bool:
    kind = test.test
    value = result.value
    if kind == "equals":
        return value == test.param
    if kind == "below":
        return value < test.param
    if kind == "above":
        return value > test.param
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
             content: Content) -> list[Finding]:
    """Every rule ``result`` fires, highest rules replacing the ones they supersede.

    A rule's level is the highest level among its tests that hold.
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
                    and _holds(test, result, base, settings, content):
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
                 settings: Mapping[str, Any], content: Content) -> list[list[Finding]]:
    """``evaluate`` for each result, in the same order."""
    return [evaluate(result, baseline, settings, content) for result in results]


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
