"""Table-driven tests of the (v2) rows of CLINICAL.md sections 1, 1a, 2.1, 2.2, 2.3
and 5 that tests/unit/test_timeline_items.py does not already pin: infusion
blocks, the pregnancy test, the end-of-monitoring review, the herpes prophylaxis
drug, the warnings on planned courses (each with its negatives) and the
reminders of section 5.

Expected dates are worked out by hand from the row each test cites.
"""

from __future__ import annotations

import json
from datetime import date, datetime, time, timedelta, timezone

import pytest

from server.engine.content.loading import default_content
from server.engine.content.model import LANGUAGES
from server.engine.documents import timeline_document
from server.engine.inputs import parse_courses, parse_labs, parse_patient, resolve_settings
from server.engine.reminders import plan
from server.engine.timeline import timeline

CONTENT = default_content()

#: course 1, given: F_1 = 2026-01-05, L_1 = 2026-01-09 (L_1 + 12 months = 2027-01-09)
C1 = ["2026-01-05", "2026-01-06", "2026-01-07", "2026-01-08", "2026-01-09"]
#: course 2: F_2 = 2027-01-11, L_2 = 2027-01-13
C2 = ["2027-01-11", "2027-01-12", "2027-01-13"]


def doc(courses, patient=None, labs=None, settings=None) -> dict:
    out = {"courses": [c if isinstance(c, dict) else {"infusions": c} for c in courses]}
    if patient is not None:
        out["patient"] = patient
    if labs is not None:
        out["labs"] = [{"analyte": a, "value": v, "taken_on": t} for a, v, t in labs]
    if settings is not None:
        out["settings"] = settings
    return out


def run(courses, patient=None, labs=None, settings=None) -> dict:
    return timeline_document(doc(courses, patient, labs, settings), CONTENT)


def planned(infusions) -> dict:
    return {"infusions": infusions, "status": "planned"}


def windows(out: dict, code: str) -> list[tuple[str, str | None]]:
    return [(i["start"], i["end"]) for i in out["items"] if i["code"] == code]


def dues(out: dict, code: str) -> list[str]:
    return [i["due"] for i in out["items"] if i["code"] == code]


def warnings(out: dict) -> list[tuple[str, int]]:
    return [(w["code"], w["course"]) for w in out["warnings"]]


# --- CLINICAL.md 1 infusion blocks; 2.1 diet.bland and safety.post_infusion (v2: per block) ----

BLOCKS = [
    pytest.param(["2026-03-06", "2026-03-09"], [("2026-03-06", "2026-03-09")],
                 [("2026-03-06", "2026-03-12")],
                 id="CLINICAL.md 1 infusion block: 3 days apart (a weekend) is one block"),
    pytest.param(["2026-03-06", "2026-03-10"], [("2026-03-06", "2026-03-06"), ("2026-03-10", "2026-03-10")],
                 [("2026-03-06", "2026-03-09"), ("2026-03-10", "2026-03-13")],
                 id="CLINICAL.md 1 infusion block: 4 days apart is two blocks"),
    pytest.param(["2026-03-02", "2026-03-03", "2026-03-16", "2026-03-30", "2026-03-31"],
                 [("2026-03-02", "2026-03-03"), ("2026-03-16", "2026-03-16"), ("2026-03-30", "2026-03-31")],
                 [("2026-03-02", "2026-03-06"), ("2026-03-16", "2026-03-19"), ("2026-03-30", "2026-04-03")],
                 id="CLINICAL.md 2.1 diet.bland and safety.post_infusion (v2): three blocks, one each"),
]


@pytest.mark.parametrize(("infusions", "bland", "safety"), BLOCKS)
def test_bland_diet_and_safety_window_per_block(infusions, bland, safety):
    out = run([infusions])
    assert windows(out, "diet.bland") == bland
    assert windows(out, "safety.post_infusion") == safety
    # The gap between blocks has no infusion: it is in neither window.
    assert {i["course"] for i in out["items"] if i["code"] in ("diet.bland", "safety.post_infusion")} == {1}


