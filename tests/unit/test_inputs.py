"""Month arithmetic, strict date parsing and the engine's input parsers.

CLINICAL.md section 1 (terms, month arithmetic), 1a (settings), 4 (analytes) and
API.md section 1 (the input document): bad input is an InputError naming the field.
"""

from __future__ import annotations

import json
import math
from datetime import date

import pytest

from server.engine.content.loading import default_content
from server.engine.dates import add_months, parse_date
from server.engine.documents import timeline_document
from server.engine.errors import InputError
from server.engine.inputs import (
    Course,
    parse_courses,
    parse_labs,
    parse_patient,
    resolve_settings,
)

CONTENT = default_content()


def raises_on(field: str, call, *args, **kwargs) -> InputError:
    with pytest.raises(InputError) as caught:
        call(*args, **kwargs)
    assert caught.value.field == field, str(caught.value)
    assert str(caught.value).startswith(field + ": ")
    return caught.value


# --- add_months (CLINICAL.md section 1, month arithmetic) ------------------------------

ADD_MONTHS = [
    pytest.param(date(2026, 1, 31), 1, date(2026, 2, 28), id="31 Jan + 1 = 28 Feb"),
    pytest.param(date(2028, 1, 31), 1, date(2028, 2, 29), id="31 Jan + 1 = 29 Feb in leap 2028"),
    pytest.param(date(2026, 1, 31), 2, date(2026, 3, 31), id="31 Jan + 2 = 31 Mar"),
    pytest.param(date(2026, 1, 31), 3, date(2026, 4, 30), id="31 Jan + 3 = 30 Apr"),
    pytest.param(date(2026, 1, 31), 13, date(2027, 2, 28), id="31 Jan + 13 = 28 Feb next year"),
    pytest.param(date(2026, 1, 15), 0, date(2026, 1, 15), id="+0 is the same day"),
    pytest.param(date(2026, 3, 31), -1, date(2026, 2, 28), id="31 Mar - 1 = 28 Feb"),
    pytest.param(date(2028, 3, 31), -1, date(2028, 2, 29), id="31 Mar - 1 = 29 Feb in leap 2028"),
    pytest.param(date(2026, 3, 15), -3, date(2025, 12, 15), id="15 Mar - 3 = 15 Dec previous year"),
    pytest.param(date(2026, 1, 31), -2, date(2025, 11, 30), id="31 Jan - 2 = 30 Nov previous year"),
    pytest.param(date(2026, 12, 31), -12, date(2025, 12, 31), id="31 Dec - 12 = 31 Dec before"),
    pytest.param(date(2026, 1, 1), -1, date(2025, 12, 1), id="1 Jan - 1 = 1 Dec previous year"),
    pytest.param(date(2026, 1, 5), -25, date(2023, 12, 5), id="-25 months"),
    pytest.param(date(2026, 12, 15), 1, date(2027, 1, 15), id="December + 1 rolls into January"),
    pytest.param(date(2026, 12, 31), 2, date(2027, 2, 28), id="31 Dec + 2 = 28 Feb next year"),
    pytest.param(date(2026, 11, 30), 3, date(2027, 2, 28), id="30 Nov + 3 = 28 Feb"),
    pytest.param(date(2027, 11, 30), 3, date(2028, 2, 29), id="30 Nov + 3 = 29 Feb leap"),
    pytest.param(date(2026, 12, 1), 12, date(2027, 12, 1), id="December + 12"),
    pytest.param(date(2028, 2, 29), 12, date(2029, 2, 28), id="29 Feb 2028 + 12 = 28 Feb 2029"),
    pytest.param(date(2028, 2, 29), 48, date(2032, 2, 29), id="29 Feb 2028 + 48 = 29 Feb 2032"),
    pytest.param(date(2027, 1, 13), 48, date(2031, 1, 13), id="L* + 48 months of API example"),
    pytest.param(date(2099, 12, 31), 1, date(2100, 1, 31), id="into 2100"),
    pytest.param(date(2100, 1, 31), 1, date(2100, 2, 28), id="2100 is not a leap year"),
    pytest.param(date(2000, 1, 31), 1, date(2000, 2, 29), id="2000 is a leap year"),
]


