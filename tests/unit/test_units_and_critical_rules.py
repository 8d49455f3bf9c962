"""Clinical rules version 2 of the lab results (issue 14): units, the critical tiers, the weekly series.

Each case names the CLINICAL.md row it checks:

* 4.1 "Analytes, units and plausible values (v2)": every accepted unit of every
  analyte converts to the canonical one, a value at each rule's boundary flags
  alike in every unit, an unknown unit and a value beyond the plausible range
  are refused naming the field and saying to check the value and its unit.
* 4.2 ``platelets.critical`` (v2: < 30, emergency) and ``neutrophils.severe``
  (v2: < 0.5, urgent), and which lower rule each supersedes.
* 4.2 "Weekly blood counts (v2: stop rule)".
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import pytest

from server.engine.content.loading import default_content
from server.engine.documents import timeline_document
from server.engine.errors import InputError
from server.engine.inputs import make_lab_result, parse_labs, resolve_settings
from server.engine.labs import evaluate, evaluate_all, weekly_cbc_spans
from server.engine.units import accepted_units, from_canonical, normalise

CONTENT = default_content()
SETTINGS = resolve_settings({}, CONTENT)
TAKEN = date(2026, 3, 10)
ROOT = Path(__file__).resolve().parents[2]


def fired(analyte, value, unit=None, baseline=None, ref_low=None, ref_high=None):
    """{rule code: level} for one result."""
    result = make_lab_result(analyte, value, TAKEN, CONTENT, ref_low, ref_high, unit=unit)
    return {f.rule: f.level for f in evaluate(result, baseline or {}, SETTINGS, CONTENT)}


# --- 4.2: the critical tiers (v2) ---------------------------------------------------------

TIERS = [
    pytest.param("platelets", 29.9, {"platelets.critical": "emergency"},
                 id="4.2 platelets.critical: 29.9 < 30 is an emergency (low and falling superseded)"),
    pytest.param("platelets", 30, {"platelets.low": "urgent"},
                 id="4.2 platelets.critical boundary: 30 is not critical, it is low (< 100)"),
    pytest.param("platelets", 99.9, {"platelets.low": "urgent"},
                 id="4.2 platelets.low: 99.9 < 100 urgent"),
    pytest.param("platelets", 100, {"platelets.falling": "soon"},
                 id="4.2 platelets.low boundary: 100 is not low, it is below the lower limit 150"),
    pytest.param("neutrophils", 0.49, {"neutrophils.severe": "urgent"},
                 id="4.2 neutrophils.severe: 0.49 < 0.5 urgent (neutrophils.low superseded)"),
    pytest.param("neutrophils", 0.5, {"neutrophils.low": "soon"},
                 id="4.2 neutrophils.severe boundary: 0.5 is not severe, it is low (< 1.0)"),
    pytest.param("neutrophils", 0.99, {"neutrophils.low": "soon"},
                 id="4.2 neutrophils.low: 0.99 < 1.0 soon"),
    pytest.param("neutrophils", 1.0, {},
                 id="4.2 neutrophils.low boundary: 1.0 raises nothing"),
]


@pytest.mark.parametrize(("analyte", "value", "expected"), TIERS)
def test_critical_tiers(analyte, value, expected):
    assert fired(analyte, value) == expected


def test_critical_platelets_supersede_a_fall_from_baseline_too():
    """4.2: "of the platelet rules only the highest applies"."""
    assert fired("platelets", 20, baseline={"platelets": 300}) == {"platelets.critical": "emergency"}


def test_the_new_rules_have_texts_in_every_language():
    for language in ("en", "es", "de", "it"):
        for code in ("platelets.critical", "neutrophils.severe"):
            assert CONTENT.text(language, "rules", code, "title").strip()
            assert CONTENT.text(language, "rules", code, "detail").strip()


# --- 4.1: the table of units, as content/ holds it -------------------------------------------

BLOOD = {"10^9/L": 1, "10*9/L": 1, "10^3/uL": 1, "10*3/uL": 1, "G/L": 1, "Gpt/L": 1, "/nL": 1,
         "/uL": 0.001, "/mm3": 0.001}
UNITS = {  # CLINICAL.md 4.1, row by row: canonical unit first, then the others with their factor
    "platelets": (BLOOD, (1, 2000)),
    "neutrophils": (BLOOD, (0, 100)),
    "lymphocytes": (BLOOD, (0, 1500)),
    "cd4": ({"cells/uL": 1, "/uL": 1, "cells/mm3": 1, "/mm3": 1, "10^9/L": 1000, "10*9/L": 1000}, (0, 5000)),
    "creatinine": ({"umol/L": 1, "mg/dL": 88.42}, (5, 3000)),
    "tsh": ({"mIU/L": 1, "uIU/mL": 1, "uU/mL": 1, "mU/L": 1}, (0, 500)),
    "alt": ({"U/L": 1, "IU/L": 1, "ukat/L": 60}, (0, 20000)),
    "ast": ({"U/L": 1, "IU/L": 1, "ukat/L": 60}, (0, 20000)),
    "bilirubin": ({"umol/L": 1, "mg/dL": 17.1}, (0, 1000)),
}


@pytest.mark.parametrize("analyte", sorted(UNITS))
def test_units_and_plausible_ranges_are_those_of_clinical_md_4_1(analyte):
    units, plausible = UNITS[analyte]
    known = CONTENT.analytes[analyte]
    assert dict(known.units) == units and known.unit == next(iter(units))
    assert known.plausible == plausible
    assert known.units_source, "every conversion names its source"


def test_urine_tests_have_no_unit():
    for analyte in ("urine_blood", "urine_protein"):
        assert CONTENT.analytes[analyte].units == ()
        with pytest.raises(InputError) as caught:
            make_lab_result(analyte, "positive", TAKEN, CONTENT, unit="mg/dL", field="labs[0]")
        assert caught.value.field == "labs[0].unit"


def test_a_urine_result_is_read_in_any_letter_case():
    """4: "urine results: positive or negative, in any letter case"."""
    assert fired("urine_blood", "Positive") == {"kidney.urinalysis": "urgent"}


def _boundaries(analyte: str) -> list[float]:
    """Canonical values at and beside every threshold of every rule that reads ``analyte``."""
    known = CONTENT.analytes[analyte]
    limits = {known.low, known.high} - {None}
    for rule in CONTENT.rules_by_analyte[analyte]:
        for test in rule.tests:
            if analyte not in test.analytes:
                continue
            if test.test in ("below", "above"):
                limits.add(test.param)
            elif test.test == "above_high_times" and known.high is not None:
                limits.add(round(test.param * known.high, 9))
    least, most = known.plausible
    values = set()
    for limit in limits:
        step = 0.01 if limit < 10 else 1
        values.update(v for v in (limit - step, limit, limit + step) if least <= v <= most)
    return sorted(round(v, 6) for v in values)


EVERY_UNIT_AT_EVERY_BOUNDARY = [
    pytest.param(analyte, unit, value, id=f"4.1 {analyte} {value:g} {CONTENT.analytes[analyte].unit} in {unit}")
    for analyte in sorted(UNITS)
    for unit in UNITS[analyte][0]
    for value in _boundaries(analyte)
]


@pytest.mark.parametrize(("analyte", "unit", "canonical"), EVERY_UNIT_AT_EVERY_BOUNDARY)
def test_a_value_at_each_boundary_flags_alike_in_every_accepted_unit(analyte, unit, canonical):
    factor = UNITS[analyte][0][unit]
    recorded = from_canonical(canonical, factor)
    result = make_lab_result(analyte, recorded, TAKEN, CONTENT, unit=unit)
    assert result.value == canonical and result.unit == CONTENT.analytes[analyte].unit
    assert (result.value_as_recorded, result.unit_as_recorded) == (recorded, unit)
    assert fired(analyte, recorded, unit) == fired(analyte, canonical)


LITERAL = [  # the numbers a person copies from a printed report
    pytest.param("platelets", 29900, "/uL", {"platelets.critical": "emergency"}, id="4.1 platelets 29 900/uL is 29.9"),
    pytest.param("platelets", 30000, "/mm3", {"platelets.low": "urgent"}, id="4.1 platelets 30 000/mm3 is 30"),
    pytest.param("platelets", 99.9, "G/L", {"platelets.low": "urgent"}, id="4.1 platelets 99.9 G/L"),
    pytest.param("platelets", 100, "10^3/µL", {"platelets.falling": "soon"}, id="4.1 platelets 100 x10^3/µL"),
    pytest.param("neutrophils", 490, "/uL", {"neutrophils.severe": "urgent"}, id="4.1 neutrophils 490/uL is 0.49"),
    pytest.param("neutrophils", 500, "/mm3", {"neutrophils.low": "soon"}, id="4.1 neutrophils 500/mm3 is 0.5"),
    pytest.param("creatinine", 1.25, "mg/dL", {"kidney.creatinine": "urgent"},
                 id="4.1 creatinine 1.25 mg/dL is 110.5 umol/L, above 110"),
    pytest.param("creatinine", 1.24, "mg/dl", {}, id="4.1 creatinine 1.24 mg/dl is 109.6 umol/L"),
    pytest.param("bilirubin", 1.23, "mg/dL", {"liver.enzymes": "soon"},
                 id="4.1 bilirubin 1.23 mg/dL is 21.03, above 21"),
    pytest.param("bilirubin", 2.46, "mg/dL", {"liver.enzymes": "urgent"},
                 id="4.1 bilirubin 2.46 mg/dL is 42.07, above 2x21"),
    pytest.param("alt", 2.01, "µkat/L", {"liver.enzymes": "urgent"}, id="4.1 ALT 2.01 ukat/L is 120.6 U/L, above 3x40"),
    pytest.param("alt", 2, "ukat/L", {"liver.enzymes": "soon"}, id="4.1 ALT 2 ukat/L is 120 U/L, not above 3x40"),
    pytest.param("cd4", 0.21, "10^9/L", {"cd4.recovered": "none"}, id="4.1 CD4 0.21 x10^9/L is 210 cells/uL"),
    pytest.param("cd4", 0.2, "10*9/L", {}, id="4.1 CD4 0.2 x10^9/L is 200 cells/uL, not above 200"),
    pytest.param("tsh", 4.1, "µIU/mL", {"thyroid.tsh": "soon"}, id="4.1 TSH 4.1 uIU/mL"),
]


@pytest.mark.parametrize(("analyte", "value", "unit", "expected"), LITERAL)
def test_printed_values_in_other_units(analyte, value, unit, expected):
    assert fired(analyte, value, unit) == expected


@pytest.mark.parametrize("spelling", ["umol/L", "µmol/L", "μmol/L", "UMOL/L", "µmol/l", " umol/L "])
def test_a_unit_is_matched_ignoring_case_and_the_micro_spelling(spelling):
    """4.1: "A unit is matched ignoring case and the spelling µ/u" (µ U+00B5 and μ U+03BC)."""
    result = make_lab_result("creatinine", 80, TAKEN, CONTENT, unit=spelling)
    assert (result.value, result.unit, result.unit_as_recorded) == (80, "umol/L", "umol/L")


def test_no_two_accepted_units_of_an_analyte_read_alike():
    for analyte in CONTENT.analytes.values():
        spellings = [normalise(u) for u in accepted_units(analyte)]
        assert len(spellings) == len(set(spellings))


def test_the_reference_range_is_converted_with_the_value():
    result = make_lab_result("creatinine", 1.0, TAKEN, CONTENT, ref_low=0.5, ref_high=1.1, unit="mg/dL")
    assert (result.value, result.ref_low, result.ref_high) == (88.42, 44.21, 97.262)
    # 1.15 mg/dL against the lab's own upper limit 1.1 mg/dL (97.262 umol/L)
    assert fired("creatinine", 1.15, "mg/dL", ref_high=1.1) == {"kidney.creatinine": "urgent"}


@pytest.mark.parametrize(("analyte", "unit"), [("creatinine", "mg/L"), ("platelets", "mg/dL"),
                                               ("tsh", "mmol/L"), ("alt", "kat/L"), ("cd4", "%"),
                                               ("platelets", ""), ("neutrophils", 12)])
def test_an_unknown_unit_is_refused_naming_the_field(analyte, unit):
    with pytest.raises(InputError) as caught:
        parse_labs([{"analyte": analyte, "value": 1, "unit": unit, "taken_on": "2026-03-10"}], CONTENT)
    assert caught.value.field == "labs[0].unit"
    assert "check the value and its unit" in caught.value.problem


PLAUSIBLE_EDGES = [
    pytest.param(analyte, value, unit, ok, id=f"4.1 {analyte} {value:g} {unit or ''}: {'kept' if ok else 'refused'}")
    for analyte, (units, (least, most)) in sorted(UNITS.items())
    for value, unit, ok in [
        (least, None, True), (most, None, True), (most + 0.001, None, False),
        *([(least - 0.001, None, False)] if least > 0 else []),
        # the range is checked after conversion: the most in the largest-factor unit
        (most / max(units.values()), max(units, key=units.get), True),
        (most / max(units.values()) * 1.001, max(units, key=units.get), False),
    ]
]


@pytest.mark.parametrize(("analyte", "value", "unit", "ok"), PLAUSIBLE_EDGES)
def test_each_plausible_edge(analyte, value, unit, ok):
    doc = [{"analyte": analyte, "value": value, "taken_on": "2026-03-10", **({"unit": unit} if unit else {})}]
    if ok:
        parse_labs(doc, CONTENT)
        return
    with pytest.raises(InputError) as caught:
        parse_labs(doc, CONTENT)
    assert caught.value.field == "labs[0].value"
    assert "check the value and its unit" in caught.value.problem


def test_a_unit_mix_up_is_refused():
    """Creatinine 88 typed while mg/dL is selected is 7 781 umol/L: not a result, a mix-up."""
    with pytest.raises(InputError) as caught:
        make_lab_result("creatinine", 88, TAKEN, CONTENT, unit="mg/dL", field="results[0]")
    assert caught.value.field == "results[0].value"
    assert "88 mg/dL" in caught.value.problem and "check the value and its unit" in caught.value.problem


def test_an_implausible_reference_limit_is_refused():
    """A range copied in the other unit would silence the rule (110 "mg/dL" is 9 726 umol/L)."""
    with pytest.raises(InputError) as caught:
        make_lab_result("creatinine", 1.0, TAKEN, CONTENT, ref_high=110, unit="mg/dL", field="labs[2]")
    assert caught.value.field == "labs[2].ref_high"


# --- flags carry the canonical and the recorded value (API.md 1, v2) ----------------------------


def _flags(labs):
    doc = {"courses": [{"infusions": ["2026-01-05", "2026-01-06", "2026-01-07"]}], "labs": labs}
    return timeline_document(doc, CONTENT)["flags"]


def test_flags_carry_value_and_unit_and_what_was_recorded_when_it_differs():
    assert _flags([{"analyte": "creatinine", "value": 1.5, "unit": "mg/dL", "taken_on": "2026-05-01"},
                   {"analyte": "platelets", "value": 25, "taken_on": "2026-05-02"}]) == [
        {"rule": "kidney.creatinine", "level": "urgent", "taken_on": "2026-05-01", "analyte": "creatinine",
         "value": 132.63, "unit": "umol/L", "value_as_recorded": 1.5, "unit_as_recorded": "mg/dL"},
        {"rule": "platelets.critical", "level": "emergency", "taken_on": "2026-05-02", "analyte": "platelets",
         "value": 25, "unit": "10^9/L"},
    ]


def test_the_command_line_exits_2_naming_the_unit_field():
    doc = {"courses": [], "labs": [{"analyte": "platelets", "value": 95, "taken_on": "2026-09-02"},
                                   {"analyte": "creatinine", "value": 1, "unit": "mmol/L", "taken_on": "2026-09-02"}]}
    done = subprocess.run([sys.executable, "-m", "server.cli", "timeline", "-"], cwd=ROOT, capture_output=True,
                          input=json.dumps(doc).encode(), timeout=120)
    assert done.returncode == 2 and done.stdout == b""
    line = done.stderr.decode()
    assert line.count("\n") == 1 and line.startswith("alemtrack timeline: labs[1].unit: ")
    assert "check the value and its unit" in line


# --- 4.2: weekly blood counts (v2: stop rule) --------------------------------------------------

FIRST = date(2026, 1, 5)
COURSE = {"infusions": [(FIRST + timedelta(days=n)).isoformat() for n in range(5)]}


def spans(values, baseline=None, ref_low=None):
    """The (T, R) spans of platelet results [(day offset from FIRST, value), ...]."""
    results = tuple(make_lab_result("platelets", v, FIRST + timedelta(days=d), CONTENT, ref_low=ref_low)
                    for d, v in values)
    findings = evaluate_all(results, baseline or {}, SETTINGS, CONTENT)
    return [(t - FIRST).days if r is None else ((t - FIRST).days, (r - FIRST).days)
            for t, r in weekly_cbc_spans(results, findings, CONTENT, FIRST)]


SERIES = [
    pytest.param([(100, 140), (107, 160), (114, 170)], None, [(100, 114)],
                 id="4.2 stop: the second of two consecutive results at or above 150"),
    pytest.param([(100, 140), (107, 160), (114, 149), (121, 150), (128, 150)], None, [(100, 128)],
                 id="4.2 stop: a result below the lower limit starts the count again"),
    pytest.param([(100, 200), (107, 190), (114, 195)], {"platelets": 320}, [(100, 114)],
                 id="4.2 stop (v2): with a high baseline 320, two results >= 150 stop it though they are "
                    "below 70% of baseline"),
    pytest.param([(100, 200), (107, 190), (114, 195), (150, 200), (180, 190)], {"platelets": 320}, [(100, 114)],
                 id="4.2 restart (v2): results low only against the baseline start no new series"),
    pytest.param([(100, 200), (107, 190), (114, 195), (150, 136)], {"platelets": 320}, [(100, 114), 150],
                 id="4.2 restart: at or below 70% of V (0.7 x 195 = 136.5) is a new fall"),
    pytest.param([(100, 200), (107, 190), (114, 195), (150, 137)], {"platelets": 320}, [(100, 114), 150],
                 id="4.2 restart: 137 is above 70% of V but below the lower limit 150"),
    pytest.param([(100, 140), (107, 300), (114, 320), (150, 224)], None, [(100, 114), 150],
                 id="4.2 restart: 224 is at or below 70% of V 320 (a new fall within the normal range)"),
    pytest.param([(100, 140), (107, 300), (114, 320), (150, 225)], None, [(100, 114)],
                 id="4.2 restart boundary: 225 is above 70% of V 320 and not below 150"),
    pytest.param([(100, 140), (107, 160), (114, 170), (150, 90)], None, [(100, 114), 150],
                 id="4.2 restart: platelets.low"),
    pytest.param([(100, 140), (107, 160), (114, 170), (150, 20), (157, 200), (164, 210)], None,
                 [(100, 114), (150, 164)], id="4.2 restart: platelets.critical, then a second stop"),
    pytest.param([(100, 140), (100, 160), (107, 160)], None, [100],
                 id="4.2 stop: only results taken after T count"),
    pytest.param([(100, 145), (107, 146), (114, 147)], None, [], marks=[],
                 id="4.2 stop: the result's own ref_low 140 replaces 150 (no series at all)"),
    pytest.param([(100, 200)], {"platelets": 300}, [100],
                 id="4.2 start: a first fall against the baseline starts a series (no series has stopped yet)"),
]


@pytest.mark.parametrize(("values", "baseline", "expected"), SERIES)
def test_weekly_series(values, baseline, expected, request):
    ref_low = 140 if "ref_low 140" in request.node.name else None
    assert spans(values, baseline, ref_low) == expected


def test_the_timeline_drops_weekly_dates_after_the_stop_and_months_up_to_it():
    """4.2: weekly dates after R dropped, monthly lab.cbc dates after T and on or before R dropped."""
    labs = [{"analyte": "platelets", "value": v, "taken_on": (FIRST + timedelta(days=d)).isoformat()}
            for d, v in [(100, 200), (107, 190), (160, 195), (200, 200)]]
    doc = {"patient": {"baseline": {"platelets": 320}}, "courses": [COURSE], "labs": labs}
    cbc = [i for i in timeline_document(doc, CONTENT)["items"] if i["code"] == "lab.cbc"]
    weekly = [i["due"] for i in cbc if i.get("cadence") == "weekly"]
    t, r = FIRST + timedelta(days=100), FIRST + timedelta(days=160)
    assert weekly == [(t + timedelta(days=7 * n)).isoformat() for n in range(1, 9)]  # up to R
    assert max(weekly) <= r.isoformat()
    monthly = [i["due"] for i in cbc if i.get("cadence") != "weekly"]
    assert not [d for d in monthly if t.isoformat() < d <= r.isoformat()]
    assert any(d > r.isoformat() for d in monthly)  # the monthly grid goes on after R
