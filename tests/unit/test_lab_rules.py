"""Table-driven tests of the lab rules of CLINICAL.md section 4 (``labs.evaluate``).

Each case names the row it checks. Thresholds are the section 4 defaults:
platelets 150-400, neutrophils 1.5-7.5, cd4 500-1500, creatinine upper 110,
TSH 0.4-4.0, ALT/AST upper 40, bilirubin upper 21; a result's own ref_low /
ref_high replaces the default.
"""

from __future__ import annotations

from datetime import date

import pytest

from server.engine.content.loading import default_content
from server.engine.documents import timeline_document
from server.engine.inputs import make_lab_result, resolve_settings
from server.engine.labs import evaluate

CONTENT = default_content()
TAKEN = date(2026, 3, 10)


def fired(analyte, value, baseline=None, settings=None, ref_low=None, ref_high=None):
    """{rule code: level} for one result."""
    result = make_lab_result(analyte, value, TAKEN, CONTENT, ref_low=ref_low, ref_high=ref_high)
    resolved = resolve_settings(settings or {}, CONTENT)
    return {f.rule: f.level for f in evaluate(result, baseline or {}, resolved, CONTENT)}


# Each case: (analyte, value, extra keyword arguments for ``fired``, expected {rule: level}).
CASES = [
    # --- platelets.low: platelets < 100, urgent ---------------------------------------
    pytest.param("platelets", 99, {}, {"platelets.low": "urgent"},
                 id="platelets.low: 99 < 100 urgent (falling superseded)"),
    pytest.param("platelets", 90, {}, {"platelets.low": "urgent"},
                 id="platelets.low: 90 gives only platelets.low (only the higher applies)"),
    pytest.param("platelets", 90, {"baseline": {"platelets": 250}}, {"platelets.low": "urgent"},
                 id="platelets.low: 90 with baseline still only platelets.low"),
    pytest.param("platelets", 100, {}, {"platelets.falling": "soon"},
                 id="platelets.low boundary: 100 is not low but is falling (< 150)"),
    pytest.param("platelets", 99, {"ref_low": 80}, {"platelets.low": "urgent"},
                 id="platelets.low: the < 100 limit is fixed, not the lab's range"),
    # --- platelets.falling: < lower limit (150) or <= 70% of baseline, soon ----------
    pytest.param("platelets", 149, {}, {"platelets.falling": "soon"},
                 id="platelets.falling: 149 below the lower limit"),
    pytest.param("platelets", 150, {}, {},
                 id="platelets.falling boundary: 150 without baseline not falling"),
    pytest.param("platelets", 210, {"baseline": {"platelets": 300}},
                 {"platelets.falling": "soon"},
                 id="platelets.falling: exactly 70% of baseline 300 (210) is falling"),
    pytest.param("platelets", 211, {"baseline": {"platelets": 300}}, {},
                 id="platelets.falling boundary: 211 above 70% of 300"),
    pytest.param("platelets", 231, {"baseline": {"platelets": 330}},
                 {"platelets.falling": "soon"},
                 id="platelets.falling: exactly 70% of 330 (231; 0.7 x 330 inexact in binary)"),
    pytest.param("platelets", 232, {"baseline": {"platelets": 330}}, {},
                 id="platelets.falling boundary: 232 above 70% of 330"),
    pytest.param("platelets", 150, {"baseline": {"platelets": 250}},
                 {"platelets.falling": "soon"},
                 id="platelets.falling: 150 is 60% of baseline 250"),
    pytest.param("platelets", 145, {"ref_low": 140}, {},
                 id="platelets.falling: lab's own ref_low 140 replaces 150"),
    pytest.param("platelets", 155, {"ref_low": 160}, {"platelets.falling": "soon"},
                 id="platelets.falling: 155 below the lab's own ref_low 160"),
    pytest.param("platelets", 450, {}, {}, id="platelets: above the range raises nothing"),
    # --- kidney.urinalysis: urine_blood or urine_protein positive, urgent -------------
    pytest.param("urine_blood", "positive", {}, {"kidney.urinalysis": "urgent"},
                 id="kidney.urinalysis: urine_blood positive"),
    pytest.param("urine_protein", "positive", {}, {"kidney.urinalysis": "urgent"},
                 id="kidney.urinalysis: urine_protein positive"),
    pytest.param("urine_blood", "negative", {}, {},
                 id="kidney.urinalysis boundary: urine_blood negative"),
    pytest.param("urine_protein", "negative", {}, {},
                 id="kidney.urinalysis boundary: urine_protein negative"),
    # --- kidney.creatinine: > upper limit (110) or >= 130% of baseline, urgent ----------
    pytest.param("creatinine", 111, {}, {"kidney.creatinine": "urgent"},
                 id="kidney.creatinine: 111 above 110"),
    pytest.param("creatinine", 110.5, {}, {"kidney.creatinine": "urgent"},
                 id="kidney.creatinine: 110.5 above 110"),
    pytest.param("creatinine", 110, {}, {}, id="kidney.creatinine boundary: 110 not flagged"),
    pytest.param("creatinine", 91, {"baseline": {"creatinine": 70}},
                 {"kidney.creatinine": "urgent"},
                 id="kidney.creatinine: exactly 130% of baseline 70 (91) flagged"),
    pytest.param("creatinine", 93.6, {"baseline": {"creatinine": 72}},
                 {"kidney.creatinine": "urgent"},
                 id="kidney.creatinine: exactly 130% of 72 (93.6; 1.3 x 72 inexact in binary)"),
    pytest.param("creatinine", 90.9, {"baseline": {"creatinine": 70}}, {},
                 id="kidney.creatinine boundary: 90.9 below 130% of 70"),
    pytest.param("creatinine", 91, {"baseline": {"creatinine": 70},
                                    "settings": {"creatinine_rise": 1.5}}, {},
                 id="kidney.creatinine: creatinine_rise 1.5, 91 < 150% of 70 not flagged"),
    pytest.param("creatinine", 105, {"baseline": {"creatinine": 70},
                                     "settings": {"creatinine_rise": 1.5}},
                 {"kidney.creatinine": "urgent"},
                 id="kidney.creatinine: creatinine_rise 1.5, exactly 150% of 70 (105) flagged"),
    pytest.param("creatinine", 115, {"ref_high": 120}, {},
                 id="kidney.creatinine: lab's own ref_high 120 replaces 110"),
    pytest.param("creatinine", 105, {"ref_high": 100}, {"kidney.creatinine": "urgent"},
                 id="kidney.creatinine: 105 above the lab's own ref_high 100"),
    # --- thyroid.tsh: outside 0.4-4.0, soon ------------------------------------------
    pytest.param("tsh", 0.39, {}, {"thyroid.tsh": "soon"}, id="thyroid.tsh: 0.39 below 0.4"),
    pytest.param("tsh", 4.01, {}, {"thyroid.tsh": "soon"}, id="thyroid.tsh: 4.01 above 4.0"),
    pytest.param("tsh", 0.4, {}, {}, id="thyroid.tsh boundary: 0.4 in range"),
    pytest.param("tsh", 4.0, {}, {}, id="thyroid.tsh boundary: 4.0 in range"),
    pytest.param("tsh", 4.5, {"ref_low": 0.5, "ref_high": 5.0}, {},
                 id="thyroid.tsh: 4.5 inside the lab's own 0.5-5.0"),
    pytest.param("tsh", 0.45, {"ref_low": 0.5, "ref_high": 5.0}, {"thyroid.tsh": "soon"},
                 id="thyroid.tsh: 0.45 below the lab's own 0.5"),
    # --- liver.enzymes: > upper limit soon; ALT/AST > 3x or bilirubin > 2x urgent -----
    pytest.param("alt", 41, {}, {"liver.enzymes": "soon"}, id="liver.enzymes: ALT 41 soon"),
    pytest.param("alt", 40, {}, {}, id="liver.enzymes boundary: ALT 40 not flagged"),
    pytest.param("alt", 100, {}, {"liver.enzymes": "soon"},
                 id="liver.enzymes: ALT 100 (> 2x) still soon, 2x is bilirubin's"),
    pytest.param("alt", 120, {}, {"liver.enzymes": "soon"},
                 id="liver.enzymes boundary: ALT 120 (= 3x) soon"),
    pytest.param("alt", 121, {}, {"liver.enzymes": "urgent"},
                 id="liver.enzymes: ALT 121 (> 3x) urgent"),
    pytest.param("ast", 41, {}, {"liver.enzymes": "soon"}, id="liver.enzymes: AST 41 soon"),
    pytest.param("ast", 40, {}, {}, id="liver.enzymes boundary: AST 40 not flagged"),
    pytest.param("ast", 120, {}, {"liver.enzymes": "soon"},
                 id="liver.enzymes boundary: AST 120 (= 3x) soon"),
    pytest.param("ast", 121, {}, {"liver.enzymes": "urgent"},
                 id="liver.enzymes: AST 121 (> 3x) urgent"),
    pytest.param("bilirubin", 22, {}, {"liver.enzymes": "soon"},
                 id="liver.enzymes: bilirubin 22 soon"),
    pytest.param("bilirubin", 21, {}, {}, id="liver.enzymes boundary: bilirubin 21 not flagged"),
    pytest.param("bilirubin", 42, {}, {"liver.enzymes": "soon"},
                 id="liver.enzymes boundary: bilirubin 42 (= 2x) soon"),
    pytest.param("bilirubin", 43, {}, {"liver.enzymes": "urgent"},
                 id="liver.enzymes: bilirubin 43 (> 2x) urgent"),
    pytest.param("alt", 45, {"ref_high": 50}, {},
                 id="liver.enzymes: ALT 45 under the lab's own upper limit 50"),
    pytest.param("alt", 150, {"ref_high": 50}, {"liver.enzymes": "soon"},
                 id="liver.enzymes: ALT 150 = 3x the lab's own 50, soon"),
    pytest.param("alt", 151, {"ref_high": 50}, {"liver.enzymes": "urgent"},
                 id="liver.enzymes: ALT 151 > 3x the lab's own 50, urgent"),
    pytest.param("bilirubin", 34, {"ref_high": 17}, {"liver.enzymes": "soon"},
                 id="liver.enzymes: bilirubin 34 = 2x the lab's own 17, soon"),
    pytest.param("bilirubin", 35, {"ref_high": 17}, {"liver.enzymes": "urgent"},
                 id="liver.enzymes: bilirubin 35 > 2x the lab's own 17, urgent"),
    # --- neutrophils.low: neutrophils < 1.0, soon -------------------------------------
    pytest.param("neutrophils", 0.99, {}, {"neutrophils.low": "soon"},
                 id="neutrophils.low: 0.99 soon"),
    pytest.param("neutrophils", 1.0, {}, {}, id="neutrophils.low boundary: 1.0 not low"),
    pytest.param("neutrophils", 1.2, {}, {},
                 id="neutrophils.low: 1.2 below the range (1.5) but not < 1.0"),
    # --- cd4.recovered: CD4 > 200, level none -----------------------------------------
    pytest.param("cd4", 201, {}, {"cd4.recovered": "none"}, id="cd4.recovered: 201, level none"),
    pytest.param("cd4", 200, {}, {}, id="cd4.recovered boundary: 200 not recovered"),
    pytest.param("cd4", 150, {}, {}, id="cd4.recovered: 150 (below range) raises nothing"),
    # --- analytes without a rule ------------------------------------------------------
    pytest.param("lymphocytes", 0.2, {}, {}, id="lymphocytes: no rule of section 4"),
]