@pytest.mark.parametrize(("start", "months", "expected"), ADD_MONTHS)
def test_add_months(start, months, expected):
    assert add_months(start, months) == expected


def test_add_months_is_computed_from_the_start_each_time():
    """31 Jan + 2 months is 31 Mar, not (31 Jan + 1) + 1 = 28 Mar."""
    assert add_months(date(2026, 1, 31), 2) == date(2026, 3, 31)
    assert add_months(add_months(date(2026, 1, 31), 1), 1) == date(2026, 3, 28)


@pytest.mark.parametrize("months", range(-30, 31))
def test_add_months_then_back_keeps_the_day_when_it_exists(months):
    start = date(2026, 5, 15)
    assert add_months(add_months(start, months), -months) == start


# --- parse_date --------------------------------------------------------------------------

BAD_DATES = [
    pytest.param("2026-02-30", id="30 Feb"),
    pytest.param("2027-02-29", id="29 Feb in a non-leap year"),
    pytest.param("2100-02-29", id="29 Feb 2100"),
    pytest.param("2026-13-01", id="month 13"),
    pytest.param("2026-00-10", id="month 0"),
    pytest.param("2026-04-31", id="31 Apr"),
    pytest.param("2026-01-00", id="day 0"),
    pytest.param("20260105", id="basic format string"),
    pytest.param("2026-1-5", id="no zero padding"),
    pytest.param("2026-01-05T00:00", id="a datetime"),
    pytest.param(" 2026-01-05", id="leading space"),
    pytest.param("2026-01-05\n", id="trailing newline"),
    pytest.param("2026-W02-1", id="week date"),
    pytest.param("05/01/2026", id="day/month/year"),
    pytest.param("", id="empty string"),
    pytest.param(20260105, id="an integer"),
    pytest.param(2026.0105, id="a float"),
    pytest.param(None, id="None"),
    pytest.param(True, id="a boolean"),
    pytest.param(["2026-01-05"], id="a list"),
    # CLINICAL.md section 1, "Dates in range": 1900-01-01..2100-12-31
    pytest.param("1899-12-31", id="the day before 1900"),
    pytest.param("2101-01-01", id="the day after 2100"),
    pytest.param("0001-01-01", id="year 1"),
    pytest.param("9999-12-31", id="year 9999"),
    pytest.param("0000-01-01", id="year 0"),
    pytest.param(date(1899, 12, 31), id="a date object before 1900"),
    pytest.param(date(9999, 12, 31), id="a date object in 9999"),
]


@pytest.mark.parametrize("value", BAD_DATES)
def test_parse_date_rejects(value):
    raises_on("courses[0].infusions[0]", parse_date, value, "courses[0].infusions[0]")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param("2028-02-29", date(2028, 2, 29), id="29 Feb in leap 2028"),
        pytest.param("2000-02-29", date(2000, 2, 29), id="29 Feb 2000"),
        pytest.param("2026-01-05", date(2026, 1, 5), id="plain date"),
        pytest.param("2026-12-31", date(2026, 12, 31), id="year end"),
        pytest.param("1900-01-01", date(1900, 1, 1), id="the first date in range"),
        pytest.param("2100-12-31", date(2100, 12, 31), id="the last date in range"),
        pytest.param(date(2100, 12, 31), date(2100, 12, 31), id="a date object in range"),
    ],
)
def test_parse_date_accepts(value, expected):
    assert parse_date(value, "x") == expected


def test_a_date_out_of_range_says_the_range():
    error = raises_on("labs[1].taken_on", parse_date, "2101-01-01", "labs[1].taken_on")
    assert "1900-01-01" in error.problem and "2100-12-31" in error.problem


# --- courses -----------------------------------------------------------------------------

C1 = ["2026-01-05", "2026-01-06", "2026-01-07", "2026-01-08", "2026-01-09"]
C2 = ["2027-01-11", "2027-01-12", "2027-01-13"]

