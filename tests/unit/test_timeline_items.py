"""Table-driven tests of the timeline items of CLINICAL.md sections 1, 1a, 2 and 4.

Every expected date below was worked out by hand from the rule it cites (month
arithmetic of CLINICAL.md section 1: computed from the anchor each time, clamped
to the end of a shorter month); none is computed with the engine's own helpers.
Inputs go through the engine's JSON document (API.md section 1), so the tests
also pin the JSON shape: windows have "start"/"end", one-day items "due", the
weekly blood counts "cadence": "weekly".
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from server.engine.content.loading import default_content
from server.engine.documents import timeline_document

CONTENT = default_content()

ALL_CODES = {
    "diet.listeria", "diet.bland", "med.aciclovir", "med.antihistamine",
    "safety.post_infusion", "appt.post_course_review", "appt.pre_course_workup",
    "contraception", "breastfeeding.pause", "vaccine.live_avoid",
    "lab.cbc", "lab.creatinine", "lab.urinalysis", "lab.lft", "lab.tsh",
    "checklist.monthly", "screen.hpv", "screen.skin", "imaging.mri", "vaccine.flu",
    "lab.pregnancy_test", "appt.monitoring_end",  # (v2)
}


# --- helpers ----------------------------------------------------------------------


def consecutive(first: str, count: int) -> list[str]:
    """``count`` infusion days in a row from ``first`` (input building only)."""
    start = date.fromisoformat(first)
    return [(start + timedelta(days=i)).isoformat() for i in range(count)]


#: course 1: 5 days, F_1 = 2026-01-05, L_1 = 2026-01-09
C1 = consecutive("2026-01-05", 5)
#: course 2: 3 days, F_2 = 2027-01-11, L_2 = 2027-01-13
C2 = consecutive("2027-01-11", 3)
#: course 3: 3 days, F_3 = 2028-03-06, L_3 = 2028-03-08
C3 = consecutive("2028-03-06", 3)

EVERYONE = {"sex": "female", "childbearing_potential": True, "breastfeeding": True}


def run(courses, patient=None, labs=None, settings=None) -> dict:
    """The timeline JSON of API.md section 1 for these inputs.

    ``courses``: each a list of infusion dates or a full course object.
    ``labs``: (analyte, value, taken_on) tuples or full lab objects.
    """
    doc = {"courses": [c if isinstance(c, dict) else {"infusions": c} for c in courses]}
    if patient is not None:
        doc["patient"] = patient
    if labs is not None:
        doc["labs"] = [
            lab if isinstance(lab, dict)
            else {"analyte": lab[0], "value": lab[1], "taken_on": lab[2]}
            for lab in labs
        ]
    if settings is not None:
        doc["settings"] = settings
    return timeline_document(doc, CONTENT)


def of(out: dict, code: str) -> list[dict]:
    return [item for item in out["items"] if item["code"] == code]


def windows(out: dict, code: str) -> list[tuple[str, str | None]]:
    return [(item["start"], item["end"]) for item in of(out, code)]


def dues(out: dict, code: str) -> list[str]:
    return [item["due"] for item in of(out, code)]


def cbc_in(out: dict, year: str) -> list[str]:
    """lab.cbc dues in ``year`` as "MM-DD m" (monthly) or "MM-DD w" (weekly)."""
    return [
        f"{item['due'][5:]} {'w' if item.get('cadence') == 'weekly' else 'm'}"
        for item in of(out, "lab.cbc")
        if item["due"].startswith(year)
    ]


def fifth_of_month(months: range) -> list[str]:
    """F_1 = 2026-01-05 plus n months, n in ``months`` (the 5th never clamps)."""
    return [f"{2026 + n // 12}-{n % 12 + 1:02d}-05" for n in months]


# --- 2.1 around each course: every code, two courses ----------------------------------

# Courses C1 (2026-01-05..09) and C2 (2027-01-11..13); patient female, with
# childbearing potential and breastfeeding so that every 2.1 item applies.
COURSE_WINDOWS = [
    pytest.param("diet.listeria",
                 [("2025-12-22", "2026-02-09"), ("2026-12-28", "2027-02-13")],
                 id="CLINICAL 2.1 diet.listeria: F_k - 14 days to L_k + 1 month"),
    pytest.param("diet.bland",
                 [("2026-01-05", "2026-01-09"), ("2027-01-11", "2027-01-13")],
                 id="CLINICAL 2.1 diet.bland: F_k to L_k"),
    pytest.param("med.aciclovir",
                 [("2026-01-05", "2026-02-09"), ("2027-01-11", "2027-02-13")],
                 id="CLINICAL.md 2.1 med.aciclovir (v2): F_k to L_k + 1 month (default)"),
    pytest.param("med.antihistamine",
                 [("2026-01-10", "2026-01-16"), ("2027-01-14", "2027-01-20")],
                 id="CLINICAL 2.1 med.antihistamine: L_k + 1 day to L_k + 7 days"),
    pytest.param("safety.post_infusion",
                 [("2026-01-05", "2026-01-12"), ("2027-01-11", "2027-01-16")],
                 id="CLINICAL 2.1 safety.post_infusion: F_k to L_k + 3 days"),
    pytest.param("appt.pre_course_workup",
                 [("2025-10-07", "2026-01-04"), ("2026-10-13", "2027-01-10")],
                 id="CLINICAL.md 2.1 appt.pre_course_workup (v2): F_k - 90 days to F_k - 1 day"),
    pytest.param("contraception",
                 [("2026-01-05", "2026-05-09"), ("2027-01-11", "2027-05-13")],
                 id="CLINICAL 2.1 contraception: F_k to L_k + 4 months"),
    pytest.param("breastfeeding.pause",
                 [("2026-01-05", "2026-05-09"), ("2027-01-11", "2027-05-13")],
                 id="CLINICAL 2.1 breastfeeding.pause: F_k to L_k + 4 months"),
    pytest.param("vaccine.live_avoid",
                 [("2025-11-24", None), ("2026-11-30", None)],
                 id="CLINICAL.md 2.1 vaccine.live_avoid (v2): F_k - 42 days, open end without CD4"),
]


@pytest.mark.parametrize(("code", "expected"), COURSE_WINDOWS)
def test_course_window(code, expected):
    out = run([C1, C2], patient=EVERYONE)
    assert windows(out, code) == expected
    assert [item["course"] for item in of(out, code)] == [1, 2]


def test_post_course_review_is_due_l_k_plus_28_days():
    # CLINICAL 2.1 appt.post_course_review: L_k + 28 days (one-day item, "due").
    out = run([C1, C2], patient=EVERYONE)
    items = of(out, "appt.post_course_review")
    assert [(i["due"], i["course"]) for i in items] == [("2026-02-06", 1), ("2027-02-10", 2)]
    assert all("start" not in i and "end" not in i for i in items)


# --- who each item applies to -------------------------------------------------------

APPLIES_TO = [
    # CLINICAL.md 2.1 contraception (v2: who): childbearing potential, whatever the sex field says
    pytest.param("contraception", {"sex": "female", "childbearing_potential": True}, True,
                 id="contraception: female with childbearing potential"),
    pytest.param("contraception", {"sex": "female"}, False,
                 id="contraception: female without childbearing potential"),
    pytest.param("contraception", {"sex": "other", "childbearing_potential": True}, True,
                 id="CLINICAL.md 2.1 contraception (v2): sex other with childbearing potential"),
    pytest.param("contraception", {"sex": "male", "childbearing_potential": True}, True,
                 id="CLINICAL.md 2.1 contraception (v2): sex male with childbearing potential"),
    pytest.param("contraception", {"sex": "other"}, False, id="contraception: sex other, no potential"),
    pytest.param("contraception", {"sex": "male"}, False, id="contraception: male"),
    # CLINICAL.md 2.1 lab.pregnancy_test (v2): childbearing potential
    pytest.param("lab.pregnancy_test", {"sex": "female", "childbearing_potential": True}, True,
                 id="CLINICAL.md 2.1 lab.pregnancy_test (v2): female with childbearing potential"),
    pytest.param("lab.pregnancy_test", {"sex": "other", "childbearing_potential": True}, True,
                 id="CLINICAL.md 2.1 lab.pregnancy_test (v2): sex other with childbearing potential"),
    pytest.param("lab.pregnancy_test", {"sex": "female"}, False,
                 id="CLINICAL.md 2.1 lab.pregnancy_test (v2): female without childbearing potential"),
    pytest.param("lab.pregnancy_test", {"sex": "male"}, False, id="lab.pregnancy_test: male"),
    # CLINICAL 2.1 breastfeeding.pause: breastfeeding
    pytest.param("breastfeeding.pause", {"sex": "female", "breastfeeding": True}, True,
                 id="breastfeeding.pause: breastfeeding"),
    pytest.param("breastfeeding.pause", {"sex": "other", "breastfeeding": True}, True,
                 id="breastfeeding.pause: sex other, breastfeeding"),
    pytest.param("breastfeeding.pause", {"sex": "female", "childbearing_potential": True},
                 False, id="breastfeeding.pause: not breastfeeding"),
    # CLINICAL.md 2.2 screen.hpv (v2: who): the cervical screening attribute, by default sex female
    pytest.param("screen.hpv", {"sex": "female"}, True, id="screen.hpv: female (default true)"),
    pytest.param("screen.hpv", {"sex": "male"}, False, id="screen.hpv: male (default false)"),
    pytest.param("screen.hpv", {"sex": "other"}, False, id="screen.hpv: other (default false)"),
    pytest.param("screen.hpv", {}, False, id="screen.hpv: sex left out (other)"),
    pytest.param("screen.hpv", {"sex": "female", "cervical_screening": False}, False,
                 id="CLINICAL.md 2.2 screen.hpv (v2): female, cervical screening false"),
    pytest.param("screen.hpv", {"sex": "other", "cervical_screening": True}, True,
                 id="CLINICAL.md 2.2 screen.hpv (v2): sex other, cervical screening true"),
    pytest.param("screen.hpv", {"sex": "male", "cervical_screening": True}, True,
                 id="CLINICAL.md 2.2 screen.hpv (v2): sex male, cervical screening true"),
    pytest.param("screen.hpv", {"sex": "female", "cervical_screening": None}, True,
                 id="CLINICAL.md 2.2 screen.hpv (v2): female, cervical screening null is the default"),
]


@pytest.mark.parametrize(("code", "patient", "applies"), APPLIES_TO)
def test_who_an_item_applies_to(code, patient, applies):
    out = run([C1], patient=patient)
    assert bool(of(out, code)) is applies


@pytest.mark.parametrize(
    ("patient", "expected"),
    [
        pytest.param(EVERYONE, ALL_CODES, id="female, childbearing, breastfeeding: all 22 codes"),
        pytest.param({"sex": "male"},
                     ALL_CODES - {"contraception", "breastfeeding.pause", "screen.hpv", "lab.pregnancy_test"},
                     id="male: everything but contraception, breastfeeding, hpv, pregnancy test"),
    ],
)
def test_codes_produced(patient, expected):
    assert {item["code"] for item in run([C1], patient=patient)["items"]} == expected


# --- month ends and 29 February (CLINICAL 1, month arithmetic) --------------------------

MONTH_END_COURSE_ITEMS = [
    pytest.param(consecutive("2027-01-27", 5), "diet.listeria", ("2027-01-13", "2027-02-28"),
                 id="listeria: L 31 Jan 2027 + 1 month = 28 Feb"),
    pytest.param(consecutive("2028-01-27", 5), "diet.listeria", ("2028-01-13", "2028-02-29"),
                 id="listeria: L 31 Jan 2028 (leap) + 1 month = 29 Feb"),
    pytest.param(consecutive("2028-02-25", 5), "diet.listeria", ("2028-02-11", "2028-03-29"),
                 id="listeria: L 29 Feb 2028 + 1 month = 29 Mar"),
    pytest.param(consecutive("2027-01-29", 3), "med.aciclovir", ("2027-01-29", "2027-02-28"),
                 id="aciclovir (v2): L 31 Jan 2027 + 1 month = 28 Feb"),
    pytest.param(consecutive("2028-01-29", 3), "med.aciclovir", ("2028-01-29", "2028-02-29"),
                 id="aciclovir (v2): L 31 Jan 2028 + 1 month = 29 Feb"),
    pytest.param(consecutive("2027-01-27", 5), "contraception", ("2027-01-27", "2027-05-31"),
                 id="contraception: L 31 Jan + 4 months = 31 May"),
    pytest.param(consecutive("2026-10-27", 5), "contraception", ("2026-10-27", "2027-02-28"),
                 id="contraception: L 31 Oct 2026 + 4 months = 28 Feb 2027"),
    pytest.param(consecutive("2027-10-27", 5), "breastfeeding.pause", ("2027-10-27", "2028-02-29"),
                 id="breastfeeding.pause: L 31 Oct 2027 + 4 months = 29 Feb 2028"),
    pytest.param(consecutive("2027-03-01", 3), "appt.pre_course_workup",
                 ("2026-12-01", "2027-02-28"),
                 id="workup (v2): F 1 Mar 2027 - 90 days = 1 Dec 2026, -1 day = 28 Feb"),
    pytest.param(consecutive("2028-03-01", 3), "appt.pre_course_workup",
                 ("2027-12-02", "2028-02-29"),
                 id="workup (v2): F 1 Mar 2028 (leap) - 90 days = 2 Dec 2027, -1 day = 29 Feb"),
    pytest.param(consecutive("2027-02-23", 3), "med.antihistamine", ("2027-02-26", "2027-03-04"),
                 id="antihistamine: L 25 Feb 2027, +1..+7 days"),
    pytest.param(consecutive("2028-02-23", 3), "med.antihistamine", ("2028-02-26", "2028-03-03"),
                 id="antihistamine: L 25 Feb 2028 (leap), +1..+7 days"),
    pytest.param(consecutive("2027-02-25", 3), "safety.post_infusion", ("2027-02-25", "2027-03-02"),
                 id="safety: L 27 Feb 2027 + 3 days = 2 Mar"),
    pytest.param(consecutive("2028-02-25", 3), "safety.post_infusion", ("2028-02-25", "2028-03-01"),
                 id="safety: L 27 Feb 2028 + 3 days = 1 Mar"),
]


@pytest.mark.parametrize(("infusions", "code", "expected"), MONTH_END_COURSE_ITEMS)
def test_course_window_at_month_end(infusions, code, expected):
    assert windows(run([infusions], patient=EVERYONE), code) == [expected]


@pytest.mark.parametrize(
    ("infusions", "expected"),
    [
        pytest.param(consecutive("2027-01-30", 3), "2027-03-01",
                     id="review: L 1 Feb 2027 + 28 days = 1 Mar"),
        pytest.param(consecutive("2028-01-30", 3), "2028-02-29",
                     id="review: L 1 Feb 2028 + 28 days = 29 Feb"),
    ],
)
def test_post_course_review_at_month_end(infusions, expected):
    # CLINICAL 2.1 appt.post_course_review: L_k + 28 days
    assert dues(run([infusions]), "appt.post_course_review") == [expected]


MONTH_END_GRID = [
    pytest.param(
        consecutive("2027-01-31", 5), "checklist.monthly",
        ["2027-02-28", "2027-03-31", "2027-04-30", "2027-05-31", "2027-06-30", "2027-07-31",
         "2027-08-31", "2027-09-30", "2027-10-31", "2027-11-30", "2027-12-31", "2028-01-31",
         "2028-02-29", "2028-03-31"],
        id="F_1 31 Jan: monthly dues 28 Feb, 31 Mar, 30 Apr ... 29 Feb 2028, 31 Mar 2028",
    ),
    pytest.param(
        consecutive("2028-02-29", 5), "lab.creatinine",
        ["2028-03-29", "2028-04-29", "2028-05-29", "2028-06-29", "2028-07-29", "2028-08-29",
         "2028-09-29", "2028-10-29", "2028-11-29", "2028-12-29", "2029-01-29", "2029-02-28",
         "2029-03-29", "2029-04-29"],
        id="F_1 29 Feb 2028: monthly dues 29th, 28 Feb 2029, then 29 Mar again",
    ),
    pytest.param(
        consecutive("2028-02-29", 5), "screen.hpv",
        ["2029-02-28", "2030-02-28", "2031-02-28", "2032-02-29"],
        id="F_1 29 Feb 2028: yearly dues 28 Feb x3, 29 Feb 2032",
    ),
    pytest.param(
        consecutive("2027-01-31", 5), "lab.tsh",
        ["2027-04-30", "2027-07-31", "2027-10-31", "2028-01-31", "2028-04-30"],
        id="F_1 31 Jan: quarterly TSH 30 Apr, 31 Jul, 31 Oct, 31 Jan, 30 Apr",
    ),
]


@pytest.mark.parametrize(("infusions", "code", "expected_start"), MONTH_END_GRID)
def test_monthly_grid_at_month_end(infusions, code, expected_start):
    # CLINICAL 1: "n months after date D" is computed from D each time, clamped.
    out = run([infusions], patient={"sex": "female"})
    assert dues(out, code)[: len(expected_start)] == expected_start


@pytest.mark.parametrize(
    ("infusions", "count", "last"),
    [
        # L* = 2027-02-04 -> ends 2031-02-04: n = 48 is 2031-01-31, n = 49 (28 Feb) is past it
        pytest.param(consecutive("2027-01-31", 5), 48, "2031-01-31", id="F_1 31 Jan 2027"),
        # L* = 2028-03-04 -> ends 2032-03-04: n = 48 is 2032-02-29
        pytest.param(consecutive("2028-02-29", 5), 48, "2032-02-29", id="F_1 29 Feb 2028"),
    ],
)
def test_monthly_grid_length_at_month_end(infusions, count, last):
    items = dues(run([infusions]), "lab.lft")
    assert (len(items), items[-1]) == (count, last)


# --- interrupted and unordered courses (CLINICAL 1: a course is its infusion dates) --------

# 3 infusions 2-4 Mar 2026, then 2 more three weeks later (23-24 Mar): F = 2 Mar, L = 24 Mar.
INTERRUPTED = ["2026-03-02", "2026-03-03", "2026-03-04", "2026-03-23", "2026-03-24"]

INTERRUPTED_ITEMS = [
    pytest.param("diet.listeria", [("2026-02-16", "2026-04-24")], id="listeria: F-14d, L+1 month"),
    pytest.param("diet.bland", [("2026-03-02", "2026-03-04"), ("2026-03-23", "2026-03-24")],
                 id="CLINICAL.md 2.1 diet.bland (v2: per block): each block B_start to B_end"),
    pytest.param("med.aciclovir", [("2026-03-02", "2026-04-24")],
                 id="CLINICAL.md 2.1 med.aciclovir (v2): interrupted course, F to L + 1 month"),
    pytest.param("med.antihistamine", [("2026-03-25", "2026-03-31")], id="antihistamine: L+1..L+7"),
    pytest.param("safety.post_infusion", [("2026-03-02", "2026-03-07"), ("2026-03-23", "2026-03-27")],
                 id="CLINICAL.md 2.1 safety.post_infusion (v2: per block): B_start to B_end + 3 days"),
    pytest.param("appt.pre_course_workup", [("2025-12-02", "2026-03-01")],
                 id="CLINICAL.md 2.1 appt.pre_course_workup (v2): F-90 to F-1"),
    pytest.param("contraception", [("2026-03-02", "2026-07-24")], id="contraception: F to L+4m"),
    pytest.param("vaccine.live_avoid", [("2026-01-19", None)],
                 id="CLINICAL.md 2.1 vaccine.live_avoid (v2): from F - 42 days"),
]


@pytest.mark.parametrize(("code", "expected"), INTERRUPTED_ITEMS)
def test_interrupted_course_uses_first_and_last_infusion(code, expected):
    out = run([INTERRUPTED], patient=EVERYONE)
    assert windows(out, code) == expected
    assert {item["course"] for item in of(out, code)} == {1}


def test_interrupted_course_review_grid_and_monitoring_end():
    out = run([INTERRUPTED])
    assert dues(out, "appt.post_course_review") == ["2026-04-21"]  # 24 Mar + 28 days
    assert dues(out, "checklist.monthly")[:2] == ["2026-04-02", "2026-05-02"]  # F_1 + n months
    assert out["monitoring_ends"] == "2030-03-24"  # L* + 48 months


def test_infusions_given_out_of_order_are_sorted():
    shuffled = ["2026-01-09", "2026-01-05", "2026-01-07", "2026-01-06", "2026-01-08"]
    assert run([shuffled], patient=EVERYONE) == run([C1], patient=EVERYONE)
    out = run([["2026-03-24", "2026-03-02", "2026-03-23", "2026-03-04", "2026-03-03"]])
    assert windows(out, "diet.bland") == [("2026-03-02", "2026-03-04"), ("2026-03-23", "2026-03-24")]


def test_courses_given_out_of_order_are_numbered_by_date():
    out = run([C2, C1])
    assert [(i["start"], i["course"]) for i in of(out, "diet.bland")] == [
        ("2026-01-05", 1), ("2027-01-11", 2),
    ]
    assert out == run([C1, C2])


# --- 2.2 long-term monitoring: every code, one course ------------------------------------

# One course C1: F_1 = 2026-01-05, L* = 2026-01-09, monitoring ends 2030-01-09.
# Grid: F_1 + n months for n = 1..48 (n = 48 is 2030-01-05; n = 49, 2030-02-05, is past it).
MONITORING = [
    pytest.param("lab.cbc", range(1, 49), id="CLINICAL 2.2 lab.cbc: monthly n=1..48"),
    pytest.param("lab.creatinine", range(1, 49), id="CLINICAL 2.2 lab.creatinine: monthly"),
    pytest.param("lab.urinalysis", range(1, 49), id="CLINICAL 2.2 lab.urinalysis: monthly"),
    pytest.param("lab.lft", range(1, 49), id="CLINICAL 2.2 lab.lft: monthly"),
    pytest.param("checklist.monthly", range(1, 49), id="CLINICAL 2.2 checklist.monthly: monthly"),
    pytest.param("lab.tsh", range(3, 49, 3), id="CLINICAL 2.2 lab.tsh: n=3,6,...,48"),
    pytest.param("screen.hpv", range(12, 49, 12), id="CLINICAL 2.2 screen.hpv: n=12,24,36,48"),
    pytest.param("screen.skin", range(12, 49, 12), id="CLINICAL 2.2 screen.skin: n=12,24,36,48"),
    pytest.param("imaging.mri", range(12, 49, 12), id="CLINICAL 2.2 imaging.mri: n=12,24,36,48"),
]


@pytest.mark.parametrize(("code", "months"), MONITORING)
def test_monitoring_series(code, months):
    out = run([C1], patient={"sex": "female"})
    items = of(out, code)
    assert [i["due"] for i in items] == fifth_of_month(months)
    assert [i["month"] for i in items] == list(months)
    assert all("cadence" not in i for i in items)


def test_yearly_dues_spelled_out():
    # CLINICAL 2.2 screen.*/imaging.mri: every 12 months from F_1 = 2026-01-05
    out = run([C1], patient={"sex": "female"})
    for code in ("screen.hpv", "screen.skin", "imaging.mri"):
        assert dues(out, code) == ["2027-01-05", "2028-01-05", "2029-01-05", "2030-01-05"]


# --- a new course extends every series (CLINICAL 2.2, L* + 48 months) ---------------------

# Two courses: L* = 2027-01-13, ends 2031-01-13: n = 60 (2031-01-05) is the last month.
# A third (planned) course: L* = 2028-03-08, ends 2032-03-08: n = 74 (2032-03-05) is the last.
EXTENSION = [
    pytest.param("checklist.monthly", (60, "2031-01-05"), (74, "2032-03-05"),
                 id="checklist.monthly"),
    pytest.param("lab.cbc", (60, "2031-01-05"), (74, "2032-03-05"), id="lab.cbc"),
    pytest.param("lab.creatinine", (60, "2031-01-05"), (74, "2032-03-05"), id="lab.creatinine"),
    pytest.param("lab.urinalysis", (60, "2031-01-05"), (74, "2032-03-05"), id="lab.urinalysis"),
    pytest.param("lab.lft", (60, "2031-01-05"), (74, "2032-03-05"), id="lab.lft"),
    pytest.param("lab.tsh", (20, "2031-01-05"), (24, "2032-01-05"), id="lab.tsh n=72 last"),
    pytest.param("screen.hpv", (5, "2031-01-05"), (6, "2032-01-05"), id="screen.hpv"),
    pytest.param("screen.skin", (5, "2031-01-05"), (6, "2032-01-05"), id="screen.skin"),
    pytest.param("imaging.mri", (5, "2031-01-05"), (6, "2032-01-05"), id="imaging.mri"),
]


@pytest.mark.parametrize(("code", "two_courses", "three_courses"), EXTENSION)
def test_third_course_extends_series(code, two_courses, three_courses):
    female = {"sex": "female"}
    before = dues(run([C1, C2], patient=female), code)
    after = dues(run([C1, C2, {"infusions": C3, "status": "planned"}], patient=female), code)
    assert (len(before), before[-1]) == two_courses
    assert (len(after), after[-1]) == three_courses
    assert after[: len(before)] == before  # the earlier dues stay as they were


def test_third_course_extends_flu_and_monitoring_end():
    two = run([C1, C2])
    three = run([C1, C2, {"infusions": C3, "status": "planned"}])
    assert (two["monitoring_ends"], three["monitoring_ends"]) == ("2031-01-13", "2032-03-08")
    # 2031: 1 Oct 2031 is after 2031-01-13 -> none with two courses; 2032: after 2032-03-08
    assert [s for s, _ in windows(two, "vaccine.flu")] == [
        "2026-10-01", "2027-10-01", "2028-10-01", "2029-10-01", "2030-10-01"]
    assert [s for s, _ in windows(three, "vaccine.flu")] == [
        "2026-10-01", "2027-10-01", "2028-10-01", "2029-10-01", "2030-10-01", "2031-10-01"]
    assert [i["course"] for i in of(three, "diet.listeria")] == [1, 2, 3]


@pytest.mark.parametrize(
    ("courses", "expected"),
    [
        pytest.param([C1], "2030-01-09", id="one course: L_1 2026-01-09 + 48 months"),
        pytest.param([C1, C2], "2031-01-13", id="two courses: L_2 + 48 months"),
        pytest.param([C1, C2, {"infusions": C3, "status": "planned"}], "2032-03-08",
                     id="planned third course moves L*"),
        pytest.param([consecutive("2028-02-25", 5)], "2032-02-29",
                     id="L* 29 Feb 2028 + 48 months = 29 Feb 2032"),
        pytest.param([INTERRUPTED], "2030-03-24", id="interrupted course: its last infusion"),
        pytest.param([], None, id="no course: null"),
    ],
)
def test_monitoring_ends(courses, expected):
    assert run(courses)["monitoring_ends"] == expected


def test_no_course_no_items():
    out = run([], patient=EVERYONE, labs=[("platelets", 90, "2026-03-01"),
                                          ("cd4", 300, "2026-03-01")])
    assert out["items"] == []
    assert out["monitoring_ends"] is None


# --- pregnancy: monthly TSH (CLINICAL 2.2 lab.tsh) --------------------------------------

# C1: grid dues on the 5th; quarterly TSH on 2027-01-05 (n=12), 04-05, 07-05, 10-05, 2028-01-05...
PREGNANCY_TSH = [
    pytest.param(
        [], ["2027-01-05", "2027-04-05", "2027-07-05", "2027-10-05", "2028-01-05",
             "2028-04-05", "2028-07-05"],
        id="not pregnant: quarterly only",
    ),
    pytest.param(
        [{"reported_on": "2027-06-01", "ended_on": "2027-10-20"}],
        ["2027-01-05", "2027-04-05", "2027-06-05", "2027-07-05", "2027-08-05", "2027-09-05",
         "2027-10-05", "2028-01-05", "2028-04-05", "2028-07-05"],
        id="reported 1 Jun, ended 20 Oct: monthly Jun-Oct, quarterly outside",
    ),
    pytest.param(
        [{"reported_on": "2027-06-05", "ended_on": "2027-08-05"}],
        ["2027-01-05", "2027-04-05", "2027-06-05", "2027-07-05", "2027-08-05", "2027-10-05",
         "2028-01-05", "2028-04-05", "2028-07-05"],
        id="reported and ended on due dates: both ends inclusive, no 5 Sep",
    ),
    pytest.param(
        [{"reported_on": "2027-06-06", "ended_on": "2027-08-04"}],
        ["2027-01-05", "2027-04-05", "2027-07-05", "2027-10-05", "2028-01-05",
         "2028-04-05", "2028-07-05"],
        id="reported day after a due, ended day before: no extra month",
    ),
    pytest.param(
        [{"reported_on": "2027-06-05", "ended_on": None}],
        ["2027-01-05", "2027-04-05", "2027-06-05", "2027-07-05", "2027-08-05", "2027-09-05",
         "2027-10-05", "2027-11-05", "2027-12-05", "2028-01-05", "2028-02-05", "2028-03-05",
         "2028-04-05", "2028-07-05"],
        id="open pregnancy reported 5 Jun: monthly to 5 Mar 2028 (9 months), then quarterly",
    ),
    pytest.param(
        [{"reported_on": "2027-06-10"}],
        ["2027-01-05", "2027-04-05", "2027-07-05", "2027-08-05", "2027-09-05", "2027-10-05",
         "2027-11-05", "2027-12-05", "2028-01-05", "2028-02-05", "2028-03-05", "2028-04-05",
         "2028-07-05"],
        id="open pregnancy reported 10 Jun: monthly 5 Jul to 5 Mar 2028 (before 10 Mar)",
    ),
    pytest.param(
        [{"reported_on": "2028-06-01", "ended_on": "2028-07-20"},
         {"reported_on": "2027-03-01", "ended_on": "2027-05-10"}],
        ["2027-01-05", "2027-03-05", "2027-04-05", "2027-05-05", "2027-07-05", "2027-10-05",
         "2028-01-05", "2028-04-05", "2028-06-05", "2028-07-05"],
        id="two pregnancies (listed out of order): monthly during each",
    ),
]


@pytest.mark.parametrize(("pregnancies", "expected"), PREGNANCY_TSH)
def test_pregnancy_tsh(pregnancies, expected):
    out = run([C1], patient={"sex": "female", "childbearing_potential": True,
                             "pregnancies": pregnancies})
    got = [d for d in dues(out, "lab.tsh") if "2027-01-01" <= d <= "2028-07-31"]
    assert got == expected


# --- weekly blood counts (CLINICAL 4 "Weekly blood counts") -------------------------------

# C1: monthly lab.cbc due on the 5th (2026-02-05 ... 2030-01-05); monitoring ends 2030-01-09.
# Expected lab.cbc dues of 2026 as "MM-DD m" (monthly) / "MM-DD w" (weekly).
MONTHLY_2026_FROM = {
    month: [f"{m:02d}-05 m" for m in range(month, 13)] for month in range(2, 13)
}

WEEKLY_SERIES = [
    pytest.param(
        {}, [("platelets", 140, "2026-03-05"), ("platelets", 200, "2026-04-20"),
             ("platelets", 210, "2026-05-05")],
        ["02-05 m", "03-05 m", "03-12 w", "03-19 w", "03-26 w", "04-02 w", "04-09 w", "04-16 w",
         "04-23 w", "04-30 w"] + MONTHLY_2026_FROM[6],
        id="T 5 Mar (140 < 150) to R 5 May: monthly on T kept, 5 Apr and 5 May (=R) dropped,"
           " weekly 7 May (after R) dropped",
    ),
    pytest.param(
        {}, [("platelets", 140, "2026-03-10"), ("platelets", 200, "2026-04-01"),
             ("platelets", 200, "2026-04-14")],
        ["02-05 m", "03-05 m", "03-17 w", "03-24 w", "03-31 w", "04-07 w", "04-14 w"]
        + MONTHLY_2026_FROM[5],
        id="R 14 Apr on a weekly date: that weekly date is kept",
    ),
    pytest.param(
        {}, [("platelets", 140, "2026-03-10"), ("platelets", 200, "2026-03-10"),
             ("platelets", 200, "2026-04-01"), ("platelets", 200, "2026-04-14")],
        ["02-05 m", "03-05 m", "03-17 w", "03-24 w", "03-31 w", "04-07 w", "04-14 w"]
        + MONTHLY_2026_FROM[5],
        id="a normal result on T's own day is not 'taken after T': R is 14 Apr, not 1 Apr",
    ),
    pytest.param(
        {"platelets": 300}, [("platelets", 210, "2026-03-10"), ("platelets", 250, "2026-04-01"),
                             ("platelets", 260, "2026-04-14")],
        ["02-05 m", "03-05 m", "03-17 w", "03-24 w", "03-31 w", "04-07 w", "04-14 w"]
        + MONTHLY_2026_FROM[5],
        id="T: 210 = exactly 70% of baseline 300 (falling) starts a series",
    ),
    pytest.param(
        {"platelets": 300}, [("platelets", 211, "2026-03-10")],
        ["02-05 m", "03-05 m"] + MONTHLY_2026_FROM[4],
        id="211 > 70% of baseline 300 and >= 150: no series",
    ),
    pytest.param(
        {}, [("platelets", 140, "2026-03-10"), ("platelets", 200, "2026-04-01"),
             ("platelets", 130, "2026-04-10"), ("platelets", 200, "2026-04-20"),
             ("platelets", 220, "2026-05-12")],
        ["02-05 m", "03-05 m", "03-17 w", "03-24 w", "03-31 w", "04-07 w", "04-14 w", "04-21 w",
         "04-28 w", "05-05 w", "05-12 w"] + MONTHLY_2026_FROM[6],
        id="low result between normals restarts the count; weekly stays anchored to T 10 Mar",
    ),
    pytest.param(
        {}, [("platelets", 140, "2026-03-10"), ("platelets", 200, "2026-04-01"),
             {"analyte": "neutrophils", "value": 0.5, "taken_on": "2026-04-05"},
             ("platelets", 200, "2026-04-14")],
        ["02-05 m", "03-05 m", "03-17 w", "03-24 w", "03-31 w", "04-07 w", "04-14 w"]
        + MONTHLY_2026_FROM[5],
        id="a non-platelet result between two normal platelet results does not break the pair",
    ),
    pytest.param(
        {}, [("platelets", 140, "2026-03-10"), ("platelets", 200, "2026-04-01"),
             ("platelets", 200, "2026-04-14"), ("platelets", 90, "2026-08-12"),
             ("platelets", 200, "2026-09-01"), ("platelets", 200, "2026-09-09")],
        ["02-05 m", "03-05 m", "03-17 w", "03-24 w", "03-31 w", "04-07 w", "04-14 w",
         "05-05 m", "06-05 m", "07-05 m", "08-05 m", "08-19 w", "08-26 w", "09-02 w", "09-09 w",
         "10-05 m", "11-05 m", "12-05 m"],
        id="a later trigger (90 on 12 Aug) starts a new series anchored to its own T",
    ),
    pytest.param(
        {}, [("platelets", 140, "2026-01-05"), ("platelets", 200, "2026-01-20"),
             ("platelets", 210, "2026-02-02")],
        ["01-12 w", "01-19 w", "01-26 w", "02-02 w"] + MONTHLY_2026_FROM[2],
        id="a result on F_1 starts a series; monthly 5 Feb is after R and kept",
    ),
    pytest.param(
        {}, [("platelets", 90, "2025-12-20"), ("platelets", 120, "2026-01-04")],
        MONTHLY_2026_FROM[2],
        id="engine decision: platelet results before the first infusion start no series",
    ),
]


@pytest.mark.parametrize(("baseline", "labs", "expected_2026"), WEEKLY_SERIES)
def test_weekly_blood_counts(baseline, labs, expected_2026):
    out = run([C1], patient={"baseline": baseline}, labs=labs)
    assert cbc_in(out, "2026") == expected_2026
    # every finished series leaves the monthly grid to run on to the end of monitoring
    later = of(out, "lab.cbc")[-37:]
    assert [i["due"] for i in later] == fifth_of_month(range(12, 49))
    assert all("cadence" not in i for i in later)


def test_weekly_series_that_never_stops_runs_to_monitoring_end():
    # T = 2026-03-10 (95: platelets.low); a normal result before T and only one after it.
    out = run([C1], labs=[("platelets", 200, "2026-03-01"), ("platelets", 95, "2026-03-10"),
                          ("platelets", 200, "2026-04-01")])
    cbc = of(out, "lab.cbc")
    monthly = [i["due"] for i in cbc if "cadence" not in i]
    weekly = [i["due"] for i in cbc if i.get("cadence") == "weekly"]
    assert monthly == ["2026-02-05", "2026-03-05"]  # no monthly lab.cbc after T
    # 2026-03-10 to 2030-01-09 is 1401 days: 200 weeks, the last on 2030-01-08
    assert len(weekly) == 200
    assert weekly[:3] == ["2026-03-17", "2026-03-24", "2026-03-31"]
    assert weekly[-1] == "2030-01-08"
    assert out["monitoring_ends"] == "2030-01-09"


def test_weekly_items_json_shape():
    out = run([C1], labs=[("platelets", 140, "2026-03-10")])
    weekly = [i for i in of(out, "lab.cbc") if i.get("cadence") == "weekly"]
    assert weekly[0] == {"code": "lab.cbc", "kind": "lab", "due": "2026-03-17",
                         "cadence": "weekly", "title": weekly[0]["title"]}
    # only lab.cbc goes weekly: the other monthly labs are untouched
    assert dues(out, "lab.creatinine") == fifth_of_month(range(1, 49))


def test_weekly_series_extended_by_a_new_course():
    # never stops: runs to L* + 48 months, which a second course moves to 2031-01-13
    out = run([C1, C2], labs=[("platelets", 95, "2026-03-10")])
    weekly = [i["due"] for i in of(out, "lab.cbc") if i.get("cadence") == "weekly"]
    # 2030-01-08 (T + 1400 days) + 52 weeks = 2031-01-07; + 1 week = 2031-01-14 > 2031-01-13
    assert (len(weekly), weekly[-1]) == (252, "2031-01-07")


# --- vaccine.flu (CLINICAL 2.2) --------------------------------------------------------

FLU = [
    pytest.param(
        [C1],
        [("2026-10-01", "2026-12-31"), ("2027-10-01", "2027-12-31"),
         ("2028-10-01", "2028-12-31"), ("2029-10-01", "2029-12-31")],
        id="L 9 Jan 2026: 1 Oct-31 Dec 2026..2029; 1 Oct 2030 after end 2030-01-09: none",
    ),
    pytest.param(
        [consecutive("2026-03-02", 5)],
        [("2026-10-01", "2026-12-31"), ("2027-10-01", "2027-12-31"),
         ("2028-10-01", "2028-12-31"), ("2029-10-01", "2029-12-31")],
        id="spring L 6 Mar: L+6 months = 6 Sep, window 1 Oct-31 Dec that year",
    ),
    pytest.param(
        [consecutive("2026-04-16", 5)],
        [("2026-10-20", "2026-12-31"), ("2027-10-01", "2027-12-31"),
         ("2028-10-01", "2028-12-31"), ("2029-10-01", "2029-12-31")],
        id="L 20 Apr: L+6 months = 20 Oct starts the first window",
    ),
    pytest.param(
        [consecutive("2026-06-26", 5)],
        [("2026-12-30", "2026-12-31"), ("2027-10-01", "2027-12-31"),
         ("2028-10-01", "2028-12-31"), ("2029-10-01", "2029-12-31")],
        id="L 30 Jun: L+6 months = 30 Dec, a two-day window",
    ),
    pytest.param(
        [consecutive("2026-07-11", 5)],
        [("2027-10-01", "2027-12-31"), ("2028-10-01", "2028-12-31"),
         ("2029-10-01", "2029-12-31")],
        id="summer L 15 Jul: L+6 months = 15 Jan next year, no window that year",
    ),
    pytest.param(
        [consecutive("2025-10-06", 5), {"infusions": consecutive("2026-11-09", 3),
                                        "status": "planned"}],
        [("2027-10-01", "2027-12-31"), ("2028-10-01", "2028-12-31"),
         ("2029-10-01", "2029-12-31"), ("2030-10-01", "2030-12-31")],
        id="course 2 (planned) in Nov 2026: no window 2026; end 31 Dec 2030 past end 2030-11-11",
    ),
    pytest.param(
        [consecutive("2025-03-02", 5), consecutive("2026-12-29", 3)],
        [("2025-10-01", "2025-12-31"), ("2027-10-01", "2027-12-31"),
         ("2028-10-01", "2028-12-31"), ("2029-10-01", "2029-12-31"),
         ("2030-10-01", "2030-12-31")],
        id="course 2 ending 31 Dec 2026 is L_prev of 2026: no window 2026",
    ),
    pytest.param(
        [consecutive("2026-09-27", 5)],
        [("2027-10-01", "2027-12-31"), ("2028-10-01", "2028-12-31"),
         ("2029-10-01", "2029-12-31"), ("2030-10-01", "2030-12-31")],
        id="monitoring ends 1 Oct 2030 = start: last window kept",
    ),
    pytest.param(
        [consecutive("2026-09-26", 5)],
        [("2027-10-01", "2027-12-31"), ("2028-10-01", "2028-12-31"),
         ("2029-10-01", "2029-12-31")],
        id="monitoring ends 30 Sep 2030, start 1 Oct after it: no window 2030",
    ),
]


@pytest.mark.parametrize(("courses", "expected"), FLU)
def test_flu_windows(courses, expected):
    # CLINICAL 2.2 vaccine.flu: start = later of 1 Oct Y and L_prev + 6 months, end 31 Dec Y
    assert windows(run(courses), "vaccine.flu") == expected


# --- site settings (CLINICAL 1a) --------------------------------------------------------

# CLINICAL.md 1a aciclovir_duration (v2): counted from L_k. C1: L_1 = 2026-01-09
# (+1 month 9 Feb, +2 months 9 Mar); C2: L_2 = 2027-01-13.
ACICLOVIR = [
    pytest.param({}, [C1], [], [("2026-01-05", "2026-02-09")], id="default 1 month: L_k + 1 month"),
    pytest.param({"aciclovir_duration": "1 month"}, [C1, C2], [],
                 [("2026-01-05", "2026-02-09"), ("2027-01-11", "2027-02-13")],
                 id="1 month, two courses"),
    pytest.param({"aciclovir_duration": "2 months"}, [C1, C2], [],
                 [("2026-01-05", "2026-03-09"), ("2027-01-11", "2027-03-13")],
                 id="2 months: L_k + 2 months"),
    pytest.param({"aciclovir_duration": "2 months"}, [consecutive("2028-01-29", 3)], [],
                 [("2028-01-29", "2028-03-31")], id="2 months: L 31 Jan + 2 months = 31 Mar"),
    pytest.param({"aciclovir_duration": "2 months"}, [consecutive("2027-12-29", 3)], [],
                 [("2027-12-29", "2028-02-29")], id="2 months: L 31 Dec 2027 + 2 months = 29 Feb"),
    pytest.param({"aciclovir_duration": "2 months"}, [INTERRUPTED], [],
                 [("2026-03-02", "2026-05-24")], id="2 months, interrupted course: L 24 Mar + 2 months"),
    pytest.param({"aciclovir_duration": "until_cd4"}, [C1], [],
                 [("2026-01-05", None)], id="until_cd4: no CD4 result, end null"),
    pytest.param({"aciclovir_duration": "until_cd4"}, [C1],
                 [("cd4", 150, "2026-02-01"), ("cd4", 250, "2026-03-01")],
                 [("2026-01-05", "2026-03-09")],
                 id="CLINICAL.md 1a until_cd4 (v2): CD4 >= 200 before L_k + 2 months: the later, L_k + 2 months"),
    pytest.param({"aciclovir_duration": "until_cd4"}, [C1], [("cd4", 250, "2026-04-15")],
                 [("2026-01-05", "2026-04-15")],
                 id="CLINICAL.md 1a until_cd4 (v2): CD4 >= 200 after L_k + 2 months: the later, its date"),
    pytest.param({"aciclovir_duration": "until_cd4"}, [C1], [("cd4", 250, "2026-03-09")],
                 [("2026-01-05", "2026-03-09")], id="until_cd4: CD4 on L_k + 2 months"),
    pytest.param({"aciclovir_duration": "until_cd4"}, [C1],
                 [("cd4", 200, "2026-04-01"), ("cd4", 300, "2026-05-01")],
                 [("2026-01-05", "2026-04-01")], id="until_cd4: CD4 exactly 200 closes it"),
    pytest.param({"aciclovir_duration": "until_cd4"}, [C1], [("cd4", 199, "2026-04-15")],
                 [("2026-01-05", None)], id="until_cd4: CD4 199 does not"),
    pytest.param({"aciclovir_duration": "until_cd4"}, [C1], [("cd4", 400, "2026-01-04")],
                 [("2026-01-05", None)], id="until_cd4: CD4 taken the day before F_k ignored"),
    pytest.param({"aciclovir_duration": "until_cd4"}, [C1], [("cd4", 250, "2026-01-09")],
                 [("2026-01-05", None)], id="until_cd4 (v2): CD4 taken on L_k does not count (after L_k)"),
    pytest.param({"aciclovir_duration": "until_cd4"}, [C1], [("cd4", 250, "2026-01-10")],
                 [("2026-01-05", "2026-03-09")], id="until_cd4 (v2): CD4 the day after L_k counts"),
    pytest.param({"aciclovir_duration": "until_cd4"}, [INTERRUPTED], [("cd4", 300, "2026-03-10")],
                 [("2026-03-02", None)],
                 id="until_cd4 (v2): a CD4 between the blocks of an interrupted course does not count"),
    pytest.param({"aciclovir_duration": "until_cd4"}, [C1, C2],
                 [("cd4", 300, "2026-05-01"), ("cd4", 300, "2027-04-20")],
                 [("2026-01-05", "2026-05-01"), ("2027-01-11", "2027-04-20")],
                 id="until_cd4: each course closed by its own first result after L_k"),
    pytest.param({"aciclovir_duration": "until_cd4"}, [C1, C2], [("cd4", 300, "2026-05-01")],
                 [("2026-01-05", "2026-05-01"), ("2027-01-11", None)],
                 id="until_cd4: a result before L_2 does not close course 2"),
]


@pytest.mark.parametrize(("settings", "courses", "labs", "expected"), ACICLOVIR)
def test_aciclovir_duration(settings, courses, labs, expected):
    # CLINICAL.md 1a aciclovir_duration (v2); 2.1 med.aciclovir (v2)
    assert windows(run(courses, labs=labs, settings=settings), "med.aciclovir") == expected


@pytest.mark.parametrize(
    ("setting", "code"),
    [
        pytest.param("antihistamine", "med.antihistamine", id="CLINICAL 1a antihistamine"),
        pytest.param("skin_yearly", "screen.skin", id="CLINICAL 1a skin_yearly"),
        pytest.param("mri_yearly", "imaging.mri", id="CLINICAL 1a mri_yearly"),
    ],
)
def test_switches(setting, code):
    on = run([C1, C2], patient=EVERYONE, settings={setting: True})
    off = run([C1, C2], patient=EVERYONE, settings={setting: False})
    assert of(on, code) and run([C1, C2], patient=EVERYONE) == on  # true is the default
    assert of(off, code) == []
    assert [i for i in on["items"] if i["code"] != code] == off["items"]


# CLINICAL.md 2.1 diet.listeria (v2): the patient's listeria_until gives the window of
# her latest course (by F_k, given or planned) a later end.
# C1 listeria 2025-12-22..2026-02-09, C2 listeria 2026-12-28..2027-02-13
ONE_C1 = [("2025-12-22", "2026-02-09")]
BOTH = [("2025-12-22", "2026-02-09"), ("2026-12-28", "2027-02-13")]
LISTERIA_UNTIL = [
    pytest.param([C1, C2], None, BOTH, id="unset"),
    pytest.param([C1], "2026-06-30", [("2025-12-22", "2026-06-30")],
                 id="CLINICAL.md 2.1 diet.listeria (v2): one course, extended to the patient's date"),
    pytest.param([C1], "2026-02-01", ONE_C1, id="earlier than the computed end: no change"),
    pytest.param([C1], "2026-02-10", [("2025-12-22", "2026-02-10")],
                 id="one day after the computed end: extends by a day"),
    pytest.param([C1], "2025-12-01", ONE_C1, id="before the window started: no change"),
    pytest.param([C1, C2], "2026-06-30", BOTH,
                 id="CLINICAL.md 2.1 diet.listeria (v2): an earlier course's window is never extended"),
    pytest.param([C1, C2], "2027-02-14", [BOTH[0], ("2026-12-28", "2027-02-14")],
                 id="CLINICAL.md 2.1 diet.listeria (v2): the latest course's window, by a day"),
    pytest.param([C1, C2], "2027-06-01", [BOTH[0], ("2026-12-28", "2027-06-01")],
                 id="1 Jun 2027: extends course 2 only"),
    pytest.param([C1, {"infusions": C2, "status": "planned"}], "2026-06-30", BOTH,
                 id="CLINICAL.md 2.1 diet.listeria (v2): a planned course is the latest course too"),
    pytest.param([C1, {"infusions": C2, "status": "planned"}], "2027-03-01",
                 [BOTH[0], ("2026-12-28", "2027-03-01")], id="planned latest course extended"),
]


@pytest.mark.parametrize(("courses", "until", "expected"), LISTERIA_UNTIL)
def test_listeria_until(courses, until, expected):
    patient = {} if until is None else {"listeria_until": until}
    assert windows(run(courses, patient=patient), "diet.listeria") == expected


def test_listeria_until_is_per_patient_not_a_site_setting():
    """CLINICAL.md 1a (v2): v1's listeria_until site setting is gone."""
    from server.engine.errors import InputError
    with pytest.raises(InputError) as caught:
        run([C1], settings={"listeria_until": "2026-06-30"})
    assert caught.value.field == "settings.listeria_until"