# --- CLINICAL.md 2.1 lab.pregnancy_test (v2) ------------------------------------------------


def test_pregnancy_test_is_due_on_the_first_day_of_each_course():
    out = run([C1, planned(C2)], patient={"sex": "female", "childbearing_potential": True})
    tests = [i for i in out["items"] if i["code"] == "lab.pregnancy_test"]
    assert [(i["due"], i["course"], i["kind"]) for i in tests] == [("2026-01-05", 1, "lab"), ("2027-01-11", 2, "lab")]


def test_pregnancy_test_of_an_interrupted_course_is_due_on_its_first_day_only():
    out = run([["2026-03-02", "2026-03-03", "2026-03-23"]], patient={"childbearing_potential": True})
    assert dues(out, "lab.pregnancy_test") == ["2026-03-02"]


# --- CLINICAL.md 2.2 appt.monitoring_end (v2) ---------------------------------------------------

MONITORING_END = [
    pytest.param([C1], "2030-01-09", id="CLINICAL.md 2.2 appt.monitoring_end (v2): L_1 9 Jan 2026 + 48 months"),
    pytest.param([C1, C2], "2031-01-13", id="CLINICAL.md 2.2 appt.monitoring_end (v2): L* of two courses"),
    pytest.param([C1, planned(C2)], "2031-01-13", id="a planned course moves L* too"),
    pytest.param([["2027-02-27", "2027-02-28", "2027-03-01"]], "2031-03-01", id="L* 1 Mar 2027 + 48 months"),
    pytest.param([["2028-02-27", "2028-02-28", "2028-02-29"]], "2032-02-29", id="L* 29 Feb 2028 + 48 months"),
]


@pytest.mark.parametrize(("courses", "expected"), MONITORING_END)
def test_monitoring_end_review(courses, expected):
    out = run(courses)
    items = [i for i in out["items"] if i["code"] == "appt.monitoring_end"]
    assert [(i["due"], i["kind"], "course" in i) for i in items] == [(expected, "appointment", False)]
    assert out["monitoring_ends"] == expected


def test_no_course_no_monitoring_end_review():
    assert run([])["items"] == []


# --- CLINICAL.md 1a herpes_prophylaxis_drug (v2): the words of med.aciclovir ----------------------


@pytest.mark.parametrize("language", LANGUAGES)
def test_valaciclovir_changes_the_words_of_the_herpes_prophylaxis(language):
    aciclovir = run([C1], patient={"language": language})
    valaciclovir = run([C1], patient={"language": language}, settings={"herpes_prophylaxis_drug": "valaciclovir"})
    [a] = [i for i in aciclovir["items"] if i["code"] == "med.aciclovir"]
    [v] = [i for i in valaciclovir["items"] if i["code"] == "med.aciclovir"]
    assert (a["start"], a["end"]) == (v["start"], v["end"])
    assert a["variant"] == "aciclovir" and v["variant"] == "valaciclovir"
    assert "valaciclovir" in v["title"].lower() and "valaciclovir" not in a["title"].lower()
    assert CONTENT.item_text(language, "med.aciclovir", "detail", "valaciclovir") != \
        CONTENT.item_text(language, "med.aciclovir", "detail", "aciclovir")


# --- CLINICAL.md 2.3 warnings on planned courses (v2) ---------------------------------------------

FEMALE = {"sex": "female", "childbearing_potential": True}
CD4_OK = [("cd4", 250, "2026-06-01")]  # after L_1, before F_2: no course.cd4_not_recovered