BAD_COURSES = [
    pytest.param([{"infusions": []}], "courses[0].infusions", id="a course with no infusions"),
    pytest.param([{"infusions": C1}, {"infusions": []}], "courses[1].infusions",
                 id="second course with no infusions"),
    pytest.param([{"status": "given"}], "courses[0].infusions", id="no infusions key"),
    pytest.param([{"infusions": ["2026-01-05", "2026-01-06", "2026-01-05"]}],
                 "courses[0].infusions", id="the same infusion twice"),
    pytest.param([{"infusions": C1}, {"infusions": ["2026-01-08", "2026-01-10"]}], "courses",
                 id="overlapping courses"),
    pytest.param([{"infusions": ["2026-01-08", "2026-01-10"]}, {"infusions": C1}], "courses",
                 id="overlapping courses given out of order"),
    pytest.param([{"infusions": C1}, {"infusions": ["2026-01-09", "2026-01-10"]}], "courses",
                 id="second course starts on the last day of the first"),
    pytest.param([{"infusions": ["2026-01-05", "2026-02-20"]}, {"infusions": ["2026-01-20"]}],
                 "courses", id="a course inside an interrupted course"),
    pytest.param([{"infusions": C1}, {"infusions": ["2027-01-11", "2027-01-12", "2027-02-30"]}],
                 "courses[1].infusions[2]", id="an impossible infusion date"),
    pytest.param([{"infusions": ["2026-1-5"]}], "courses[0].infusions[0]",
                 id="a badly written infusion date"),
    pytest.param([{"infusions": [20260105]}], "courses[0].infusions[0]",
                 id="an infusion date as a number"),
    pytest.param([{"infusions": C1, "status": "done"}], "courses[0].status", id="unknown status"),
    pytest.param([{"infusions": C1, "start": "2026-01-05"}], "courses[0].start",
                 id="unknown course field"),
    pytest.param([{"infusions": "2026-01-05"}], "courses[0].infusions", id="infusions not a list"),
    pytest.param(["2026-01-05"], "courses[0]", id="a course not an object"),
    pytest.param({"infusions": C1}, "courses", id="courses not a list"),
    pytest.param(None, "courses", id="courses null"),
]


@pytest.mark.parametrize(("doc", "field"), BAD_COURSES)
def test_bad_courses(doc, field):
    raises_on(field, parse_courses, doc)


def test_infusions_out_of_order_are_sorted():
    (course,) = parse_courses([{"infusions": ["2026-01-07", "2026-01-05", "2026-01-06"]}])
    assert course.infusions == (date(2026, 1, 5), date(2026, 1, 6), date(2026, 1, 7))
    assert course.first == date(2026, 1, 5)
    assert course.last == date(2026, 1, 7)


def test_courses_out_of_order_are_sorted():
    parsed = parse_courses([{"infusions": C2, "status": "planned"}, {"infusions": C1}])
    assert parsed == (
        Course(tuple(date.fromisoformat(d) for d in C1), "given"),
        Course(tuple(date.fromisoformat(d) for d in C2), "planned"),
    )


def test_interrupted_course_keeps_every_infusion():
    dates = ["2026-01-05", "2026-01-06", "2026-02-02", "2026-02-03", "2026-02-04"]
    (course,) = parse_courses([{"infusions": dates}])
    assert course.last == date(2026, 2, 4)
    assert len(course.infusions) == 5


def test_no_courses_is_allowed():
    assert parse_courses([]) == ()


def test_course_status_defaults_to_given():
    assert parse_courses([{"infusions": C1}])[0].status == "given"


# --- labs --------------------------------------------------------------------------------


def lab(**fields):
    doc = {"analyte": "platelets", "value": 95, "taken_on": "2026-09-02"}
    doc.update(fields)
    return {k: v for k, v in doc.items() if v is not ...}


