"""Triage of the monthly symptom checklist: CLINICAL.md section 3, API.md section 1.

Every case names the CLINICAL.md section 3 row (question code, level, rule) it checks.
"""

from __future__ import annotations

from datetime import date

import pytest

from server.engine.content.loading import default_content
from server.engine.errors import InputError
from server.engine.inputs import parse_courses, parse_patient
from server.engine.triage import TriageResult, asked_questions, triage

CONTENT = default_content()

# The checklist order of content/checklist.toml (the order patients see): the
# emergency signs first, then by body system.
CHECKLIST_ORDER = (
    "emergency.neuro",
    "emergency.breath_chest",
    "bleed.severe",
    "infection.meningitis",
    "bleed.mucosal",
    "bleed.menstrual",
    "bleed.bruising",
    "bleed.skin_spots",
    "kidney.urine",
    "kidney.swelling",
    "liver.jaundice",
    "immune.fever_rash_glands",
    "neuro.cognition",
    "ms.relapse",
    "infection.fever",
    "infection.shingles",
    "gut.diarrhoea",
    "infection.other",
    "thyroid.weight",
    "thyroid.temperature",
    "thyroid.bowel",
    "thyroid.heart",
    "thyroid.neck_eyes",
    "pregnancy.possible",
)
#: asked only of some patients (CLINICAL.md 3 bleed.menstrual (v2: who), pregnancy.possible (v2))
NOT_ASKED_OF_EVERYONE = ("bleed.menstrual", "pregnancy.possible")

# Course 1 of API.md's example: last infusion 2026-01-09, so L_prev + 3 months = 2026-04-09.
COURSE_1 = ["2026-01-05", "2026-01-06", "2026-01-07", "2026-01-08", "2026-01-09"]
COURSE_2 = ["2027-01-11", "2027-01-12", "2027-01-13"]
NEAR = date(2026, 3, 20)  # within 3 months of the last infusion: fever is urgent
LATE = date(2026, 6, 1)  # more than 3 months after it: fever is soon


def female():
    return parse_patient({"sex": "female", "childbearing_potential": True}, CONTENT)


def patient_of(sex: str):
    return parse_patient({"sex": sex}, CONTENT)


def courses(*infusion_lists, status: str = "given"):
    return parse_courses([{"infusions": list(dates), "status": status} for dates in infusion_lists])


def run(answers, answered_on=LATE, patient=None, course_list=None):
    return triage(
        patient if patient is not None else female(),
        course_list if course_list is not None else courses(COURSE_1),
        answered_on,
        answers,
        CONTENT,
    )


# --- the table is complete ------------------------------------------------------


def test_content_checklist_is_the_clinical_table_in_order():
    """CLINICAL.md section 3 (v2) lists 24 questions; content/ holds exactly those."""
    assert CONTENT.question_codes == CHECKLIST_ORDER


# --- one "yes" per row of CLINICAL.md section 3 ----------------------------------

SINGLE_YES = [
    # (code, level if yes), answered LATE (fever more than 3 months after the last infusion)
    pytest.param("bleed.mucosal", "urgent", id="row bleed.mucosal -> urgent"),
    pytest.param("bleed.menstrual", "urgent", id="row bleed.menstrual -> urgent (female)"),
    pytest.param("bleed.bruising", "urgent", id="row bleed.bruising -> urgent"),
    pytest.param("bleed.skin_spots", "urgent", id="row bleed.skin_spots -> urgent"),
    pytest.param("kidney.urine", "urgent", id="row kidney.urine -> urgent"),
    pytest.param("kidney.swelling", "urgent", id="row kidney.swelling -> urgent"),
    pytest.param("thyroid.weight", "routine", id="row thyroid.weight -> routine"),
    pytest.param("thyroid.temperature", "routine", id="row thyroid.temperature -> routine"),
    pytest.param("thyroid.bowel", "routine", id="row thyroid.bowel -> routine"),
    pytest.param("infection.fever", "soon", id="row infection.fever -> soon (after L_prev+3m)"),
    pytest.param("infection.other", "routine", id="row infection.other -> routine"),
    pytest.param("liver.jaundice", "urgent", id="row liver.jaundice -> urgent"),
    pytest.param("immune.fever_rash_glands", "urgent", id="row immune.fever_rash_glands -> urgent"),
    pytest.param("neuro.cognition", "urgent", id="row neuro.cognition -> urgent"),
    pytest.param("gut.diarrhoea", "soon", id="row gut.diarrhoea -> soon"),
    pytest.param("emergency.neuro", "emergency", id="row emergency.neuro -> emergency"),
    pytest.param("emergency.breath_chest", "emergency",
                 id="row emergency.breath_chest -> emergency"),
    # (v2) rows; tests/unit/test_checklist_v2.py checks their groups and who is asked
    pytest.param("bleed.severe", "emergency", id="row bleed.severe (v2) -> emergency"),
    pytest.param("infection.meningitis", "emergency", id="row infection.meningitis (v2) -> emergency"),
    pytest.param("infection.shingles", "urgent", id="row infection.shingles (v2) -> urgent"),
    pytest.param("ms.relapse", "soon", id="row ms.relapse (v2) -> soon"),
    pytest.param("thyroid.heart", "routine", id="row thyroid.heart (v2) -> routine"),
    pytest.param("thyroid.neck_eyes", "soon", id="row thyroid.neck_eyes (v2) -> soon"),
    pytest.param("pregnancy.possible", "soon", id="row pregnancy.possible (v2) -> soon (childbearing)"),
]


