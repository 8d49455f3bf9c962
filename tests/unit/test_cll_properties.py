"""Properties of the CLL timeline (CLINICAL.md section 7) over random histories (hypothesis).

Histories: 1 to 3 courses of 1 to 40 administration dates, IV or SC, doses held
at random, each course after the previous one; random CD4, CMV, neutrophil and
platelet results around them; random site settings of section 7.
"""

from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from server.engine.content.loading import default_content
from server.engine.inputs import Dose, Patient, check_courses, make_course, make_lab_result, resolve_settings
from server.engine.reminders import item_days, plan
from server.engine.timeline import checklist_period, monitoring_end, timeline

CONTENT = default_content()
CLL = CONTENT.of("cll")
SERIES_CODES = {item.code for item in CLL.items if item.scope == "series"}


@st.composite
def course(draw, start: date):
    route = draw(st.sampled_from(["iv", "sc"]))
    days = [start]
    for _ in range(draw(st.integers(0, 39))):
        days.append(days[-1] + timedelta(days=draw(st.sampled_from([1, 2, 2, 2, 3, 5, 9]))))
    mg = [draw(st.sampled_from([3, 10, 30, 30, 30, 40])) for _ in days]
    status = draw(st.sampled_from(["given", "planned"]))
    return make_course(days, status, doses=[Dose(m, route) for m in mg])


@st.composite
def histories(draw):
    first = draw(st.dates(min_value=date(2015, 1, 1), max_value=date(2032, 12, 31)))
    courses = [draw(course(first))]
    for _ in range(draw(st.integers(0, 2))):
        courses.append(draw(course(courses[-1].last + timedelta(days=draw(st.integers(30, 500))))))
    courses = check_courses(courses)
    labs = []
    for _ in range(draw(st.integers(0, 25))):
        analyte = draw(st.sampled_from(["cd4", "cd4", "cmv_pcr", "neutrophils", "platelets"]))
        value = {"cd4": st.integers(0, 900), "cmv_pcr": st.sampled_from([0, 0, 300, 800, 20000]),
                 "neutrophils": st.sampled_from([0.1, 0.24, 0.25, 0.6, 2.0]),
                 "platelets": st.sampled_from([10, 25, 26, 150])}[analyte]
        taken = first + timedelta(days=draw(st.integers(-60, 1200)))
        labs.append(make_lab_result(analyte, draw(value), taken, CONTENT))
    labs.sort(key=lambda r: r.taken_on)
    patient = Patient(protocol="cll", sex=draw(st.sampled_from(["female", "male", "other"])),
                      childbearing_potential=draw(st.booleans()))
    settings = resolve_settings({"cll_prophylaxis_months": draw(st.integers(2, 12)),
                                 "cmv_after_course_weeks": draw(st.integers(0, 12))}, CONTENT)
    return patient, courses, tuple(labs), settings


@given(histories())
def test_items_are_sorted(history):
    keys = [(item.date, item.code) for item in timeline(*history, CONTENT).items]
    assert keys == sorted(keys)


@given(histories())
def test_same_input_same_output(history):
    assert timeline(*history, CONTENT) == timeline(*history, CONTENT)


@given(histories())
def test_nothing_before_the_first_dose_but_the_screening_and_live_vaccines(history):
    """7.2: appt.hbv_screen opens F_1 - 30 days; only vaccine.live_avoid starts earlier
    (F_k - 42 days, "as in 2.1")."""
    patient, courses, labs, settings = history
    first = courses[0].first
    for item in timeline(*history, CONTENT).items:
        limit = 42 if item.code == "vaccine.live_avoid" else 30
        assert item.date >= first - timedelta(days=limit), item


@given(histories())
def test_series_lie_inside_monitoring(history):
    """7.2: monitoring ends on the latest item (an open window by its start), so every
    series date is on or before it; with no results it is monitoring_end()'s."""
    patient, courses, labs, settings = history
    result = timeline(*history, CONTENT)
    for item in result.items:
        if item.code in SERIES_CODES:
            assert courses[0].first < item.due <= result.monitoring_ends, item
        assert (item.due or item.end or item.start) <= result.monitoring_ends
    assert result.monitoring_ends == max(item.due or item.end or item.start for item in result.items)
    if settings["cmv_after_course_weeks"] <= 8:
        plain = timeline(patient, courses, (), resolve_settings({}, CONTENT), CONTENT)
        assert plain.monitoring_ends == monitoring_end(courses, CLL)


@given(histories())
def test_series_follow_their_course(history):
    """7.2: weekly series start F_k + 7 days; lab.cd4 stops at the first CD4 >= 200 after L_k."""
    patient, courses, labs, settings = history
    items = timeline(*history, CONTENT).items
    for k, c in enumerate(courses, 1):
        cmv = [i.due for i in items if i.code == "lab.cmv_pcr" and i.course == k]
        until = c.last + timedelta(weeks=settings["cmv_after_course_weeks"])
        if c.first + timedelta(days=7) > until:  # a short course, and no weeks after it
            assert cmv == []
        else:
            assert cmv[0] == c.first + timedelta(days=7) and cmv[-1] <= until
        recovered = [r.taken_on for r in labs if r.analyte == "cd4" and r.value >= 200 and r.taken_on > c.last]
        cd4 = [i.due for i in items if i.code == "lab.cd4" and i.course == k]
        if recovered:
            assert all(day <= recovered[0] for day in cd4)
        else:
            assert len(cd4) == 24


@given(histories(), st.integers(-40, 900))
def test_checklist_period_agrees_with_the_timeline(history, offset):
    patient, courses, labs, settings = history
    day = courses[0].first + timedelta(days=offset)
    rule = next(r for r in CLL.items if r.kind == "checklist")
    expected = (0, None)
    for item in timeline(*history, CONTENT).items:
        if item.code == rule.code and item.due - timedelta(days=rule.window_before_days) <= day:
            expected = (item.month, item.due)
    # Series dates depend on the settings only through labs and weeks that the checklist does not read.
    assert checklist_period(courses, day, rule.window_before_days, CLL) == expected


@given(histories())
def test_reminders_plan_without_error(history):
    from datetime import datetime, timezone
    patient, courses, labs, settings = history
    items = timeline(*history, CONTENT).items
    now = datetime.combine(courses[0].first, datetime.min.time(), tzinfo=timezone.utc)
    planned = plan(items, "Europe/Brussels", settings, CLL, now, now + timedelta(days=120))
    assert all(row.at >= now - timedelta(days=1) for row in planned)


@given(histories(), st.integers(-40, 400), st.sampled_from([1, 8, 40]))
def test_a_timeline_between_two_days_plans_what_the_whole_one_plans(history, offset, days):
    """As for MS (tests/unit/test_properties.py): the planner's days of a CLL timeline."""
    from datetime import datetime, timezone
    patient, courses, labs, settings = history
    since = datetime.combine(courses[0].first + timedelta(days=offset), datetime.min.time(), tzinfo=timezone.utc)
    until = since + timedelta(days=days)
    between = item_days("Europe/Brussels", CLL, since, until)
    whole, part = timeline(*history, CONTENT), timeline(*history, CONTENT, between)
    low, high = between
    assert part.items == tuple(i for i in whole.items if i.on <= high and ((i.due or i.end) is None
                                                                         or (i.due or i.end) >= low))
    assert part.monitoring_ends == whole.monitoring_ends
    assert plan(part.items, "Europe/Brussels", settings, CLL, since, until) == plan(
        whole.items, "Europe/Brussels", settings, CLL, since, until)