WARNINGS = [
    # course.too_soon: F_k earlier than L_{k-1} + 12 months (2027-01-09 for C1)
    pytest.param([C1, planned(["2027-01-08", "2027-01-09", "2027-01-10"])], {}, CD4_OK, {},
                 [("course.too_soon", 2)], id="CLINICAL.md 2.3 course.too_soon: F_2 a day before L_1 + 12 months"),
    pytest.param([C1, planned(["2027-01-09", "2027-01-10", "2027-01-11"])], {}, CD4_OK, {}, [],
                 id="CLINICAL.md 2.3 course.too_soon negative: F_2 on L_1 + 12 months"),
    pytest.param([C1, {"infusions": ["2026-11-02", "2026-11-03", "2026-11-04"]}], {}, CD4_OK, {}, [],
                 id="CLINICAL.md 2.3 course.too_soon negative: a given course never warns"),
    pytest.param([planned(C1)], {}, [], {}, [],
                 id="CLINICAL.md 2.3 course.too_soon negative: course 1 has no previous course"),
    pytest.param([C1, planned(C2), planned(["2027-12-01", "2027-12-02", "2027-12-03"])], {},
                 CD4_OK + [("cd4", 300, "2027-06-01")], {}, [("course.too_soon", 3)],
                 id="CLINICAL.md 2.3 course.too_soon: course 3 against course 2, numbered 3"),
    # course.during_pregnancy: an infusion in a pregnancy span (reported date to end, or 9 months)
    pytest.param([C1, planned(C2)], {**FEMALE, "pregnancies": [{"reported_on": "2027-01-01"}]}, CD4_OK, {},
                 [("course.during_pregnancy", 2)], id="CLINICAL.md 2.3 course.during_pregnancy: open pregnancy"),
    pytest.param([C1, planned(C2)], {**FEMALE, "pregnancies": [{"reported_on": "2026-04-11"}]}, CD4_OK, {},
                 [("course.during_pregnancy", 2)],
                 id="CLINICAL.md 2.3 course.during_pregnancy: 11 Apr 2026 + 9 months = 11 Jan 2027, F_2"),
    pytest.param([C1, planned(C2)], {**FEMALE, "pregnancies": [{"reported_on": "2026-04-10"}]}, CD4_OK, {}, [],
                 id="CLINICAL.md 2.3 course.during_pregnancy negative: 9 months end the day before F_2"),
    pytest.param([C1, planned(C2)], {**FEMALE, "pregnancies": [{"reported_on": "2027-01-13"}]}, CD4_OK, {},
                 [("course.during_pregnancy", 2)],
                 id="CLINICAL.md 2.3 course.during_pregnancy: reported on the last infusion"),
    pytest.param([C1, planned(C2)], {**FEMALE, "pregnancies": [{"reported_on": "2027-01-14"}]}, CD4_OK, {}, [],
                 id="CLINICAL.md 2.3 course.during_pregnancy negative: reported the day after the course"),
    pytest.param([C1, planned(C2)], {**FEMALE, "pregnancies": [{"reported_on": "2026-06-01",
                                                                "ended_on": "2027-01-10"}]}, CD4_OK, {}, [],
                 id="CLINICAL.md 2.3 course.during_pregnancy negative: ended the day before F_2"),
    pytest.param([C1, planned(C2)], {**FEMALE, "pregnancies": [{"reported_on": "2026-06-01",
                                                                "ended_on": "2027-01-12"}]}, CD4_OK, {},
                 [("course.during_pregnancy", 2)],
                 id="CLINICAL.md 2.3 course.during_pregnancy: ended during the course (end inclusive)"),
    pytest.param([planned(C1)], {**FEMALE, "pregnancies": [{"reported_on": "2025-12-01"}]}, [], {},
                 [("course.during_pregnancy", 1)], id="CLINICAL.md 2.3 course.during_pregnancy: course 1"),
    pytest.param([C1], {**FEMALE, "pregnancies": [{"reported_on": "2025-12-01"}]}, [], {}, [],
                 id="CLINICAL.md 2.3 course.during_pregnancy negative: given course"),
    # course.during_breastfeeding: the patient is breastfeeding
    pytest.param([C1, planned(C2)], {"breastfeeding": True}, CD4_OK, {},
                 [("course.during_breastfeeding", 2)], id="CLINICAL.md 2.3 course.during_breastfeeding"),
    pytest.param([planned(C1)], {"breastfeeding": True}, [], {},
                 [("course.during_breastfeeding", 1)], id="CLINICAL.md 2.3 course.during_breastfeeding: course 1"),
    pytest.param([C1, planned(C2)], {"breastfeeding": False}, CD4_OK, {}, [],
                 id="CLINICAL.md 2.3 course.during_breastfeeding negative: not breastfeeding"),
    pytest.param([C1, C2], {"breastfeeding": True}, CD4_OK, {}, [],
                 id="CLINICAL.md 2.3 course.during_breastfeeding negative: given courses"),
    # course.cd4_not_recovered: the latest CD4 after L_{k-1} and on or before F_k is > 200 (site setting)
    pytest.param([C1, planned(C2)], {}, [], {}, [("course.cd4_not_recovered", 2)],
                 id="CLINICAL.md 2.3 course.cd4_not_recovered: no CD4 at all"),
    pytest.param([C1, planned(C2)], {}, [("cd4", 200, "2026-06-01")], {}, [("course.cd4_not_recovered", 2)],
                 id="CLINICAL.md 2.3 course.cd4_not_recovered: CD4 exactly 200 is not above 200"),
    pytest.param([C1, planned(C2)], {}, [("cd4", 201, "2026-06-01")], {}, [],
                 id="CLINICAL.md 2.3 course.cd4_not_recovered negative: CD4 201"),
    pytest.param([C1, planned(C2)], {}, [("cd4", 250, "2026-06-01"), ("cd4", 150, "2026-12-01")], {},
                 [("course.cd4_not_recovered", 2)],
                 id="CLINICAL.md 2.3 course.cd4_not_recovered: the latest result counts, and it fell"),
    pytest.param([C1, planned(C2)], {}, [("cd4", 150, "2026-06-01"), ("cd4", 250, "2026-12-01")], {}, [],
                 id="CLINICAL.md 2.3 course.cd4_not_recovered negative: the latest result is above 200"),
    pytest.param([C1, planned(C2)], {}, [("cd4", 250, "2026-01-09")], {}, [("course.cd4_not_recovered", 2)],
                 id="CLINICAL.md 2.3 course.cd4_not_recovered: a CD4 taken on L_1 is not after it"),
    pytest.param([C1, planned(C2)], {}, [("cd4", 250, "2027-01-11")], {}, [],
                 id="CLINICAL.md 2.3 course.cd4_not_recovered negative: a CD4 taken on F_2 counts"),
    pytest.param([C1, planned(C2)], {}, [("cd4", 250, "2027-01-12")], {}, [("course.cd4_not_recovered", 2)],
                 id="CLINICAL.md 2.3 course.cd4_not_recovered: a CD4 after F_2 does not count"),
    pytest.param([C1, planned(C2)], {}, [], {"cd4_before_next_course": False}, [],
                 id="CLINICAL.md 2.3 course.cd4_not_recovered negative: site setting false"),
    pytest.param([planned(C1)], {}, [], {}, [],
                 id="CLINICAL.md 2.3 course.cd4_not_recovered negative: course 1"),
    pytest.param([C1, C2], {}, [], {}, [],
                 id="CLINICAL.md 2.3 course.cd4_not_recovered negative: given course 2"),
    # several at once: in course order, then the order of CLINICAL.md 2.3
    pytest.param([C1, planned(["2026-12-01", "2026-12-02", "2026-12-03"])],
                 {**FEMALE, "breastfeeding": True, "pregnancies": [{"reported_on": "2026-11-01"}]}, [], {},
                 [("course.too_soon", 2), ("course.during_pregnancy", 2), ("course.during_breastfeeding", 2),
                  ("course.cd4_not_recovered", 2)], id="CLINICAL.md 2.3: all four on one course"),
]