def test_single_yes_table_covers_every_question():
    assert sorted(p.values[0] for p in SINGLE_YES) == sorted(CHECKLIST_ORDER)


@pytest.mark.parametrize(("code", "level"), SINGLE_YES)
def test_single_yes_gives_its_rows_level(code, level):
    assert run({code: True}) == TriageResult(level, (code,))


@pytest.mark.parametrize(("code", "level"), SINGLE_YES)
def test_single_yes_with_every_other_question_answered_no(code, level):
    answers = {other: False for other in CHECKLIST_ORDER}
    answers[code] = True
    assert run(answers) == TriageResult(level, (code,))


def test_row_infection_fever_near_infusion_is_urgent():
    """Row infection.fever: urgent when answered on or before L_prev + 3 months."""
    assert run({"infection.fever": True}, answered_on=NEAR) == ("urgent", ("infection.fever",))


# --- none, unanswered, highest level wins ------------------------------------------

LEVEL_CASES = [
    pytest.param({}, ("none", ()), id="empty answers -> none"),
    pytest.param({c: False for c in CHECKLIST_ORDER}, ("none", ()), id="all no -> none"),
    pytest.param({"bleed.mucosal": False, "thyroid.weight": False}, ("none", ()),
                 id="some no, rest unanswered -> none"),
    pytest.param({"thyroid.weight": True}, ("routine", ("thyroid.weight",)),
                 id="unanswered count as no: one routine yes alone -> routine"),
    pytest.param({"kidney.swelling": True}, ("urgent", ("kidney.swelling",)),
                 id="unanswered count as no: one urgent yes alone -> urgent"),
    pytest.param(
        {"infection.other": True, "gut.diarrhoea": True, "bleed.bruising": True},
        ("urgent", ("bleed.bruising",)),
        id="highest wins: urgent over soon and routine",
    ),
    pytest.param(
        {"bleed.mucosal": True, "emergency.breath_chest": True, "gut.diarrhoea": True},
        ("emergency", ("emergency.breath_chest",)),
        id="highest wins: emergency over urgent and soon",
    ),
    pytest.param(
        {"neuro.cognition": True, "kidney.urine": True, "bleed.mucosal": True,
         "gut.diarrhoea": True},
        ("urgent", ("bleed.mucosal", "kidney.urine", "neuro.cognition")),
        id="all urgent yes listed in checklist order, whatever the answer order",
    ),
    pytest.param(
        {"emergency.breath_chest": True, "emergency.neuro": True},
        ("emergency", ("emergency.neuro", "emergency.breath_chest")),
        id="both emergency rows listed in checklist order",
    ),
    pytest.param(
        {"thyroid.weight": True, "infection.other": True},
        ("routine", ("infection.other", "thyroid.weight")),
        id="two routine yes in different groups listed in checklist order",
    ),
    pytest.param(
        {"gut.diarrhoea": True, "infection.fever": True},
        ("soon", ("infection.fever", "gut.diarrhoea")),
        id="late fever (soon) and gut.diarrhoea (soon) both listed",
    ),
    pytest.param(
        {"bleed.mucosal": False, "gut.diarrhoea": True, "emergency.neuro": False},
        ("soon", ("gut.diarrhoea",)),
        id="no answers do not raise: soon from the one yes",
    ),
]


