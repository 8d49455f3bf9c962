"""Protocol cll (CLINICAL.md section 7), row by row.

Every test names the row of CLINICAL.md it checks and the seed it comes from:
000 (Belgian recommendations, Belg J Hematol 2011), 001 (review), or the
Campath/MabCampath label. The documents go through the engine's own JSON path
(``alemtrack timeline`` / ``triage``), as other sites' tooling uses it.
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date, timedelta

import pytest

from server.engine.content.loading import default_content
from server.engine.dates import add_months
from server.engine.documents import timeline_document, triage_document
from server.engine.errors import InputError
from server.engine.inputs import Dose, Patient, make_course, make_lab_result, resolve_settings
from server.engine.schedule import propose_course
from server.engine.timeline import timeline

CONTENT = default_content()
F = date(2026, 9, 7)  # a Monday
IV = propose_course(F, "iv")
L = IV[-1][0]


def doses(course: list[tuple[date, Dose]]) -> list[dict]:
    return [{"on": day.isoformat(), "mg": dose.mg, "route": dose.route} for day, dose in course]


def run(courses: list[dict] | None = None, labs: list[dict] | None = None, patient: dict | None = None,
        settings: dict | None = None) -> dict:
    doc = {"patient": {"protocol": "cll", **(patient or {})},
           "courses": courses if courses is not None else [{"route": "iv", "infusions": doses(IV)}],
           "labs": labs or [], "settings": settings or {}}
    return timeline_document(doc, CONTENT)


def of(result: dict, code: str) -> list:
    """The item's occurrences: due dates, or (start, end) windows."""
    return [date.fromisoformat(i["due"]) if "due" in i else
            (date.fromisoformat(i["start"]), date.fromisoformat(i["end"]) if i["end"] else None)
            for i in result["items"] if i["code"] == code]


def weekly(start: date, until: date) -> list[date]:
    out, day = [], start
    while day <= until:
        out.append(day)
        day += timedelta(days=7)
    return out


def cd4(on: date, value: float) -> dict:
    return {"analyte": "cd4", "value": value, "taken_on": on.isoformat()}


def lab(analyte: str, value, on: date, **extra) -> dict:
    return {"analyte": analyte, "value": value, "taken_on": on.isoformat(), **extra}


def flags(result: dict) -> list[tuple[str, str, str]]:
    return [(f["rule"], f["level"], f["taken_on"]) for f in result["flags"]]


# --- 7.1 The course --------------------------------------------------------------


def test_7_1_iv_proposal_escalates_then_30_mg_three_times_a_week():
    """7.1 row 1 (000 Dosing and administration, Table 2; 001): IV 3, 10, 30 mg on
    consecutive days, then 36 doses of 30 mg, three a week on alternate days."""
    assert [(day, dose.mg) for day, dose in IV[:3]] == [(F, 3), (F + timedelta(days=1), 10),
                                                        (F + timedelta(days=2), 30)]
    full = [day for day, dose in IV if dose.mg == 30]
    assert len(full) == 36 and {dose.route for _, dose in IV} == {"iv"}
    assert all((b - a).days >= 2 for a, b in zip(full, full[1:]))
    assert all(day.weekday() in (0, 2, 4) for day in full[1:])
    # 12 weeks and a little more: "less frequent dosing should be avoided" (000)
    assert (full[-1] - full[0]).days <= 18 * 7
    assert run()["warnings"] == []


def test_7_1_sc_proposal_starts_at_30_mg_without_escalation():
    """7.1 row 1 (000 Table 2; 001): subcutaneous from 30 mg, 36 doses."""
    sc = propose_course(F, "sc")
    assert len(sc) == 36 and sc[0] == (F, Dose(30, "sc"))
    assert {dose.mg for _, dose in sc} == {30} and {dose.route for _, dose in sc} == {"sc"}
    result = run([{"route": "sc", "infusions": doses(sc)}])
    assert result["warnings"] == []
    assert of(result, "safety.first_dose") == [F]
    assert of(result, "med.premedication") == [day for day, _ in sc]