BAD_LABS = [
    pytest.param([lab(analyte="haemoglobin")], "labs[0].analyte", id="unknown analyte"),
    pytest.param([lab(), lab(analyte="PLATELETS")], "labs[1].analyte",
                 id="unknown analyte (case) in the second result"),
    pytest.param([lab(analyte=None)], "labs[0].analyte", id="analyte null"),
    pytest.param([lab(value="95")], "labs[0].value", id="a string value for a number analyte"),
    pytest.param([lab(value="positive")], "labs[0].value", id="positive for a number analyte"),
    pytest.param([lab(value=True)], "labs[0].value", id="a boolean value for a number analyte"),
    pytest.param([lab(value=None)], "labs[0].value", id="a null value"),
    pytest.param([lab(analyte="urine_blood", value=1)], "labs[0].value",
                 id="a number for urine_blood"),
    pytest.param([lab(analyte="urine_protein", value="pos")], "labs[0].value",
                 id="an unknown word for urine_protein"),
    pytest.param([lab(analyte="urine_blood", value="negative", ref_low=0)], "labs[0].ref_low",
                 id="a range for a positive/negative test"),
    pytest.param([lab(value=-5)], "labs[0].value", id="negative value"),
    pytest.param([lab(value=-0.1)], "labs[0].value", id="negative fractional value"),
    pytest.param([lab(value=math.nan)], "labs[0].value", id="NaN value"),
    pytest.param([lab(value=math.inf)], "labs[0].value", id="inf value"),
    pytest.param([lab(value=-math.inf)], "labs[0].value", id="-inf value"),
    pytest.param([lab(ref_low=200, ref_high=100)], "labs[0].ref_low", id="ref_low above ref_high"),
    pytest.param([lab(ref_low=-1)], "labs[0].ref_low", id="negative ref_low"),
    pytest.param([lab(ref_high=math.nan)], "labs[0].ref_high", id="NaN ref_high"),
    pytest.param([lab(ref_high="400")], "labs[0].ref_high", id="string ref_high"),
    pytest.param([lab(taken_on="2026-02-30")], "labs[0].taken_on", id="impossible taken_on"),
    pytest.param([lab(taken_on=...)], "labs[0].taken_on", id="missing taken_on"),
    pytest.param([lab(value=...)], "labs[0].value", id="missing value"),
    pytest.param([lab(analyte=...)], "labs[0].analyte", id="missing analyte"),
    pytest.param([lab(units="10^9/L")], "labs[0].units", id="unknown lab field"),
    pytest.param([lab(unit="mg/dL")], "labs[0].unit", id="a unit platelets are not counted in (v2, 4.1)"),
    pytest.param([lab(value=0)], "labs[0].value", id="platelets 0: below the plausible 1 (v2, 4.1)"),
    pytest.param([lab(patient_reported="yes")], "labs[0].patient_reported",
                 id="patient_reported not a boolean"),
    pytest.param(["platelets 95"], "labs[0]", id="a result not an object"),
    pytest.param({"platelets": 95}, "labs", id="labs not a list"),
]


@pytest.mark.parametrize(("doc", "field"), BAD_LABS)
def test_bad_labs(doc, field):
    raises_on(field, parse_labs, doc, CONTENT)


def test_nan_from_json_text_is_refused():
    """Python's json module reads NaN and Infinity; the engine must not accept them."""
    for text in ("NaN", "Infinity", "-Infinity"):
        doc = json.loads(
            f'[{{"analyte": "creatinine", "value": {text}, "taken_on": "2026-01-05"}}]')
        raises_on("labs[0].value", parse_labs, doc, CONTENT)


def test_huge_integer_value_is_an_input_error():
    raises_on("labs[0].value", parse_labs, [lab(value=10**400)], CONTENT)


def test_good_labs_are_parsed_and_sorted_by_date():
    parsed = parse_labs(
        [
            lab(taken_on="2026-10-01", value=160),
            {"analyte": "urine_blood", "value": "positive", "taken_on": "2026-09-02",
             "ref_low": None, "ref_high": None},
            lab(value=1, ref_low=140, ref_high=440, patient_reported=True),
        ],
        CONTENT,
    )
    assert [(r.analyte, r.value, r.taken_on) for r in parsed] == [
        ("urine_blood", "positive", date(2026, 9, 2)),
        ("platelets", 1, date(2026, 9, 2)),
        ("platelets", 160, date(2026, 10, 1)),
    ]
    assert parsed[1].ref_low == 140 and parsed[1].ref_high == 440 and parsed[1].patient_reported