@pytest.mark.parametrize(("answers", "expected"), LEVEL_CASES)
def test_levels(answers, expected):
    assert run(answers) == expected


def test_near_fever_joins_the_urgent_reasons_in_checklist_order():
    """Row infection.fever near an infusion is urgent, so it is listed with bleed.mucosal."""
    answers = {"infection.fever": True, "bleed.mucosal": True, "gut.diarrhoea": True}
    assert run(answers, answered_on=NEAR) == ("urgent", ("bleed.mucosal", "infection.fever"))


def test_result_is_a_named_tuple_of_level_and_reasons():
    result = run({"bleed.mucosal": True})
    assert result.level == "urgent"
    assert result.reasons == ("bleed.mucosal",)
    assert isinstance(result.reasons, tuple)


# --- group rule: two or more thyroid yes -> at least soon ------------------------------

GROUP_CASES = [
    pytest.param({"thyroid.weight": True}, ("routine", ("thyroid.weight",)),
                 id="group rule: one thyroid yes -> routine"),
    pytest.param({"thyroid.bowel": True, "thyroid.temperature": False},
                 ("routine", ("thyroid.bowel",)),
                 id="group rule: one thyroid yes, one thyroid no -> routine"),
    pytest.param({"thyroid.weight": True, "thyroid.temperature": True},
                 ("soon", ("group:thyroid",)),
                 id="group rule: weight+temperature -> soon group:thyroid"),
    pytest.param({"thyroid.bowel": True, "thyroid.weight": True},
                 ("soon", ("group:thyroid",)),
                 id="group rule: weight+bowel -> soon group:thyroid"),
    pytest.param({"thyroid.weight": True, "thyroid.temperature": True, "thyroid.bowel": True},
                 ("soon", ("group:thyroid",)),
                 id="group rule: all three thyroid -> soon group:thyroid"),
    pytest.param({"thyroid.weight": True, "infection.other": True},
                 ("routine", ("infection.other", "thyroid.weight")),
                 id="group rule: one thyroid + a routine of another group does not trigger it"),
    pytest.param({"thyroid.weight": True, "thyroid.bowel": True, "infection.other": True},
                 ("soon", ("group:thyroid",)),
                 id="group rule: two thyroid + routine infection.other -> soon group only"),
    pytest.param({"thyroid.weight": True, "thyroid.bowel": True, "gut.diarrhoea": True},
                 ("soon", ("gut.diarrhoea", "group:thyroid")),
                 id="group rule: group soon with gut.diarrhoea soon lists both"),
    pytest.param({"thyroid.temperature": True, "thyroid.bowel": True, "infection.fever": True},
                 ("soon", ("infection.fever", "group:thyroid")),
                 id="group rule: group soon with late fever soon lists both"),
    pytest.param({"thyroid.weight": True, "thyroid.bowel": True, "bleed.mucosal": True},
                 ("urgent", ("bleed.mucosal",)),
                 id="group rule: urgent answer wins, group not listed"),
    pytest.param({"thyroid.weight": True, "thyroid.temperature": True, "emergency.neuro": True},
                 ("emergency", ("emergency.neuro",)),
                 id="group rule: emergency answer wins, group not listed"),
]


@pytest.mark.parametrize(("answers", "expected"), GROUP_CASES)
def test_thyroid_group_rule(answers, expected):
    assert run(answers) == expected


def test_group_rule_not_listed_when_near_fever_is_urgent():
    """Rows infection.fever (urgent near infusion) and the thyroid group rule (soon)."""
    answers = {"thyroid.weight": True, "thyroid.bowel": True, "infection.fever": True}
    assert run(answers, answered_on=NEAR) == ("urgent", ("infection.fever",))


# --- fever rule: urgent on or before L_prev + 3 months, soon after ----------------------