@pytest.mark.parametrize(("courses", "patient", "labs", "settings", "expected"), WARNINGS)
def test_warnings_on_planned_courses(courses, patient, labs, settings, expected):
    assert warnings(run(courses, patient=patient, labs=labs, settings=settings)) == expected


def test_warnings_json_shape_and_texts():
    """API.md 1 (v2): ``warnings`` is a list of {code, course} (plus the text), empty when none."""
    out = run([C1, planned(["2026-12-01", "2026-12-02", "2026-12-03"])], patient={"language": "de"})
    assert out["warnings"][0] == {"code": "course.too_soon", "course": 2,
                                  "text": CONTENT.text("de", "warnings", "course.too_soon", "text")}
    assert run([C1])["warnings"] == []
    assert run([])["warnings"] == []


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_warning_has_a_short_text_in_every_language(language):
    for rule in CONTENT.warnings:
        text = CONTENT.text(language, "warnings", rule.code, "text")
        assert text.strip() and len(text) <= 90, (language, rule.code)


def test_warnings_raise_no_flag():
    """CLINICAL.md 2.3: warnings raise no flag by themselves."""
    out = run([C1, planned(["2026-12-01", "2026-12-02", "2026-12-03"])], patient={"breastfeeding": True})
    assert out["warnings"] and out["flags"] == []