def test_equal_reference_limits_are_allowed():
    (result,) = parse_labs([lab(ref_low=150, ref_high=150)], CONTENT)
    assert result.ref_low == result.ref_high == 150


# --- patient -----------------------------------------------------------------------------

BAD_PATIENTS = [
    pytest.param({"sex": "unknown"}, "patient.sex", id="sex unknown"),
    pytest.param({"sex": "F"}, "patient.sex", id="sex F"),
    pytest.param({"sex": None}, "patient.sex", id="sex null"),
    pytest.param({"protocol": "cml"}, "patient.protocol", id="protocol not in content refused, naming the field"),
    pytest.param({"protocol": "MS"}, "patient.protocol", id="protocol unknown"),
    pytest.param({"protocol": None}, "patient.protocol", id="protocol null"),
    pytest.param({"cervical_screening": "yes"}, "patient.cervical_screening",
                 id="cervical_screening not a boolean"),
    pytest.param({"cervical_screening": 1}, "patient.cervical_screening", id="cervical_screening 1"),
    pytest.param({"listeria_until": "2026-02-30"}, "patient.listeria_until", id="listeria_until 2026-02-30"),
    pytest.param({"listeria_until": "2026-2-3"}, "patient.listeria_until", id="listeria_until badly written"),
    pytest.param({"listeria_until": 20260203}, "patient.listeria_until", id="listeria_until a number"),
    pytest.param({"sex": "female", "childbearing_potential": "yes"},
                 "patient.childbearing_potential", id="childbearing_potential not a boolean"),
    pytest.param({"breastfeeding": 1}, "patient.breastfeeding", id="breastfeeding not a boolean"),
    pytest.param({"sex": "female", "pregnancies": [{"reported_on": "2027-06-01",
                                                    "ended_on": "2027-05-31"}]},
                 "patient.pregnancies[0].ended_on", id="pregnancy ended before reported"),
    pytest.param({"sex": "female", "pregnancies": [{"ended_on": "2027-05-31"}]},
                 "patient.pregnancies[0].reported_on", id="pregnancy without reported_on"),
    pytest.param({"sex": "female", "pregnancies": [{"reported_on": "2027-02-29"}]},
                 "patient.pregnancies[0].reported_on", id="pregnancy reported on 2027-02-29"),
    pytest.param({"sex": "female", "pregnancies": [{"reported_on": "2027-06-01", "due": "x"}]},
                 "patient.pregnancies[0].due", id="unknown pregnancy field"),
    pytest.param({"age": 34}, "patient.age", id="unknown patient field"),
    pytest.param({"baseline": {"haemoglobin": 130}}, "patient.baseline.haemoglobin",
                 id="unknown analyte in baseline"),
    pytest.param({"baseline": {"urine_blood": "negative"}}, "patient.baseline.urine_blood",
                 id="a positive/negative analyte in baseline"),
    pytest.param({"baseline": {"platelets": "250"}}, "patient.baseline.platelets",
                 id="a string baseline value"),
    pytest.param({"baseline": {"creatinine": -70}}, "patient.baseline.creatinine",
                 id="a negative baseline value"),
    pytest.param({"baseline": {"platelets": math.nan}}, "patient.baseline.platelets",
                 id="a NaN baseline value"),
    pytest.param({"baseline": [250]}, "patient.baseline", id="baseline not an object"),
    pytest.param({"timezone": "Mars/Olympus_Mons"}, "patient.timezone", id="unknown time zone"),
    pytest.param({"timezone": "Europe/Berlin "}, "patient.timezone", id="time zone with a space"),
    pytest.param({"timezone": "../etc/passwd"}, "patient.timezone", id="time zone as a path"),
    pytest.param({"timezone": ""}, "patient.timezone", id="empty time zone"),
    pytest.param({"timezone": 1}, "patient.timezone", id="time zone a number"),
    pytest.param({"language": "fr"}, "patient.language", id="unsupported language"),
    pytest.param({"language": "EN"}, "patient.language", id="language in capitals"),
    pytest.param(["female"], "patient", id="patient not an object"),
]