@pytest.mark.parametrize(
    "settings",
    [
        pytest.param({"lab_window_days": 0, "lab_escalate_days": 60}, id="lab window/escalate"),
        pytest.param({"creatinine_rise": 2.0}, id="creatinine_rise"),
        pytest.param({"reminder_time": "07:30", "quiet_hours": "22:00-07:00",
                      "urgent_ack_hours": 1}, id="reminder settings"),
    ],
)
def test_settings_that_do_not_change_items(settings):
    # CLINICAL 1a: these settings drive labs, escalation and reminders, not the timeline
    labs = [("platelets", 140, "2026-03-10"), ("cd4", 300, "2026-09-01")]
    assert (run([C1, C2], patient=EVERYONE, labs=labs, settings=settings)["items"]
            == run([C1, C2], patient=EVERYONE, labs=labs)["items"])


# --- vaccine.live_avoid (CLINICAL 2.1; cd4.recovered of section 4) ------------------------

# CLINICAL.md 2.1 vaccine.live_avoid (v2): F_k - 42 days to the date of the first
# CD4 > 200 taken on or after L_k + 6 months; open while none.
# C1: F_1 = 2026-01-05 (- 42 days = 2025-11-24), L_1 = 2026-01-09, L_1 + 6 months = 2026-07-09.
# C2: F_2 = 2027-01-11 (- 42 days = 2026-11-30), L_2 + 6 months = 2027-07-13.
LIVE_AVOID = [
    pytest.param([C1], [], [("2025-11-24", None)], id="no CD4 result: open"),
    pytest.param([C1], [("cd4", 250, "2026-03-01")], [("2025-11-24", None)],
                 id="CLINICAL.md 2.1 vaccine.live_avoid (v2): CD4 > 200 before L+6 months does not close it"),
    pytest.param([C1], [("cd4", 250, "2026-07-08")], [("2025-11-24", None)],
                 id="CLINICAL.md 2.1 vaccine.live_avoid (v2): CD4 > 200 the day before L+6 months does not"),
    pytest.param([C1], [("cd4", 250, "2026-07-09")], [("2025-11-24", "2026-07-09")],
                 id="CLINICAL.md 2.1 vaccine.live_avoid (v2): CD4 > 200 on L+6 months closes it"),
    pytest.param([C1], [("cd4", 250, "2026-09-01")], [("2025-11-24", "2026-09-01")],
                 id="CD4 > 200 after L+6 months: ends on the result's date"),
    pytest.param([C1], [("cd4", 250, "2026-03-01"), ("cd4", 260, "2026-09-01")],
                 [("2025-11-24", "2026-09-01")],
                 id="CLINICAL.md 2.1 vaccine.live_avoid (v2): an early recovery, then one after 6 months"),
    pytest.param([C1], [("cd4", 200, "2026-08-01")], [("2025-11-24", None)],
                 id="CD4 exactly 200 does not close it"),
    pytest.param([C1], [("cd4", 200, "2026-08-01"), ("cd4", 201, "2026-09-01")],
                 [("2025-11-24", "2026-09-01")], id="CD4 201 after a 200 closes it"),
    pytest.param([C1], [("cd4", 150, "2026-08-01"), ("cd4", 250, "2026-11-01")],
                 [("2025-11-24", "2026-11-01")], id="the first CD4 > 200 counts, not a low one"),
    pytest.param([C1], [("cd4", 300, "2026-09-01"), ("cd4", 400, "2026-10-01")],
                 [("2025-11-24", "2026-09-01")], id="the first of two CD4 > 200 results"),
    # F 27 Aug 2026 - 42 days = 16 Jul; L 31 Aug + 6 months = 28 Feb 2027
    pytest.param([consecutive("2026-08-27", 5)], [("cd4", 300, "2027-02-27")],
                 [("2026-07-16", None)], id="L 31 Aug + 6 months = 28 Feb: 27 Feb is too early"),
    pytest.param([consecutive("2026-08-27", 5)], [("cd4", 300, "2027-02-28")],
                 [("2026-07-16", "2027-02-28")], id="L 31 Aug + 6 months = 28 Feb: 28 Feb closes it"),
    pytest.param([C1, C2], [("cd4", 300, "2026-09-01"), ("cd4", 300, "2027-08-01")],
                 [("2025-11-24", "2026-09-01"), ("2026-11-30", "2027-08-01")],
                 id="two courses, each closed by a result 6 months after its own L_k"),
    pytest.param([C1, C2], [("cd4", 300, "2026-09-01"), ("cd4", 300, "2027-03-01")],
                 [("2025-11-24", "2026-09-01"), ("2026-11-30", None)],
                 id="two courses, a result before L_2 + 6 months leaves course 2 open"),
]