FEVER_CASES = [
    # (infusion lists of the courses, answered_on, expected level)
    pytest.param([COURSE_1], date(2026, 1, 5), "urgent",
                 id="fever: on the first infusion day (L_prev = that day) -> urgent"),
    pytest.param([COURSE_1], date(2026, 1, 9), "urgent",
                 id="fever: on the last infusion day -> urgent"),
    pytest.param([COURSE_1], date(2026, 4, 9), "urgent",
                 id="fever: L_prev 2026-01-09, boundary day 2026-04-09 -> urgent"),
    pytest.param([COURSE_1], date(2026, 4, 10), "soon",
                 id="fever: L_prev 2026-01-09, day after boundary 2026-04-10 -> soon"),
    pytest.param([["2025-11-28", "2025-11-29", "2025-11-30"]], date(2026, 2, 28), "urgent",
                 id="fever: L_prev 2025-11-30, clamped boundary 2026-02-28 -> urgent"),
    pytest.param([["2025-11-28", "2025-11-29", "2025-11-30"]], date(2026, 3, 1), "soon",
                 id="fever: L_prev 2025-11-30, day after clamped boundary 2026-03-01 -> soon"),
    pytest.param([["2027-11-28", "2027-11-29", "2027-11-30"]], date(2028, 2, 29), "urgent",
                 id="fever: L_prev 2027-11-30, leap boundary 2028-02-29 -> urgent"),
    pytest.param([["2027-11-28", "2027-11-29", "2027-11-30"]], date(2028, 3, 1), "soon",
                 id="fever: L_prev 2027-11-30, day after leap boundary 2028-03-01 -> soon"),
    pytest.param([["2026-08-29", "2026-08-30", "2026-08-31"]], date(2026, 11, 30), "urgent",
                 id="fever: L_prev 2026-08-31, clamped boundary 2026-11-30 -> urgent"),
    pytest.param([["2026-08-29", "2026-08-30", "2026-08-31"]], date(2026, 12, 1), "soon",
                 id="fever: L_prev 2026-08-31, day after clamped boundary 2026-12-01 -> soon"),
    pytest.param([["2026-10-29", "2026-10-30", "2026-10-31"]], date(2027, 1, 31), "urgent",
                 id="fever: L_prev 2026-10-31, boundary over the year end 2027-01-31 -> urgent"),
    pytest.param([["2026-10-29", "2026-10-30", "2026-10-31"]], date(2027, 2, 1), "soon",
                 id="fever: L_prev 2026-10-31, day after year-end boundary -> soon"),
    pytest.param([], date(2026, 3, 20), "soon",
                 id="fever: no course at all -> soon"),
    pytest.param([COURSE_1], date(2026, 1, 4), "soon",
                 id="fever: answered before any infusion -> soon"),
    pytest.param([COURSE_1], date(2025, 12, 1), "soon",
                 id="fever: answered a month before the first infusion -> soon"),
    pytest.param([COURSE_1, COURSE_2], date(2027, 4, 13), "urgent",
                 id="fever: L_prev from course 2 (2027-01-13), boundary 2027-04-13 -> urgent"),
    pytest.param([COURSE_1, COURSE_2], date(2027, 4, 14), "soon",
                 id="fever: L_prev from course 2, day after boundary -> soon"),
    pytest.param([COURSE_1, COURSE_2], date(2027, 1, 12), "urgent",
                 id="fever: during course 2, L_prev = 2027-01-12 -> urgent"),
    pytest.param([COURSE_1, COURSE_2], date(2027, 1, 10), "soon",
                 id="fever: day before course 2, L_prev = 2026-01-09 -> soon"),
    # An interrupted course (003: finished in the next weeks) uses its last infusion.
    pytest.param([["2026-01-05", "2026-01-06", "2026-02-02", "2026-02-03", "2026-02-04"]],
                 date(2026, 4, 20), "urgent",
                 id="fever: interrupted course, past first part + 3m, within last infusion + 3m"),
    pytest.param([["2026-01-05", "2026-01-06", "2026-02-02", "2026-02-03", "2026-02-04"]],
                 date(2026, 5, 4), "urgent",
                 id="fever: interrupted course, boundary L=2026-02-04 + 3m = 2026-05-04 -> urgent"),
    pytest.param([["2026-01-05", "2026-01-06", "2026-02-02", "2026-02-03", "2026-02-04"]],
                 date(2026, 5, 5), "soon",
                 id="fever: interrupted course, day after boundary -> soon"),
    pytest.param([["2026-02-04", "2026-01-06", "2026-02-03", "2026-01-05", "2026-02-02"]],
                 date(2026, 5, 4), "urgent",
                 id="fever: interrupted course given out of order still uses its last infusion"),
]


@pytest.mark.parametrize(("infusion_lists", "answered_on", "level"), FEVER_CASES)
def test_fever_rule(infusion_lists, answered_on, level):
    result = run({"infection.fever": True}, answered_on, course_list=courses(*infusion_lists))
    assert result == (level, ("infection.fever",))