def test_7_1_a_bad_route_is_refused():
    with pytest.raises(InputError) as caught:
        propose_course(F, "oral")
    assert caught.value.field == "route"


def test_7_1_held_doses_are_absent_and_l_k_is_the_last_dose():
    """7.1 row 2: doses held for a reason are simply absent; F_k the first, L_k the last."""
    held = [day for day in (F, F + timedelta(days=2), F + timedelta(days=4), F + timedelta(days=16))]
    result = run([{"route": "sc", "infusions": [d.isoformat() for d in held]}])
    assert of(result, "med.premedication") == held
    assert of(result, "safety.infusion_reaction") == held
    assert of(result, "education.cmv_signs") == [(F, add_months(held[-1], 2))]
    assert of(result, "appt.response_check") == [F + timedelta(days=28)]


@pytest.mark.parametrize(("course", "warned"), [
    pytest.param([(F, 31, "sc")], ["course.dose_limit"], id="7.1 row 4 (Campath label): one dose of 31 mg"),
    pytest.param([(F, 30, "sc")], [], id="7.1 row 4: 30 mg is the most a dose may be"),
    pytest.param([(F, 30, "sc"), (F + timedelta(days=2), 30, "sc"), (F + timedelta(days=4), 30, "sc"),
                  (F + timedelta(days=6), 10, "sc")], ["course.dose_limit"],
                 id="7.1 row 4: 100 mg within 7 days"),
    pytest.param([(F, 30, "sc"), (F + timedelta(days=2), 30, "sc"), (F + timedelta(days=4), 30, "sc"),
                  (F + timedelta(days=7), 30, "sc")], [], id="7.1 row 4: 90 mg in any 7 days is allowed"),
    pytest.param([(F, 30, "iv"), (F + timedelta(days=8), 30, "iv")], ["course.reescalate"],
                 id="7.1 row 4 (Campath label): IV 30 mg after 7 days without doses"),
    pytest.param([(F, 30, "iv"), (F + timedelta(days=7), 30, "iv")], [],
                 id="7.1 row 4: IV 30 mg after 6 days without doses"),
    pytest.param([(F, 30, "iv"), (F + timedelta(days=8), 3, "iv")], [],
                 id="7.1 row 4: IV restart at 3 mg escalates again"),
    pytest.param([(F, 30, "sc"), (F + timedelta(days=8), 30, "sc")], [],
                 id="7.1 row 4: subcutaneous doses need no escalation"),
])
def test_7_1_dose_warnings(course, warned):
    result = run([{"infusions": [{"on": d.isoformat(), "mg": mg, "route": r} for d, mg, r in course]}])
    assert [w["code"] for w in result["warnings"]] == warned
    assert all(w["course"] == 1 and w["text"] for w in result["warnings"])


def test_7_1_doses_without_mg_give_no_dose_warning():
    result = run([{"route": "iv", "infusions": [F.isoformat(), (F + timedelta(days=20)).isoformat()]}])
    assert result["warnings"] == []


@pytest.mark.parametrize(("doc", "field"), [
    ({"patient": {"protocol": "cll"}, "courses": [{"infusions": [{"on": "2026-09-07", "mg": -3}]}]},
     "courses[0].infusions[0].mg"),
    ({"patient": {"protocol": "cll"}, "courses": [{"infusions": [{"on": "2026-09-07", "route": "oral"}]}]},
     "courses[0].infusions[0].route"),
    ({"patient": {"protocol": "cll"}, "courses": [{"infusions": [{"mg": 3}]}]}, "courses[0].infusions[0].on"),
    ({"patient": {"protocol": "cll"}, "courses": [{"route": "im", "infusions": ["2026-09-07"]}]},
     "courses[0].route"),
    ({"patient": {"protocol": "ms"}, "courses": [{"route": "iv", "infusions": ["2026-09-07"]}]},
     "courses[0].route"),
    ({"patient": {"protocol": "ms"}, "courses": [{"infusions": [{"on": "2026-09-07", "mg": 12}]}]},
     "courses[0].infusions[0]"),
])
def test_7_1_bad_doses_name_the_field(doc, field):
    with pytest.raises(InputError) as caught:
        timeline_document(doc, CONTENT)
    assert caught.value.field == field