@pytest.mark.parametrize(("analyte", "value", "extra", "expected"), CASES)
def test_lab_rule(analyte, value, extra, expected):
    assert fired(analyte, value, **extra) == expected


def test_finding_carries_the_result():
    result = make_lab_result("platelets", 95, TAKEN, CONTENT)
    findings = evaluate(result, {}, resolve_settings({}, CONTENT), CONTENT)
    assert [(f.rule, f.level, f.taken_on, f.analyte, f.value) for f in findings] == [
        ("platelets.low", "urgent", TAKEN, "platelets", 95),
    ]


def test_baseline_of_another_analyte_is_not_used():
    # platelets.falling compares with the baseline *platelets*, not creatinine
    assert fired("platelets", 160, baseline={"creatinine": 300}) == {}


# --- flags in the timeline JSON (API.md 1; CLINICAL 4) --------------------------------


def timeline_flags(labs, baseline=None):
    doc = {
        "patient": {"baseline": baseline or {}},
        "courses": [{"infusions": ["2026-01-05", "2026-01-06", "2026-01-07"]}],
        "labs": [{"analyte": a, "value": v, "taken_on": t} for a, v, t in labs],
    }
    return timeline_document(doc, CONTENT)["flags"]


@pytest.mark.parametrize(
    ("labs", "baseline", "expected"),
    [
        pytest.param([("cd4", 300, "2026-09-01")], None, [],
                     id="cd4.recovered (level none) raises no flag"),
        pytest.param(
            [("cd4", 300, "2026-09-01"), ("platelets", 90, "2026-09-02")], {"platelets": 250},
            [{"rule": "platelets.low", "level": "urgent", "taken_on": "2026-09-02",
              "analyte": "platelets", "value": 90, "unit": "10^9/L"}],
            id="platelets 90: one flag (low only), cd4 excluded",
        ),
        pytest.param(
            [("urine_blood", "positive", "2026-05-01"), ("alt", 130, "2026-05-01"),
             ("tsh", 0.39, "2026-06-01")],
            None,
            [{"rule": "kidney.urinalysis", "level": "urgent", "taken_on": "2026-05-01",
              "analyte": "urine_blood", "value": "positive"},
             {"rule": "liver.enzymes", "level": "urgent", "taken_on": "2026-05-01",
              "analyte": "alt", "value": 130, "unit": "U/L"},
             {"rule": "thyroid.tsh", "level": "soon", "taken_on": "2026-06-01",
              "analyte": "tsh", "value": 0.39, "unit": "mIU/L"}],
            id="flags carry rule, level, taken_on, analyte, value in date order",
        ),
        pytest.param([("creatinine", 91, "2026-05-01")], {"creatinine": 70},
                     [{"rule": "kidney.creatinine", "level": "urgent", "taken_on": "2026-05-01",
                       "analyte": "creatinine", "value": 91, "unit": "umol/L"}],
                     id="baseline from the patient document reaches the rules"),
    ],
)
def test_timeline_flags(labs, baseline, expected):
    assert timeline_flags(labs, baseline) == expected
