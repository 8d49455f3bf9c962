"""Properties of the timeline over random valid treatment histories (hypothesis).

Histories: 1 to 4 courses (course 1 of 5 infusions, later ones of 3, each a year
or more after the previous one, sometimes interrupted), random patients, random
lab results around the treatment and random site settings.
"""

from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from server.engine.inputs import (
    Patient,
    Pregnancy,
    check_courses,
    make_course,
    make_lab_result,
    resolve_settings,
)
from server.engine.protocol import default_content
from server.engine.timeline import timeline

CONTENT = default_content()
MONITORING_CODES = {item.code for item in CONTENT.items if item.scope == "monitoring"}


@st.composite
def course_dates(draw, start: date, infusions: int) -> list[date]:
    """``infusions`` days from ``start``, usually consecutive, sometimes interrupted."""
    days = [start]
    for _ in range(infusions - 1):
        gap = draw(st.sampled_from([1, 1, 1, 1, 2, 3, 14, 21]))
        days.append(days[-1] + timedelta(days=gap))
    return days


@st.composite
def histories(draw, max_courses: int = 4):
    first = draw(st.dates(min_value=date(2015, 1, 1), max_value=date(2032, 12, 31)))
    courses = [make_course(draw(course_dates(first, 5)))]
    for _ in range(draw(st.integers(0, max_courses - 1))):
        gap = draw(st.integers(365, 700))
        courses.append(make_course(draw(course_dates(courses[-1].last + timedelta(days=gap), 3))))
    courses = check_courses(courses)
    sex = draw(st.sampled_from(["female", "male", "other"]))
    pregnancies = ()
    if sex == "female" and draw(st.booleans()):
        reported = first + timedelta(days=draw(st.integers(0, 2000)))
        ended = draw(st.none() | st.just(reported + timedelta(days=draw(st.integers(0, 300)))))
        pregnancies = (Pregnancy(reported, ended),)
    patient = Patient(
        sex=sex,
        childbearing_potential=sex == "female" and draw(st.booleans()),
        breastfeeding=draw(st.booleans()),
        pregnancies=pregnancies,
        baseline={"platelets": draw(st.integers(120, 400)), "creatinine": draw(st.integers(40, 120))},
    )
    labs = []
    for _ in range(draw(st.integers(0, 30))):
        analyte = draw(st.sampled_from(["platelets", "platelets", "cd4", "creatinine", "tsh",
                                        "urine_blood", "alt", "neutrophils"]))
        if analyte == "urine_blood":
            value = draw(st.sampled_from(["positive", "negative"]))
        else:
            value = draw(st.floats(0, 900, allow_nan=False).map(lambda v: round(v, 1)))
        taken = first + timedelta(days=draw(st.integers(-60, 2500)))
        labs.append(make_lab_result(analyte, value, taken, CONTENT))
    labs.sort(key=lambda r: r.taken_on)
    settings = resolve_settings(
        {
            "aciclovir_duration": draw(st.sampled_from(["1 month", "2 months", "until_cd4"])),
            "antihistamine": draw(st.booleans()),
            "skin_yearly": draw(st.booleans()),
            "mri_yearly": draw(st.booleans()),
            "listeria_until": draw(st.none() | st.dates(min_value=first, max_value=first + timedelta(days=1500)).map(date.isoformat)),
        },
        CONTENT,
    )
    return patient, courses, tuple(labs), settings


@given(histories())
def test_items_are_sorted(history):
    items = timeline(*history, CONTENT).items
    keys = [(item.date, item.code) for item in items]
    assert keys == sorted(keys)


@given(histories())
def test_every_series_ends_on_or_before_monitoring_ends(history):
    result = timeline(*history, CONTENT)
    for item in result.items:
        if item.code in MONITORING_CODES:
            assert item.due <= result.monitoring_ends, item
        if item.code == "vaccine.flu":
            # A flu window may run to 31 December of the year monitoring ends in
            # (CLINICAL.md 2.2 sets its end); it may not start after it.
            assert item.start <= result.monitoring_ends, item


@given(histories())
def test_same_input_same_output(history):
    assert timeline(*history, CONTENT) == timeline(*history, CONTENT)


@given(histories())
def test_no_item_starts_more_than_30_days_before_the_first_infusion(history):
    patient, courses, labs, settings = history
    earliest = courses[0].first - timedelta(days=30)
    assert all(item.date >= earliest for item in timeline(*history, CONTENT).items)


@given(histories(max_courses=3), st.integers(365, 800), st.sampled_from([3, 5]))
def test_a_later_course_never_shortens_monitoring_or_removes_a_past_item(history, gap, days):
    patient, courses, labs, settings = history
    before = timeline(patient, courses, labs, settings, CONTENT)
    start = courses[-1].last + timedelta(days=gap)
    longer = check_courses([*courses, make_course([start + timedelta(days=i) for i in range(days)])])
    after = timeline(patient, longer, labs, settings, CONTENT)

    assert after.monitoring_ends > before.monitoring_ends
    # "Past": over before the new course's work-up window opens (F_new - 30 days).
    past = start - timedelta(days=30)
    after_items = set(after.items)
    for item in before.items:
        finished = item.due if item.due is not None else item.end
        if finished is not None and finished < past:
            assert item in after_items, item
    # Every monthly series now reaches the new end of monitoring.
    last_cbc = max(item.due for item in after.items if item.code == "checklist.monthly")
    assert last_cbc > before.monitoring_ends


@given(histories(), st.integers(-60, 4000))
def test_checklist_month_is_the_latest_opened_checklist_item(history, offset):
    """checklist_month() picks the period without the timeline; it must agree with it."""
    from server.engine.timeline import checklist_month

    patient, courses, labs, settings = history
    day = courses[0].first + timedelta(days=offset)
    opens = 7
    expected = (0, None)
    for item in timeline(*history, CONTENT).items:
        if item.code == "checklist.monthly" and item.due - timedelta(days=opens) <= day:
            expected = (item.month, item.due)
    assert checklist_month(courses, day, opens, CONTENT) == expected