def test_7_1_the_command_line_takes_protocol_cll(tmp_path):
    """API.md section 1: "protocol": "cll", doses as objects, exit 0."""
    path = tmp_path / "cll.json"
    path.write_text(json.dumps({"patient": {"protocol": "cll"},
                                "courses": [{"route": "iv", "infusions": doses(IV)}]}))
    done = subprocess.run([sys.executable, "-m", "server.cli", "timeline", str(path)],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert {item["code"] for item in json.loads(done.stdout)["items"]} >= {"lab.cmv_pcr", "checklist.weekly"}


# --- 7.2 Items ---------------------------------------------------------------------

SECOND = F + timedelta(days=400)


@pytest.mark.parametrize(("code", "labs", "settings", "expected"), [
    pytest.param("appt.hbv_screen", [], {}, [(F - timedelta(days=30), F - timedelta(days=1))],
                 id="7.2 appt.hbv_screen (000 Table 4): before course 1 only"),
    pytest.param("safety.first_dose", [], {}, [F, SECOND], id="7.2 safety.first_dose (000 Table 2): F_k"),
    pytest.param("med.allopurinol", [], {}, [(F, F + timedelta(days=13)), (SECOND, SECOND + timedelta(days=13))],
                 id="7.2 med.allopurinol (000 Table 4): first two weeks"),
    pytest.param("med.cotrimoxazole", [], {}, [(F, None), (SECOND, None)],
                 id="7.2 med.cotrimoxazole (000 Table 4): open while no CD4 >= 200"),
    pytest.param("med.cotrimoxazole", [cd4(L + timedelta(days=30), 250)], {},
                 [(F, add_months(L, 6)), (SECOND, None)],
                 id="7.2 med.cotrimoxazole (000 Table 4; label): L_k + 6 months, CD4 recovered earlier"),
    pytest.param("med.cotrimoxazole", [cd4(add_months(L, 8), 200)], {},
                 [(F, add_months(L, 8)), (SECOND, None)],
                 id="7.2 med.cotrimoxazole (label: whichever later): a later CD4 of 200"),
    pytest.param("med.cotrimoxazole", [cd4(L + timedelta(days=30), 250)], {"cll_prophylaxis_months": 2},
                 [(F, add_months(L, 2)), (SECOND, None)],
                 id="7.2 med.cotrimoxazole (001): site setting 2 months"),
    pytest.param("med.cotrimoxazole", [cd4(L, 400), cd4(add_months(L, 7), 199)], {}, [(F, None), (SECOND, None)],
                 id="7.2 med.cotrimoxazole: a CD4 on L_k or below 200 closes nothing"),
    pytest.param("med.aciclovir", [cd4(add_months(L, 8), 210)], {}, [(F, add_months(L, 8)), (SECOND, None)],
                 id="7.2 med.aciclovir (000 Table 4): the window of med.cotrimoxazole"),
    pytest.param("safety.irradiated_blood", [cd4(add_months(L, 8), 210)], {},
                 [(F, add_months(L, 8)), (SECOND, None)],
                 id="7.2 safety.irradiated_blood (000 Table 4): to the end of med.cotrimoxazole"),
    pytest.param("appt.response_check", [], {}, [F + timedelta(days=28), SECOND + timedelta(days=28)],
                 id="7.2 appt.response_check (000 Table 3): F_k + 28 days"),
    pytest.param("appt.marrow_assessment", [], {},
                 [(F + timedelta(days=84), F + timedelta(days=112)),
                  (SECOND + timedelta(days=84), SECOND + timedelta(days=112))],
                 id="7.2 appt.marrow_assessment (000): not before week 12"),
    pytest.param("vaccine.live_avoid", [cd4(add_months(L, 5), 900), cd4(add_months(L, 6), 200),
                                        cd4(add_months(L, 7), 201)], {},
                 [(F - timedelta(days=42), add_months(L, 7)), (SECOND - timedelta(days=42), None)],
                 id="7.2 vaccine.live_avoid (label; 2.1): first CD4 > 200 from L_k + 6 months"),
])
def test_7_2_course_items(code, labs, settings, expected):
    # Two courses: course 2 is an SC course of three doses a year later.
    courses = [{"route": "iv", "infusions": doses(IV)},
               {"route": "sc", "infusions": [(SECOND + timedelta(days=2 * i)).isoformat() for i in range(3)]}]
    assert of(run(courses, labs, settings=settings), code) == expected


def test_7_2_per_administration_items():
    """7.2 med.premedication (000 Table 2; 001) and safety.infusion_reaction (001): each dose."""
    result = run()
    assert of(result, "med.premedication") == [day for day, _ in IV]
    assert of(result, "safety.infusion_reaction") == [day for day, _ in IV]


@pytest.mark.parametrize(("settings", "until"), [
    pytest.param({}, L + timedelta(weeks=8), id="7.2 lab.cmv_pcr (label): weekly to L_k + 8 weeks"),
    pytest.param({"cmv_after_course_weeks": 0}, L, id="7.2 lab.cmv_pcr (000): a site may set 0 weeks"),
])
def test_7_2_cmv_series(settings, until):
    assert of(run(settings=settings), "lab.cmv_pcr") == weekly(F + timedelta(days=7), until)


def test_7_2_blood_counts_weekly_then_monthly():
    """7.2 lab.cbc (label; 000 nadirs weeks 2-6): weekly to L_k + 8 weeks, then L_k + 3..6 months."""
    expected = weekly(F + timedelta(days=7), L + timedelta(days=56)) + [add_months(L, n) for n in range(3, 7)]
    assert of(run(), "lab.cbc") == expected


@pytest.mark.parametrize(("labs", "expected"), [
    pytest.param([], [add_months(L, n) for n in range(1, 25)], id="7.2 lab.cd4 (label): 24 months with no recovery"),
    pytest.param([cd4(add_months(L, 3), 199)], [add_months(L, n) for n in range(1, 25)],
                 id="7.2 lab.cd4: 199 is not a recovery"),
    pytest.param([cd4(add_months(L, 3) + timedelta(days=2), 200)], [add_months(L, n) for n in range(1, 4)],
                 id="7.2 lab.cd4 (label; 000): stops on recovery to 200"),
])
def test_7_2_cd4_series_stops_on_recovery(labs, expected):
    assert of(run(labs=labs), "lab.cd4") == expected


def test_7_2_education_checklist_and_contraception():
    result = run(patient={"sex": "male", "childbearing_potential": True})
    # education.cmv_signs (000: inform patients and relatives)
    assert of(result, "education.cmv_signs") == [(F, add_months(L, 2))]
    # checklist.weekly (000; 001): weekly while on or before L_k, then L_k + 1..12 months, numbered
    days = weekly(F + timedelta(days=7), L) + [add_months(L, n) for n in range(1, 13)]
    assert of(result, "checklist.weekly") == days
    assert [i["month"] for i in result["items"] if i["code"] == "checklist.weekly"] == list(range(1, len(days) + 1))
    # contraception (Campath label): childbearing potential, whatever the sex field says
    assert of(result, "contraception") == [(F, add_months(L, 6))]
    assert of(run(patient={"sex": "female"}), "contraception") == []


@pytest.mark.parametrize(("labs", "ends"), [
    pytest.param([], add_months(L, 24), id="7.2 monitoring ends: the last lab.cd4 with no recovery"),
    pytest.param([cd4(add_months(L, 1), 300)], add_months(L, 12),
                 id="7.2 monitoring ends: the last checklist after an early recovery"),
])
def test_7_2_monitoring_ends_with_the_last_item(labs, ends):
    assert run(labs=labs)["monitoring_ends"] == ends.isoformat()


def test_7_2_every_item_has_words_in_every_language():
    for language in ("en", "es", "de", "it"):
        result = run(patient={"language": language, "childbearing_potential": True})
        assert {i["code"] for i in result["items"]} == set(CONTENT.of("cll").item_codes)
        assert all(i["title"] for i in result["items"])


# --- 7.3 Checklist ------------------------------------------------------------------------

LAST = F + timedelta(days=60)
COURSE = [{"route": "sc", "infusions": [F.isoformat(), (F + timedelta(days=2)).isoformat(), LAST.isoformat()]}]


def triage(answers: dict, on: date, note: str | None = None) -> dict:
    return triage_document({"patient": {"protocol": "cll"}, "courses": COURSE, "answered_on": on.isoformat(),
                            "answers": answers, "note": note}, CONTENT)


@pytest.mark.parametrize(("answers", "on", "level", "reasons"), [
    pytest.param({"cll.emergency": True}, LAST, "emergency", ["cll.emergency"],
                 id="7.3 cll.emergency (000 haemorrhage; label): emergency"),
    pytest.param({"cll.fever": True}, LAST + timedelta(days=3), "emergency", ["cll.fever"],
                 id="7.3 cll.fever (000; 001): during the course, emergency"),
    pytest.param({"cll.fever": True}, add_months(LAST, 2), "emergency", ["cll.fever"],
                 id="7.3 cll.fever: on L_prev + 2 months, still emergency"),
    pytest.param({"cll.fever": True}, add_months(LAST, 2) + timedelta(days=1), "urgent", ["cll.fever"],
                 id="7.3 cll.fever: after L_prev + 2 months, urgent"),
    pytest.param({"cll.tired": True}, LAST, "soon", ["cll.tired"], id="7.3 cll.tired (000 CMV signs): soon"),
    pytest.param({"cll.bleeding": True}, LAST, "urgent", ["cll.bleeding"], id="7.3 cll.bleeding (000): urgent"),
    pytest.param({"cll.breath": True}, LAST, "urgent", ["cll.breath"], id="7.3 cll.breath (000 PCP): urgent"),
    pytest.param({"cll.herpes": True}, LAST, "urgent", ["cll.herpes"], id="7.3 cll.herpes (000): urgent"),
    pytest.param({"cll.infusion_reaction": True}, LAST, "soon", ["cll.infusion_reaction"],
                 id="7.3 cll.infusion_reaction (001): soon"),
    pytest.param({"cll.herpes": True, "cll.bleeding": True, "cll.tired": True}, LAST, "urgent",
                 ["cll.herpes", "cll.bleeding"], id="7.3: the highest level and its reasons"),
    pytest.param({"cll.tired": False}, LAST, "none", [], id="7.3: nothing ticked"),
])
def test_7_3_levels(answers, on, level, reasons):
    result = triage(answers, on)
    assert result["level"] == level
    assert sorted(result["reasons"]) == sorted(reasons)


def test_7_3_a_note_alone_is_routine_and_ms_codes_are_unknown():
    """7.3: the note rule of section 3; the MS questions are not this protocol's."""
    assert triage({}, LAST, note="Tired after the weekend")["reasons"] == ["note"]
    with pytest.raises(InputError) as caught:
        triage({"bleed.mucosal": True}, LAST)
    assert caught.value.field == "answers.bleed.mucosal"


@pytest.mark.parametrize("language", ["en", "es", "de", "it"])
def test_7_3_levels_are_named_as_in_ms(language):
    """A clinic's queue holds both protocols' flags side by side: one scale, one set of names."""
    ms, cll = CONTENT.of("ms"), CONTENT.of("cll")
    for level in ("none", "routine", "soon", "urgent", "emergency"):
        assert cll.text(language, "levels", level, "name") == ms.text(language, "levels", level, "name")


@pytest.mark.parametrize("language", ["en", "es", "de", "it"])
def test_7_3_words_say_haematology_team(language):
    cll = CONTENT.of("cll")
    team = {"en": "haematology team", "es": "equipo de hematología", "de": "Hämatologie-Team",
            "it": "team di ematologia"}[language]
    for level in ("none", "routine", "soon", "urgent"):
        advice = cll.text(language, "levels", level, "advice")
        assert team in advice and "MS" not in advice
    assert team in cll.text(language, "reminders", "generic_body")
    for code in cll.question_codes:
        assert cll.text(language, "questions", code, "text")


# --- 7.4 Lab rules ------------------------------------------------------------------------

DURING = F + timedelta(days=14)


@pytest.mark.parametrize(("labs", "expected"), [
    pytest.param([lab("cmv_pcr", 500, DURING)], [("cmv.positive", "soon")],
                 id="7.4 cmv.positive (000): one positive test"),
    pytest.param([lab("cmv_pcr", 500, DURING), lab("cmv_pcr", 900, DURING + timedelta(days=7))],
                 [("cmv.positive", "soon"), ("cmv.reactivation", "urgent")],
                 id="7.4 cmv.reactivation (000 Table 4): two positive tests, rising, within 28 days"),
    pytest.param([lab("cmv_pcr", 500, DURING), lab("cmv_pcr", 900, DURING + timedelta(days=29))],
                 [("cmv.positive", "soon"), ("cmv.positive", "soon")],
                 id="7.4 cmv: a rise after more than 28 days is a new positive"),
    pytest.param([lab("cmv_pcr", 900, DURING), lab("cmv_pcr", 500, DURING + timedelta(days=7))],
                 [("cmv.positive", "soon"), ("cmv.positive", "soon")], id="7.4 cmv: falling is not rising"),
    pytest.param([lab("cmv_pcr", 0, DURING), lab("cmv_pcr", 900, DURING + timedelta(days=7))],
                 [("cmv.positive", "soon")], id="7.4 cmv: after a negative, one positive"),
    pytest.param([lab("cmv_pcr", 10001, DURING)], [("cmv.reactivation", "urgent")],
                 id="7.4 cmv.reactivation (000 Table 4): one result above 10,000 copies/mL"),
    pytest.param([lab("cmv_pcr", 10000, DURING)], [("cmv.positive", "soon")], id="7.4 cmv: 10,000 is not above"),
    pytest.param([lab("cmv_pcr", 12000, DURING, unit="IU/mL")], [("cmv.reactivation", "urgent")],
                 id="7.4 cmv_pcr in IU/mL (factor 1)"),
    pytest.param([lab("cmv_pcr", 0, DURING)], [], id="7.4 cmv: 0 copies is negative"),
    pytest.param([lab("neutrophils", 0.24, DURING)], [("neutrophils.hold", "urgent")],
                 id="7.4 neutrophils.hold (000 Table 4): 0.24"),
    pytest.param([lab("neutrophils", 0.25, DURING)], [("neutrophils.gcsf", "soon")],
                 id="7.4 neutrophils.gcsf (000 Table 4): 0.25"),
    pytest.param([lab("neutrophils", 0.49, DURING)], [("neutrophils.gcsf", "soon")],
                 id="7.4 neutrophils.gcsf: 0.49"),
    pytest.param([lab("neutrophils", 0.5, DURING)], [], id="7.4 neutrophils: 0.5 raises nothing"),
    pytest.param([lab("platelets", 25, DURING)], [("platelets.hold", "urgent")],
                 id="7.4 platelets.hold (Campath label): 25"),
    pytest.param([lab("platelets", 26, DURING)], [], id="7.4 platelets: 26 raises nothing"),
    pytest.param([lab("neutrophils", 0.2, F - timedelta(days=3)), lab("neutrophils", 0.1, DURING)],
                 [("neutrophils.hold", "urgent"), ("neutrophils.hold", "urgent")],
                 id="7.4 neutrophils.hold (label): low baseline 0.2, a fall of 50% to 0.1"),
    pytest.param([lab("neutrophils", 0.2, F - timedelta(days=3)), lab("neutrophils", 0.11, DURING)],
                 [("neutrophils.hold", "urgent"), ("neutrophils.gcsf", "soon")],
                 id="7.4 neutrophils.hold: low baseline 0.2, 0.11 is less than a 50% fall"),
    pytest.param([lab("neutrophils", 0.3, F - timedelta(days=3)), lab("neutrophils", 0.2, DURING)],
                 [("neutrophils.gcsf", "soon"), ("neutrophils.hold", "urgent")],
                 id="7.4 neutrophils.hold: a baseline above 0.25 keeps the plain threshold"),
    pytest.param([lab("platelets", 20, F - timedelta(days=1)), lab("platelets", 10, DURING)],
                 [("platelets.hold", "urgent"), ("platelets.hold", "urgent")],
                 id="7.4 platelets.hold (label): low baseline 20, a fall to 10"),
    pytest.param([lab("platelets", 20, F - timedelta(days=1)), lab("platelets", 11, DURING)],
                 [("platelets.hold", "urgent")], id="7.4 platelets.hold: low baseline 20, 11 is not a 50% fall"),
    pytest.param([lab("cd4", 200, DURING)], [], id="7.4 cd4.recovered (label): 200 raises no flag"),
])
def test_7_4_lab_rules(labs, expected):
    assert [(rule, level) for rule, level, _ in flags(run(labs=labs))] == expected


def test_7_4_cd4_recovered_is_a_finding_with_level_none():
    result = timeline(Patient(protocol="cll"), (make_course([F]),),
                      (make_lab_result("cd4", 200, DURING, CONTENT),), resolve_settings({}, CONTENT), CONTENT)
    assert [(f.rule, f.level) for f in result.findings] == [("cd4.recovered", "none")]


def test_7_4_cmv_pcr_refuses_implausible_values():
    with pytest.raises(InputError) as caught:
        run(labs=[lab("cmv_pcr", 200_000_000, DURING)])
    assert caught.value.field == "labs[0].value"


# --- the protocol sheet (API.md section 1: alemtrack protocol --protocol cll) ---------------


@pytest.mark.parametrize("language", ["en", "es", "de", "it"])
def test_the_cll_sheet_says_every_code_of_the_protocol(language):
    from server.engine.sheet import build_sheet, render
    cll = CONTENT.of("cll")
    text = render(build_sheet(cll, language), "markdown")
    for code in (*cll.item_codes, *cll.question_codes, *(rule.code for rule in cll.rules),
                 *(warning.code for warning in cll.warnings), "cll_prophylaxis_months", "cmv_after_course_weeks"):
        assert code in text, code
    assert "checklist.monthly" not in text and "platelets.critical" not in text


@pytest.mark.parametrize(("protocol", "code"), [("cll", 0), ("als", 2)])
def test_the_sheet_command_takes_the_protocol(protocol, code):
    done = subprocess.run([sys.executable, "-m", "server.cli", "protocol", "--protocol", protocol,
                           "--format", "json"], capture_output=True, text=True, check=False)
    assert done.returncode == code, done.stderr
    if code == 0:
        assert json.loads(done.stdout)["protocol"] == "cll"
    else:
        assert "--protocol" in done.stderr and "cll" in done.stderr