@pytest.mark.parametrize(("doc", "field"), BAD_PATIENTS)
def test_bad_patients(doc, field):
    raises_on(field, parse_patient, doc, CONTENT)


def test_patient_defaults():
    patient = parse_patient({}, CONTENT)
    assert (patient.sex, patient.childbearing_potential, patient.breastfeeding) == (
        "other", False, False)
    assert patient.pregnancies == ()
    assert dict(patient.baseline) == {}
    assert (patient.language, patient.timezone) == ("en", "UTC")
    assert (patient.protocol, patient.cervical_screening, patient.listeria_until) == ("ms", None, None)


@pytest.mark.parametrize(
    ("doc", "childbearing", "screens"),
    [
        pytest.param({"sex": "female"}, False, True, id="female: screening by default"),
        pytest.param({"sex": "male"}, False, False, id="male: no screening by default"),
        pytest.param({"sex": "other"}, False, False, id="other: no screening by default"),
        pytest.param({"sex": "female", "cervical_screening": False}, False, False, id="female, screening off"),
        pytest.param({"sex": "male", "cervical_screening": True}, False, True, id="male, screening on"),
        pytest.param({"sex": "male", "childbearing_potential": True}, True, False,
                     id="male with childbearing potential is accepted (CLINICAL.md 1 (v2))"),
        pytest.param({"sex": "other", "childbearing_potential": True, "cervical_screening": None}, True, False,
                     id="other with childbearing potential; null screening is the default"),
    ],
)
def test_childbearing_and_cervical_screening_are_their_own_attributes(doc, childbearing, screens):
    """CLINICAL.md 1 (v2): childbearing potential whatever sex says; cervical
    screening defaults to true for sex female, else false, and can be set."""
    patient = parse_patient(doc, CONTENT)
    assert (patient.childbearing_potential, patient.screens_cervix) == (childbearing, screens)


def test_pregnancy_is_accepted_whatever_the_sex_field_says():
    """CLINICAL.md 1 (v2): pregnancy follows childbearing potential, not sex."""
    patient = parse_patient({"sex": "male", "childbearing_potential": True,
                             "pregnancies": [{"reported_on": "2027-06-01"}]}, CONTENT)
    assert patient.pregnancies[0].reported_on == date(2027, 6, 1)


def test_patient_v2_attributes():
    patient = parse_patient({"protocol": "ms", "listeria_until": "2026-05-01", "cervical_screening": True}, CONTENT)
    assert (patient.protocol, patient.listeria_until, patient.cervical_screening) == ("ms", date(2026, 5, 1), True)


def test_full_patient():
    patient = parse_patient(
        {
            "sex": "female",
            "childbearing_potential": True,
            "breastfeeding": True,
            "pregnancies": [{"reported_on": "2027-06-01", "ended_on": None},
                            {"reported_on": "2026-01-01", "ended_on": "2026-01-01"}],
            "baseline": {"platelets": 250, "creatinine": 70.5},
            "language": "de",
            "timezone": "Europe/Berlin",
        },
        CONTENT,
    )
    assert patient.is_female
    assert [p.reported_on for p in patient.pregnancies] == [date(2026, 1, 1), date(2027, 6, 1)]
    assert patient.pregnancies[1].ended_on is None
    assert dict(patient.baseline) == {"platelets": 250, "creatinine": 70.5}
    assert (patient.language, patient.timezone) == ("de", "Europe/Berlin")


# --- settings (CLINICAL.md section 1a) -----------------------------------------------------