def test_fever_planned_course_after_answer_date_does_not_count():
    """L_prev is the last infusion on or before the answer date: a later planned course is
    ignored."""
    course_list = parse_courses([
        {"infusions": COURSE_1, "status": "given"},
        {"infusions": COURSE_2, "status": "planned"},
    ])
    # 2026-12-01 is far from 2026-01-09 but within 3 months *before* the planned course.
    assert run({"infection.fever": True}, date(2026, 12, 1), course_list=course_list) == (
        "soon", ("infection.fever",))


def test_fever_only_planned_course_in_the_future_is_soon():
    course_list = parse_courses([{"infusions": COURSE_1, "status": "planned"}])
    assert run({"infection.fever": True}, date(2025, 12, 20), course_list=course_list) == (
        "soon", ("infection.fever",))


def test_fever_no_answer_is_none_even_near_an_infusion():
    assert run({"infection.fever": False}, answered_on=NEAR) == ("none", ())


def test_immune_fever_rash_glands_is_urgent_whatever_the_date():
    """Row immune.fever_rash_glands has no near-infusion rule: urgent in any case."""
    for day in (NEAR, LATE, date(2025, 1, 1)):
        expected = ("urgent", ("immune.fever_rash_glands",))
        assert run({"immune.fever_rash_glands": True}, day) == expected


# --- errors ---------------------------------------------------------------------------

ERROR_CASES = [
    pytest.param(female(), {"bleed.nose": True}, "answers.bleed.nose", id="unknown code"),
    pytest.param(female(), {"anything_else": "a free text"}, "answers.anything_else",
                 id="unknown code with a text value"),
    pytest.param(female(), {"bleed.mucosal": "yes"}, "answers.bleed.mucosal",
                 id="non-boolean answer: string yes"),
    pytest.param(female(), {"bleed.mucosal": "true"}, "answers.bleed.mucosal",
                 id="non-boolean answer: string true"),
    pytest.param(female(), {"thyroid.weight": 1}, "answers.thyroid.weight",
                 id="non-boolean answer: 1"),
    pytest.param(female(), {"thyroid.weight": 0}, "answers.thyroid.weight",
                 id="non-boolean answer: 0"),
    pytest.param(female(), {"gut.diarrhoea": None}, "answers.gut.diarrhoea",
                 id="non-boolean answer: null"),
    pytest.param(female(), [["bleed.mucosal", True]], "answers", id="answers a list"),
    pytest.param(female(), "bleed.mucosal", "answers", id="answers a string"),
    pytest.param(female(), None, "answers", id="answers null"),
    pytest.param(patient_of("male"), {"bleed.menstrual": True}, "answers.bleed.menstrual",
                 id="row bleed.menstrual answered for a male patient"),
    pytest.param(patient_of("other"), {"bleed.menstrual": True}, "answers.bleed.menstrual",
                 id="row bleed.menstrual answered for sex other"),
]


@pytest.mark.parametrize(("patient", "answers", "field"), ERROR_CASES)
def test_bad_answers_raise_input_error_naming_the_field(patient, answers, field):
    with pytest.raises(InputError) as caught:
        run(answers, patient=patient)
    assert caught.value.field == field
    assert str(caught.value).startswith(field + ": ")


def test_female_may_answer_menstrual():
    assert run({"bleed.menstrual": True}, patient=female()) == ("urgent", ("bleed.menstrual",))


@pytest.mark.parametrize("sex", ["male", "other"])
def test_other_questions_work_for_non_female(sex):
    answers = {code: False for code in CHECKLIST_ORDER if code not in NOT_ASKED_OF_EVERYONE}
    answers["bleed.bruising"] = True
    assert run(answers, patient=patient_of(sex)) == ("urgent", ("bleed.bruising",))


# --- asked questions ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sex", "menstrual_asked"),
    [
        pytest.param("female", True, id="female is asked bleed.menstrual"),
        pytest.param("male", False, id="male is not asked bleed.menstrual"),
        pytest.param("other", False, id="other is not asked bleed.menstrual"),
    ],
)
def test_asked_questions(sex, menstrual_asked):
    """Without childbearing potential: bleed.menstrual by sex, never pregnancy.possible."""
    asked = tuple(q.code for q in asked_questions(patient_of(sex), CONTENT))
    expected = tuple(c for c in CHECKLIST_ORDER
                     if c != "pregnancy.possible" and (menstrual_asked or c != "bleed.menstrual"))
    assert asked == expected
    assert ("bleed.menstrual" in asked) is menstrual_asked