# --- CLINICAL.md 5: reminders (v2 rows) -------------------------------------------------------


def reminders(courses, patient=None, settings=None, since="2025-09-01", until="2031-12-31"):
    d = doc(courses, patient, None, settings)
    p = parse_patient(d.get("patient", {}), CONTENT)
    resolved = resolve_settings(d.get("settings", {}), CONTENT)
    result = timeline(p, parse_courses(d["courses"]), parse_labs([], CONTENT), resolved, CONTENT)
    start = datetime.combine(date.fromisoformat(since), time(), tzinfo=timezone.utc)
    end = datetime.combine(date.fromisoformat(until), time(), tzinfo=timezone.utc)
    return plan(result.items, "UTC", resolved, CONTENT, start, end)


def instants(planned_reminders, code) -> list[str]:
    return [r.at.strftime("%Y-%m-%d %H:%M") for r in planned_reminders if code in r.codes]


@pytest.mark.parametrize(
    ("drug", "times"),
    [
        pytest.param("aciclovir", ["08:00", "20:00"], id="CLINICAL.md 5 med.aciclovir (v2): aciclovir 08:00 and 20:00"),
        pytest.param("valaciclovir", ["08:00"], id="CLINICAL.md 5 med.aciclovir (v2): valaciclovir once, 08:00"),
    ],
)
def test_herpes_prophylaxis_dose_times(drug, times):
    got = instants(reminders([C1], settings={"herpes_prophylaxis_drug": drug}), "med.aciclovir")
    # Every day from F_1 (5 Jan) to L_1 + 1 month (9 Feb 2026), at the drug's times.
    days = [(date(2026, 1, 5) + timedelta(days=n)).isoformat() for n in range(36)]
    assert got == [f"{day} {at}" for day in days for at in times]


def test_antihistamine_twice_daily():
    """CLINICAL.md 5 med.antihistamine (v2): 08:00 and 20:00 from L_k + 1 to L_k + 7 days."""
    got = instants(reminders([C1]), "med.antihistamine")
    days = [f"2026-01-{d:02d}" for d in range(10, 17)]
    assert got == [f"{day} {at}" for day in days for at in ("08:00", "20:00")]


def test_monitoring_end_reminders():
    """CLINICAL.md 5 appt.monitoring_end (v2): 7 days before and on the day (L* = 9 Jan 2026 + 48 months)."""
    assert instants(reminders([C1]), "appt.monitoring_end") == ["2030-01-02 09:00", "2030-01-09 09:00"]