BAD_SETTINGS = [
    pytest.param({"colour": "blue"}, "settings.colour", id="unknown setting"),
    pytest.param({"aciclovir": "1 month"}, "settings.aciclovir", id="unknown setting (near name)"),
    pytest.param({"aciclovir_duration": "3 months"}, "settings.aciclovir_duration",
                 id="aciclovir_duration 3 months"),
    pytest.param({"aciclovir_duration": 1}, "settings.aciclovir_duration",
                 id="aciclovir_duration a number"),
    pytest.param({"antihistamine": "yes"}, "settings.antihistamine", id="antihistamine yes"),
    pytest.param({"skin_yearly": 1}, "settings.skin_yearly", id="skin_yearly 1"),
    pytest.param({"mri_yearly": None}, "settings.mri_yearly", id="mri_yearly null"),
    pytest.param({"lab_window_days": 2.5}, "settings.lab_window_days", id="lab_window_days 2.5"),
    pytest.param({"lab_window_days": "7"}, "settings.lab_window_days", id="lab_window_days string"),
    pytest.param({"lab_window_days": -1}, "settings.lab_window_days", id="lab_window_days -1"),
    pytest.param({"lab_escalate_days": True}, "settings.lab_escalate_days",
                 id="lab_escalate_days a boolean"),
    pytest.param({"creatinine_rise": 0.5}, "settings.creatinine_rise",
                 id="creatinine_rise 0.5 below the minimum"),
    pytest.param({"creatinine_rise": "1.3"}, "settings.creatinine_rise",
                 id="creatinine_rise a string"),
    pytest.param({"creatinine_rise": math.inf}, "settings.creatinine_rise",
                 id="creatinine_rise inf"),
    pytest.param({"listeria_until": "2026-05-01"}, "settings.listeria_until",
                 id="listeria_until is no longer a site setting (CLINICAL.md 1a (v2))"),
    pytest.param({"herpes_prophylaxis_drug": "famciclovir"}, "settings.herpes_prophylaxis_drug",
                 id="herpes_prophylaxis_drug unknown"),
    pytest.param({"cd4_before_next_course": "yes"}, "settings.cd4_before_next_course",
                 id="cd4_before_next_course not a boolean"),
    pytest.param({"reminder_time": "9am"}, "settings.reminder_time", id="reminder_time 9am"),
    pytest.param({"reminder_time": "25:00"}, "settings.reminder_time", id="reminder_time 25:00"),
    pytest.param({"quiet_hours": "21:00"}, "settings.quiet_hours", id="quiet_hours not a range"),
    pytest.param({"urgent_ack_hours": 0}, "settings.urgent_ack_hours", id="urgent_ack_hours 0"),
    pytest.param(["mri_yearly"], "settings", id="settings not an object"),
]


@pytest.mark.parametrize(("doc", "field"), BAD_SETTINGS)
def test_bad_settings(doc, field):
    raises_on(field, resolve_settings, doc, CONTENT)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        pytest.param("creatinine_rise", math.nan, id="creatinine_rise NaN"),
        pytest.param("lab_window_days", math.nan, id="lab_window_days NaN"),
        pytest.param("urgent_ack_hours", math.inf, id="urgent_ack_hours inf"),
    ],
)
def test_non_finite_number_settings_are_refused(name, value):
    """NaN compares false with min/max, so it must be refused on its own."""
    raises_on(f"settings.{name}", resolve_settings, {name: value}, CONTENT)


@pytest.mark.parametrize("name", ["lab_window_days", "creatinine_rise"])
def test_huge_integer_setting_is_an_input_error(name):
    raises_on(f"settings.{name}", resolve_settings, {name: 10**400}, CONTENT)


def test_setting_defaults_of_clinical_1a():
    settings = resolve_settings({}, CONTENT)
    assert settings["aciclovir_duration"] == "1 month"
    assert settings["antihistamine"] is True
    assert settings["skin_yearly"] is True
    assert settings["mri_yearly"] is True
    assert "listeria_until" not in settings  # a patient attribute in v2
    assert settings["herpes_prophylaxis_drug"] == "aciclovir"
    assert settings["cd4_before_next_course"] is True
    assert settings["creatinine_rise"] == 1.3
    assert settings["lab_window_days"] == 7
    assert settings["lab_escalate_days"] == 14
    assert settings["urgent_ack_hours"] == 4
    assert resolve_settings(None, CONTENT) == settings