@pytest.mark.parametrize(("courses", "labs", "expected"), LIVE_AVOID)
def test_live_vaccine_avoidance(courses, labs, expected):
    # CLINICAL.md 2.1 vaccine.live_avoid (v2); 4.2 cd4.recovered
    assert windows(run(courses, labs=labs), "vaccine.live_avoid") == expected


# --- order of items (API.md 1) ------------------------------------------------------------


def test_items_sorted_by_date_then_code():
    out = run([C1, C2], patient=EVERYONE, labs=[("platelets", 140, "2026-03-10")])
    keys = [(i.get("due") or i["start"], i["code"]) for i in out["items"]]
    assert keys == sorted(keys)


@pytest.mark.parametrize(
    ("day", "codes"),
    [
        pytest.param("2026-01-05", ["contraception", "breastfeeding.pause", "diet.bland",
                                    "med.aciclovir", "safety.post_infusion", "lab.pregnancy_test"],
                     id="windows starting on F_1"),
        pytest.param("2026-02-05", ["checklist.monthly", "lab.cbc", "lab.creatinine", "lab.lft",
                                    "lab.urinalysis"],
                     id="first monthly dues"),
        pytest.param("2027-01-05", ["checklist.monthly", "imaging.mri", "lab.cbc",
                                    "lab.creatinine", "lab.lft", "lab.tsh", "lab.urinalysis",
                                    "screen.hpv", "screen.skin"],
                     id="month 12"),
    ],
)
def test_items_on_one_day_sorted_by_code(day, codes):
    out = run([C1], patient=EVERYONE)
    got = [i["code"] for i in out["items"] if (i.get("due") or i["start"]) == day]
    assert got == sorted(codes)