def test_pre_course_workup_reminders():
    """CLINICAL.md 5 appt.pre_course_workup (v2): when the window starts (F_k - 90 days)
    and at F_k - 56 days. F_1 = 5 Jan 2026: 7 Oct 2025 and 10 Nov 2025."""
    assert instants(reminders([C1]), "appt.pre_course_workup") == ["2025-10-07 09:00", "2025-11-10 09:00"]


def test_pre_course_workup_reminders_for_a_planned_course():
    # F_2 = 11 Jan 2027: - 90 days = 13 Oct 2026; - 56 days = 16 Nov 2026.
    got = instants(reminders([C1, planned(C2)], since="2026-06-01"), "appt.pre_course_workup")
    assert got == ["2026-10-13 09:00", "2026-11-16 09:00"]


def test_pregnancy_test_reminders():
    """CLINICAL.md 5 lab.pregnancy_test (v2): 7 days before the course and on its first day."""
    got = instants(reminders([C1, planned(C2)], patient={"childbearing_potential": True}), "lab.pregnancy_test")
    assert got == ["2025-12-29 09:00", "2026-01-05 09:00", "2027-01-04 09:00", "2027-01-11 09:00"]


def test_no_pregnancy_test_reminders_without_childbearing_potential():
    assert instants(reminders([C1], patient={"sex": "female"}), "lab.pregnancy_test") == []


def test_safety_reminders_follow_each_block():
    """CLINICAL.md 5 safety.post_infusion, 2.1 (v2: per block): each morning of each block's window."""
    got = instants(reminders([["2026-03-02", "2026-03-03", "2026-03-23"]]), "safety.post_infusion")
    assert got == [f"2026-03-{d:02d} 09:00" for d in (2, 3, 4, 5, 6, 23, 24, 25, 26)]


# --- the command line prints warnings (API.md 1) -----------------------------------------------


def test_cli_prints_warnings(tmp_path):
    import subprocess
    import sys

    path = tmp_path / "input.json"
    path.write_text(json.dumps(doc([C1, planned(["2026-12-01", "2026-12-02", "2026-12-03"])],
                                   labs=[("cd4", 300, "2026-06-01")])))
    done = subprocess.run([sys.executable, "-m", "server.cli", "timeline", str(path)],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert [(w["code"], w["course"]) for w in json.loads(done.stdout)["warnings"]] == [("course.too_soon", 2)]


def test_the_planned_course_example():
    """examples/planned_course.json: an interrupted course 1 (two blocks), a planned course 2
    less than 12 months after it with a CD4 of 180 the day before the work-up ends."""
    from pathlib import Path

    example = json.loads((Path(__file__).resolve().parents[2] / "examples" / "planned_course.json").read_text())
    out = timeline_document(example, CONTENT)
    # CLINICAL.md 2.3: L_1 = 21 Jan 2026 + 12 months = 21 Jan 2027 > F_2; the latest CD4 is 180
    assert warnings(out) == [("course.too_soon", 2), ("course.cd4_not_recovered", 2)]
    # CLINICAL.md 2.1 (v2: per block): course 1 has two blocks
    assert windows(out, "diet.bland")[:2] == [("2026-01-05", "2026-01-07"), ("2026-01-20", "2026-01-21")]
    # CLINICAL.md 2.1 diet.listeria (v2): course 2 (the latest) ends on the patient's date,
    # 30 Apr 2027, later than L_2 + 1 month (16 Jan 2027)
    assert windows(out, "diet.listeria")[1] == ("2026-11-30", "2027-04-30")
    # sex other with childbearing potential: contraception and the pregnancy test; no cervical screening
    assert windows(out, "contraception") and dues(out, "lab.pregnancy_test") == ["2026-01-05", "2026-12-14"]
    assert dues(out, "screen.hpv") == []