def test_good_settings_are_parsed():
    settings = resolve_settings(
        {"aciclovir_duration": "until_cd4", "antihistamine": False, "lab_window_days": 3.0,
         "creatinine_rise": 1.5, "herpes_prophylaxis_drug": "valaciclovir", "cd4_before_next_course": False},
        CONTENT,
    )
    assert settings["aciclovir_duration"] == "until_cd4"
    assert settings["antihistamine"] is False
    assert settings["lab_window_days"] == 3 and isinstance(settings["lab_window_days"], int)
    assert settings["creatinine_rise"] == 1.5
    assert settings["herpes_prophylaxis_drug"] == "valaciclovir"
    assert settings["cd4_before_next_course"] is False
    assert settings["mri_yearly"] is True  # untouched default


# --- dates in range (CLINICAL.md section 1) ------------------------------------------------

@pytest.mark.parametrize(
    ("doc", "field"),
    [
        pytest.param({"courses": [{"infusions": ["2026-01-05", "2026-01-06", "9999-12-31"]}]},
                     "courses[0].infusions[2]", id="an infusion in 9999"),
        pytest.param({"courses": [{"infusions": ["2026-01-05"]}, {"infusions": ["0001-01-01"]}]},
                     "courses[1].infusions[0]", id="a second course in year 1"),
        pytest.param({"courses": [], "patient": {"sex": "female",
                                                 "pregnancies": [{"reported_on": "9999-01-01"}]}},
                     "patient.pregnancies[0].reported_on", id="a pregnancy reported in 9999"),
        pytest.param({"courses": [], "patient": {"sex": "female", "pregnancies": [
                         {"reported_on": "2026-01-01", "ended_on": "2101-01-01"}]}},
                     "patient.pregnancies[0].ended_on", id="a pregnancy ending after 2100"),
        pytest.param({"courses": [], "labs": [lab(), lab(taken_on="1899-12-31")]}, "labs[1].taken_on",
                     id="a lab taken before 1900"),
        pytest.param({"courses": [], "patient": {"listeria_until": "9999-12-31"}},
                     "patient.listeria_until", id="listeria_until in 9999"),
        pytest.param({"courses": [], "patient": {"listeria_until": "1899-12-31"}},
                     "patient.listeria_until", id="listeria_until before 1900"),
    ],
)
def test_dates_out_of_range_are_refused_naming_the_field(doc, field):
    raises_on(field, timeline_document, doc, CONTENT)


def test_dates_at_the_ends_of_the_range_are_accepted():
    doc = {
        "patient": {"sex": "female", "pregnancies": [{"reported_on": "1900-01-01", "ended_on": "2100-12-31"}],
                    "listeria_until": "2100-12-31"},
        "courses": [{"infusions": ["1900-01-01"]}, {"infusions": ["2100-12-31"]}],
        "labs": [lab(taken_on="1900-01-01"), lab(taken_on="2100-12-31")],
    }
    assert timeline_document(doc, CONTENT)["monitoring_ends"] == "2104-12-31"


# --- the timeline document (API.md section 1) -----------------------------------------------

BAD_DOCUMENTS = [
    pytest.param({"courses": [], "medications": []}, "medications",
                 id="unknown top-level field"),
    pytest.param({"courses": [], "answers": {}}, "answers",
                 id="a triage field in a timeline document"),
    pytest.param({"patient": {"sex": "female"}}, "courses", id="missing courses"),
    pytest.param({}, "courses", id="empty document"),
    pytest.param([], "(document)", id="document a list"),
    pytest.param({"courses": [{"infusions": ["2026-02-30"]}]}, "courses[0].infusions[0]",
                 id="impossible date inside the document"),
    pytest.param({"courses": [], "labs": [lab(analyte="hb")]}, "labs[0].analyte",
                 id="unknown analyte inside the document"),
    pytest.param({"courses": [], "patient": {"sex": "unknown"}}, "patient.sex",
                 id="bad sex inside the document"),
    pytest.param({"courses": [], "settings": {"colour": 1}}, "settings.colour",
                 id="unknown setting inside the document"),
]


@pytest.mark.parametrize(("doc", "field"), BAD_DOCUMENTS)
def test_bad_timeline_documents(doc, field):
    raises_on(field, timeline_document, doc, CONTENT)


def test_minimal_timeline_document():
    result = timeline_document({"courses": []}, CONTENT)
    assert set(result) >= {"items", "flags", "monitoring_ends"}
