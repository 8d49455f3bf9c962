"""Properties of the timeline over random valid treatment histories (hypothesis).

Histories: 1 to 4 courses (course 1 of 5 infusions, later ones of 3, each a year
or more after the previous one, sometimes interrupted), random patients, random
lab results around the treatment and random site settings. Then documents with
dates anywhere in the accepted range, its ends included (the engine never overflows).
"""

import dataclasses
from datetime import date, datetime, time, timedelta, timezone

from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from server.engine.content.loading import default_content
from server.engine.dates import FIRST_DATE, LAST_DATE, add_months
from server.engine.documents import timeline_document, triage_document
from server.engine.errors import InputError
from server.engine.inputs import (
    Patient,
    Pregnancy,
    check_courses,
    make_course,
    make_lab_result,
    parse_courses,
    parse_labs,
    parse_patient,
    resolve_settings,
)
from server.engine.reminders import _dates, _due_days, item_days, plan
from server.engine.timeline import _on_day, checklist_month, timeline

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
    statuses = st.sampled_from(["given", "planned"])
    courses = [make_course(draw(course_dates(first, 5)), draw(statuses))]
    for _ in range(draw(st.integers(0, max_courses - 1))):
        # Sometimes too soon (CLINICAL.md 2.3 course.too_soon): a planned course may be.
        gap = draw(st.integers(300, 700))
        courses.append(make_course(draw(course_dates(courses[-1].last + timedelta(days=gap), 3)), draw(statuses)))
    courses = check_courses(courses)
    sex = draw(st.sampled_from(["female", "male", "other"]))
    # Childbearing potential and pregnancies whatever the sex field says (CLINICAL.md 1, v2).
    childbearing = draw(st.booleans())
    pregnancies = ()
    if childbearing and draw(st.booleans()):
        reported = first + timedelta(days=draw(st.integers(0, 2000)))
        ended = draw(st.none() | st.just(reported + timedelta(days=draw(st.integers(0, 300)))))
        pregnancies = (Pregnancy(reported, ended),)
    patient = Patient(
        sex=sex,
        childbearing_potential=childbearing,
        breastfeeding=draw(st.booleans()),
        pregnancies=pregnancies,
        baseline={"platelets": draw(st.integers(120, 400)), "creatinine": draw(st.integers(40, 120))},
        cervical_screening=draw(st.none() | st.booleans()),
        listeria_until=draw(st.none() | st.dates(min_value=first, max_value=first + timedelta(days=1500))),
    )
    labs = []
    for _ in range(draw(st.integers(0, 30))):
        analyte = draw(st.sampled_from(["platelets", "platelets", "cd4", "creatinine", "tsh",
                                        "urine_blood", "alt", "neutrophils"]))
        if analyte == "urine_blood":
            value = draw(st.sampled_from(["positive", "negative"]))
        else:
            least, most = CONTENT.analytes[analyte].plausible
            value = draw(st.floats(least, min(most, 900), allow_nan=False).map(lambda v: round(v, 1)))
            value = min(max(value, least), most)
        taken = first + timedelta(days=draw(st.integers(-60, 2500)))
        labs.append(make_lab_result(analyte, value, taken, CONTENT))
    labs.sort(key=lambda r: r.taken_on)
    settings = resolve_settings(
        {
            "aciclovir_duration": draw(st.sampled_from(["1 month", "2 months", "until_cd4"])),
            "antihistamine": draw(st.booleans()),
            "skin_yearly": draw(st.booleans()),
            "mri_yearly": draw(st.booleans()),
            "herpes_prophylaxis_drug": draw(st.sampled_from(["aciclovir", "valaciclovir"])),
            "cd4_before_next_course": draw(st.booleans()),
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


@given(histories(), st.integers(-120, 2500), st.sampled_from([1, 8, 40]),
       st.sampled_from(["Europe/Madrid", "Pacific/Kiritimati", "Pacific/Pago_Pago"]))
def test_a_timeline_between_two_days_plans_what_the_whole_one_plans(history, offset, days, zone):
    """The reminder planner computes only the items touching its days (engine.reminders.item_days):
    they are the whole timeline's, and the reminders are the same, whatever the day and time zone."""
    patient, courses, labs, settings = history
    since = datetime.combine(courses[0].first + timedelta(days=offset), time(7, 30), tzinfo=timezone.utc)
    until = since + timedelta(days=days)
    between = item_days(zone, CONTENT, since, until)
    whole, part = timeline(*history, CONTENT), timeline(*history, CONTENT, between)
    low, high = between
    assert part.items == tuple(i for i in whole.items if i.on <= high and ((i.due or i.end) is None
                                                                         or (i.due or i.end) >= low))
    assert (part.findings, part.warnings, part.monitoring_ends) == (whole.findings, whole.warnings,
                                                                   whole.monitoring_ends)
    assert plan(part.items, zone, settings, CONTENT, since, until) == plan(whole.items, zone, settings, CONTENT,
                                                                           since, until)


def _reminder_steps():
    """Every reminder step of both protocols, and steps a month or two from their due date."""
    steps = [(code, tuple(s)) for content in (CONTENT, CONTENT.of("cll")) for code, s in content.reminders.items()]
    lab = CONTENT.reminders["lab.cbc"][0]
    steps.append(("months", (dataclasses.replace(lab, months=1, days=3), dataclasses.replace(lab, months=-2))))
    return steps


@given(st.sampled_from(_reminder_steps()), st.dates(min_value=date(2015, 1, 1), max_value=date(2040, 12, 31)))
def test_a_one_day_item_is_reminded_of_within_its_due_days(code_steps, due):
    """plan() skips a one-day item by _due_days: every day a step reminds of it is within them."""
    code, steps = code_steps
    before, after = _due_days(list(steps))
    item = _on_day(code, "lab", due)
    for step in steps:
        for day in _dates(step, item, due - timedelta(days=400), due + timedelta(days=400)):
            assert -before <= (day - due).days <= after


@given(histories())
def test_no_item_starts_more_than_90_days_before_the_first_infusion(history):
    """CLINICAL.md 2.1 appt.pre_course_workup (v2): the earliest item opens F_1 - 90 days."""
    patient, courses, labs, settings = history
    earliest = courses[0].first - timedelta(days=90)
    assert all(item.date >= earliest for item in timeline(*history, CONTENT).items)


@given(histories())
def test_warnings_are_on_planned_courses_only(history):
    """CLINICAL.md 2.3 (v2): a warning names a planned course; given courses never warn."""
    patient, courses, labs, settings = history
    for warning in timeline(*history, CONTENT).warnings:
        assert courses[warning.course - 1].status == "planned", warning


@given(histories())
def test_blocks_cover_every_infusion(history):
    """CLINICAL.md 2.1 diet.bland and safety.post_infusion (v2: per block): every
    infusion day is in one bland-diet window of its course, and the windows of a
    course do not overlap."""
    patient, courses, labs, settings = history
    items = timeline(*history, CONTENT).items
    for k, course in enumerate(courses, 1):
        bland = sorted((i.start, i.end) for i in items if i.code == "diet.bland" and i.course == k)
        for day in course.infusions:
            assert sum(start <= day <= end for start, end in bland) == 1, (day, bland)
        assert (bland[0][0], bland[-1][1]) == (course.first, course.last)


@given(histories(max_courses=3), st.integers(365, 800), st.sampled_from([3, 5]))
def test_a_later_course_never_shortens_monitoring_or_removes_a_past_item(history, gap, days):
    patient, courses, labs, settings = history
    before = timeline(patient, courses, labs, settings, CONTENT)
    start = courses[-1].last + timedelta(days=gap)
    longer = check_courses([*courses, make_course([start + timedelta(days=i) for i in range(days)])])
    after = timeline(patient, longer, labs, settings, CONTENT)

    assert after.monitoring_ends > before.monitoring_ends
    # "Past": over before the new course's work-up window opens (F_new - 90 days,
    # CLINICAL.md 2.1 appt.pre_course_workup (v2)), and not the listeria window the
    # patient's listeria_until extends (that follows her latest course, 2.1 (v2)).
    past = start - timedelta(days=90)
    after_items = set(after.items)
    for item in before.items:
        finished = item.due if item.due is not None else item.end
        if finished is not None and finished < past and item.code != "diet.listeria":
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


# --- the whole accepted range (CLINICAL.md section 1, "Dates in range") ----------------------
#
# Every date a person enters lies in 1900-01-01..2100-12-31 and the engine refuses the rest
# (dates.parse_date). Within that range it must never overflow: documents with courses,
# pregnancies, labs and settings at the extremes give an answer, or an InputError and
# nothing else, from the command line's documents and from reminder planning.

#: the ends of the range, and the days around them where month and leap arithmetic turns
EDGES = sorted({
    FIRST_DATE, FIRST_DATE + timedelta(days=1), date(1900, 1, 31), date(1900, 2, 28), date(1900, 12, 31),
    date(2000, 2, 29), date(2100, 1, 31), date(2100, 2, 28), add_months(LAST_DATE, -1),
    LAST_DATE - timedelta(days=1), LAST_DATE,
})
ZONES = ["UTC", "Europe/Madrid", "Pacific/Kiritimati", "Pacific/Pago_Pago", "America/St_Johns"]


def any_date() -> st.SearchStrategy[date]:
    """A date of the accepted range, at or near its ends about half the time."""
    return st.one_of(st.sampled_from(EDGES), st.dates(min_value=FIRST_DATE, max_value=LAST_DATE))


@st.composite
def accepted_documents(draw, dates: st.SearchStrategy[date] | None = None) -> dict:
    """A timeline document the engine accepts, with dates anywhere in the range
    (or drawn from ``dates``)."""
    dates = any_date() if dates is None else dates
    # Courses: sorted distinct days cut into runs, so that no two courses overlap.
    days = sorted(set(draw(st.lists(dates, max_size=12))))
    cuts = sorted(set(draw(st.lists(st.integers(1, max(1, len(days) - 1)), max_size=4))))
    runs = [days[a:b] for a, b in zip([0, *cuts], [*cuts, len(days)]) if days[a:b]]
    courses = [{"infusions": [d.isoformat() for d in draw(st.permutations(run))],
                "status": draw(st.sampled_from(["given", "planned"]))} for run in runs]
    sex = draw(st.sampled_from(["female", "male", "other"]))
    listeria = draw(st.none() | dates)
    patient = {"sex": sex, "timezone": draw(st.sampled_from(ZONES)),
               "childbearing_potential": draw(st.booleans()),
               "cervical_screening": draw(st.none() | st.booleans()),
               "listeria_until": None if listeria is None else listeria.isoformat(),
               "baseline": {"platelets": draw(st.integers(0, 900)), "creatinine": draw(st.integers(1, 900))}}
    if draw(st.booleans()):
        pregnancies = []
        for reported in draw(st.lists(dates, max_size=3)):
            ended = draw(st.none() | dates.filter(lambda d, r=reported: d >= r))
            pregnancies.append({"reported_on": reported.isoformat(),
                                "ended_on": None if ended is None else ended.isoformat()})
        patient["pregnancies"] = pregnancies
    labs = []
    for _ in range(draw(st.integers(0, 8))):
        analyte = draw(st.sampled_from(sorted(CONTENT.analytes)))
        if CONTENT.analytes[analyte].kind == "number":
            least, most = CONTENT.analytes[analyte].plausible  # beyond: refused (CLINICAL.md 4.1)
            value = draw(st.floats(least, most, allow_nan=False))
        else:
            value = draw(st.sampled_from(["positive", "negative"]))
        labs.append({"analyte": analyte, "value": value, "taken_on": draw(dates).isoformat()})
    settings = {"aciclovir_duration": draw(st.sampled_from(["1 month", "2 months", "until_cd4"])),
                "herpes_prophylaxis_drug": draw(st.sampled_from(["aciclovir", "valaciclovir"]))}
    return {"patient": patient, "courses": courses, "labs": labs, "settings": settings}


@hypothesis_settings(max_examples=200, deadline=None)
@given(accepted_documents())
def test_the_timeline_of_any_accepted_document_never_overflows(doc):
    answer = timeline_document(doc, CONTENT)
    assert set(answer) >= {"items", "flags", "monitoring_ends"}


@hypothesis_settings(max_examples=200, deadline=None)
@given(accepted_documents(st.one_of(any_date(), st.dates())))
def test_a_date_of_any_year_gives_a_timeline_or_an_input_error(doc):
    """Years 1 to 9999 (all that JSON's YYYY-MM-DD can say): outside the range, the
    document is refused naming a date field; nothing else is ever raised."""
    try:
        timeline_document(doc, CONTENT)
    except InputError as exc:
        assert "is outside 1900-01-01..2100-12-31" in exc.problem, exc


@hypothesis_settings(max_examples=200, deadline=None)
@given(accepted_documents(), any_date(), st.data())
def test_triage_and_the_checklist_month_on_any_accepted_day_never_overflow(doc, day, data):
    questions = [q.code for q in CONTENT.questions]
    answers = data.draw(st.dictionaries(st.sampled_from(questions), st.booleans(), max_size=6))
    triage_doc = {"patient": doc["patient"], "courses": doc["courses"], "answered_on": day.isoformat(),
                  "answers": answers}
    try:
        triage_document(triage_doc, CONTENT)
    except InputError as exc:  # a question this patient is not asked (male: menstrual bleeding)
        assert exc.problem == "this question is not asked of this patient", exc
    checklist_month(parse_courses(doc["courses"]), day, 7, CONTENT)


@hypothesis_settings(max_examples=150, deadline=None)
@given(accepted_documents(), st.data())
def test_reminders_around_any_item_of_an_accepted_document_never_overflow(doc, data):
    patient = parse_patient(doc["patient"], CONTENT)
    result = timeline(patient, parse_courses(doc["courses"]), parse_labs(doc["labs"], CONTENT),
                      resolve_settings(doc["settings"], CONTENT), CONTENT)
    days = [d for item in result.items for d in (item.due, item.start, item.end) if d is not None]
    around = data.draw(st.sampled_from(days) if days else any_date())
    since = datetime.combine(around, time(), tzinfo=timezone.utc) + timedelta(
        hours=data.draw(st.integers(-48, 48)))
    plan(result.items, patient.timezone, resolve_settings(doc["settings"], CONTENT), CONTENT,
         since, since + timedelta(days=2))


# --- units (CLINICAL.md 4.1, v2) --------------------------------------------------------------
#
# A result converted to another accepted unit and recorded in it flags exactly as in the
# canonical unit; and whatever a person types as a unit or a value, the engine answers or
# refuses with its InputError, never anything else.

NUMBER_ANALYTES = sorted(code for code, a in CONTENT.analytes.items() if a.kind == "number")


@st.composite
def canonical_results(draw):
    """(analyte, value, ref_low, ref_high) in the canonical unit, with the few decimals labs print."""
    analyte = draw(st.sampled_from(NUMBER_ANALYTES))
    least, most = CONTENT.analytes[analyte].plausible
    decimals = draw(st.integers(0, 3))

    def number():
        return draw(st.integers(int(least * 10 ** decimals), int(most * 10 ** decimals))) / 10 ** decimals

    value = number()
    limits = sorted([number(), number()])
    ref_low, ref_high = draw(st.sampled_from([(None, None), (limits[0], None), (None, limits[1]), tuple(limits)]))
    return analyte, value, ref_low, ref_high


def _spelled(draw, spelling: str) -> str:
    """``spelling`` as a person might type it: any letter case, µ or μ for u."""
    out = []
    for char in spelling:
        if char == "u":
            char = draw(st.sampled_from(["u", "U", "\u00b5", "\u03bc"]))
        elif char.isalpha():
            char = draw(st.sampled_from([char.lower(), char.upper()]))
        out.append(char)
    return "".join(out)


@hypothesis_settings(max_examples=300, deadline=None)
@given(canonical_results(), st.data())
def test_a_result_in_another_accepted_unit_flags_the_same(result, data):
    from server.engine.labs import evaluate
    from server.engine.units import from_canonical

    analyte, value, ref_low, ref_high = result
    spelling, factor = data.draw(st.sampled_from(CONTENT.analytes[analyte].units))
    baseline = data.draw(st.sampled_from([{}, {analyte: value * 1.5}, {analyte: value / 1.5 or 1}]))
    settings = resolve_settings({}, CONTENT)
    day = date(2026, 5, 1)

    def flags(v, low, high, unit):
        recorded = make_lab_result(analyte, v, day, CONTENT, low, high, unit=unit)
        return recorded, [(f.rule, f.level) for f in evaluate(recorded, baseline, settings, CONTENT)]

    def there(v):
        return None if v is None else from_canonical(v, factor)

    canonical, expected = flags(value, ref_low, ref_high, None)
    converted, got = flags(there(value), there(ref_low), there(ref_high), _spelled(data.draw, spelling))
    assert got == expected
    assert (converted.value, converted.ref_low, converted.ref_high) == (value, ref_low, ref_high)
    assert converted.unit == canonical.unit == CONTENT.analytes[analyte].unit
    assert converted.unit_as_recorded == spelling


ANY_UNIT = st.one_of(
    st.none(), st.text(max_size=12), st.integers(), st.floats(), st.booleans(), st.lists(st.text(), max_size=2),
    st.sampled_from(sorted({u for a in CONTENT.analytes.values() for u, _ in a.units})),
)
ANY_VALUE = st.one_of(st.none(), st.floats(), st.integers(-10**20, 10**20), st.text(max_size=10), st.booleans(),
                      st.sampled_from(["positive", "NEGATIVE", "trace", "<0.01"]))


@hypothesis_settings(max_examples=300, deadline=None)
@given(st.lists(st.fixed_dictionaries(
    {"analyte": st.sampled_from(sorted(CONTENT.analytes)), "value": ANY_VALUE, "taken_on": st.just("2026-05-01")},
    optional={"unit": ANY_UNIT, "ref_low": ANY_VALUE, "ref_high": ANY_VALUE}), min_size=1, max_size=4),
    st.fixed_dictionaries({}, optional={"platelets": st.floats(0, 2000), "creatinine": st.floats(0, 3000)}))
def test_no_unit_or_value_makes_the_engine_raise_anything_but_its_input_error(labs, baseline):
    doc = {"patient": {"baseline": baseline}, "courses": [{"infusions": ["2026-01-05", "2026-01-06"]}],
           "labs": labs}
    try:
        answer = timeline_document(doc, CONTENT)
    except InputError as exc:
        assert exc.field.startswith("labs[") or exc.field.startswith("patient.baseline"), exc
        return
    for flag in answer["flags"]:  # a number's flag says its canonical unit; a positive/negative one has none
        assert flag.get("unit") == CONTENT.analytes[flag["analyte"]].unit
