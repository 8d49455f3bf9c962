"""The patient's and the family's app as they use it every month (issue 16, points 4, 5, 7),
in Debian's Chromium at phone width.

- Lab results: a value entered with the keyboard only, a typo refused in plain words, a
  result in mg/dL, a correction, "I had this test" (sample taken) from Today, and Today
  current after each save; the trend chart has a time axis and a table of values.
- The timeline reaches the end of monitoring (no silent cut) and a month reads as an
  agenda with weekdays at 320 px.
- Family: the patient invites, the family member signs up and sees the shared reminders
  grouped by today / this week / later with whom to call; the patient changes what they
  see and removes them.
- Every screen in English, Spanish, German and Italian, light and dark: screenshots under
  tests/e2e/screenshots/ (appb-*), axe-core with no serious or critical violation, a name
  on every control, nothing wider than the screen.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from server.db import database

from .conftest import PASSWORD, SCREENSHOTS, screenshot
from .test_accessibility import serious
from .test_patient_v2_screens import unnamed_controls

LANGUAGES = ("en", "es", "de", "it")
PHONE = {"width": 390, "height": 844}
NARROW = {"width": 320, "height": 640}
LAPTOP = {"width": 1366, "height": 768}


def make_patient(live, name: str, months_ago: int = 14, second_course: bool = False) -> tuple[int, str]:
    """A patient of the test's own clinic ``months_ago`` months and 3 days after her first course (and
    with ``second_course``, a second one 2 months ago), no results yet."""
    from server.engine.dates import add_months
    from server.models import Clinic, User
    from server.services import accounts, patients
    from server.timeutil import local_today, utcnow

    app = live.app
    with app.app_context():
        session = database(app).sessions()
        try:
            now = utcnow()
            # A clinic of their own: the flags their results raise stay out of other tests' queues.
            clinic = session.scalar(select(Clinic).where(Clinic.name == "Appb Hospital"))
            if clinic is None:
                clinic = Clinic(name="Appb Hospital", phone="+39 06 0000 0000", emergency_number="112", settings={})
                session.add(clinic)
                session.flush()
                session.add(User(email="nurse@appb.e2e.test", role="nurse", clinic_id=clinic.id,
                                 password_hash=accounts.hasher(app.config).hash(PASSWORD)))
                session.flush()
            nurse = session.scalar(select(User).where(User.email == "nurse@appb.e2e.test"))
            patient, _, _ = patients.create_patient(session, clinic, {
                "display_name": name.title(), "sex": "female", "childbearing_potential": False,
                "breastfeeding": False, "timezone": "Europe/Madrid", "language": "en",
                "baseline": {"platelets": 250}}, nurse, now, app.config)
            today = local_today("Europe/Madrid", now)
            first = add_months(today, -months_ago) - timedelta(days=3)
            patients.add_course(patient, [first + timedelta(days=i) for i in range(5)], "given", nurse, now)
            if second_course:
                second = add_months(today, -2)
                patients.add_course(patient, [second + timedelta(days=i) for i in range(3)], "given", nurse, now)
            email = f"appb-{name}@e2e.test"
            session.add(User(email=email, role="patient", clinic_id=clinic.id, patient_id=patient.id,
                             password_hash=accounts.hasher(app.config).hash(PASSWORD)))
            session.commit()
            return patient.id, email
        finally:
            session.close()


def sign_in(page, email: str) -> None:
    page.goto("/")
    page.locator("#email").fill(email)
    page.locator("#password").fill(PASSWORD)
    page.locator("button[type='submit']").click()
    page.wait_for_selector("nav a[href='#/logout']")


def ready(page) -> None:
    page.wait_for_function("document.querySelector('main h1') && !document.querySelector('main .loading')")
    page.wait_for_load_state("networkidle")


def fits(page) -> None:
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"{page.url} is {overflow} px too wide"


def todo_codes(page) -> str:
    return page.locator("#due-title + ul.todo").inner_text() if page.locator("#due-title + ul.todo").count() else ""


def test_lab_results_from_the_keyboard_a_refused_typo_mg_dl_a_correction_and_sample_taken(browser, live):
    _, email = make_patient(live, "labs-journey", months_ago=1)  # the first monthly tests were due 3 days ago
    context = browser.new_context(base_url=live.url, viewport=PHONE)
    page = context.new_page()
    try:
        sign_in(page, email)
        # Today: the monthly tests due now, each with what to do about it.
        page.locator("#due-title").wait_for()
        todo = page.locator("ul.todo > li")
        urine = todo.filter(has_text="Urine")
        assert urine.get_by_role("link", name="I had this test").count() == 1
        assert urine.get_by_role("link", name="Record a result").count() == 1
        assert todo.filter(has_text="checklist").get_by_role("link", name="Answer the checklist").count() == 1
        assert "blood count" in todo_codes(page).lower()
        screenshot(page, "appb-journey-today-before")

        # "I had this test": the urine sample is taken, its result still to come.
        urine.get_by_role("link", name="I had this test").click()
        page.locator("#sample-form").wait_for()
        assert page.locator("#sample-form input[value='lab.urinalysis']").is_checked()
        page.get_by_role("button", name="Save: sample taken").click()
        saved = page.locator("section.saved")
        saved.wait_for()
        assert "sample taken, result to come" in saved.inner_text()
        saved.get_by_role("link", name="Back to Today").click()
        page.locator("#due-title").wait_for()
        ready(page)
        assert "Urine" not in todo_codes(page) and "blood count" in todo_codes(page).lower()

        # Keyboard only: the date, then the platelet count, a typo, refused in words; fixed; saved.
        page.goto("/#/labs")
        page.locator("#taken_on").wait_for()
        page.locator("#taken_on").focus()
        for _ in range(4):  # through the date's day, month and year, to the first value
            page.keyboard.press("Tab")
            if page.evaluate("document.activeElement.id") != "taken_on":
                break
        assert page.evaluate("document.activeElement.id") == "v-platelets"
        page.keyboard.type("8800")
        page.keyboard.press("Enter")
        alert = page.get_by_role("alert")
        alert.wait_for()
        assert "8,800 × 10⁹/L cannot be right" in alert.inner_text() and "Nothing was saved" in alert.inner_text()
        assert page.evaluate("document.activeElement.id") == "v-platelets"
        assert page.locator("#v-platelets").get_attribute("aria-invalid") == "true"
        screenshot(page, "appb-journey-labs-refused")
        page.keyboard.press("Control+A")
        page.keyboard.type("188")
        page.keyboard.press("Tab")  # to the unit, kept as printed
        page.keyboard.press("Tab")  # neutrophils
        page.keyboard.press("Tab")
        page.keyboard.press("Tab")  # lymphocytes
        page.keyboard.press("Tab")
        page.keyboard.press("Tab")  # creatinine
        assert page.evaluate("document.activeElement.id") == "v-creatinine"
        page.keyboard.type("1,1")  # a decimal comma reads as well as a point
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.id") == "u-creatinine"
        page.keyboard.press("ArrowDown")  # mg/dL, as the lab printed it
        assert page.locator("#u-creatinine").input_value() == "mg/dL"
        page.locator("#lab-form button[type='submit']").focus()
        page.keyboard.press("Enter")
        saved = page.locator("section.saved")
        saved.wait_for()
        text = saved.inner_text()
        assert "188 × 10⁹/L" in text and "1.1 mg/dL" in text
        screenshot(page, "appb-journey-labs-saved")
        listed = page.locator("ul.results").inner_text()
        assert "1.1 mg/dL (= 97.262 µmol/L)" in listed

        # The chart: points by date on a time axis, and the values with units beside it.
        figure = page.locator("figure.chart", has_text="Platelets")
        assert figure.locator("svg.trend .point").count() == 1
        assert re.search(r"\d{4}", " ".join(figure.locator("svg.trend text").all_text_contents()))  # a dated axis
        assert "188 × 10⁹/L" in figure.locator("table.values").inner_text()
        assert "150–400" in figure.locator("figcaption").inner_text()
        creatinine = page.locator("figure.chart", has_text="Creatinine").locator("figcaption").inner_text()
        assert "up to 110" in creatinine and "–110" not in creatinine.replace("up to 110", "")

        # Today is current at once: the blood count is done.
        page.goto("/#/")
        page.locator("#due-title").wait_for()
        ready(page)
        assert "blood count" not in todo_codes(page).lower()

        # A correction of her own result: the value as the report prints it, with the reason.
        page.goto("/#/labs")
        row = page.locator("li[data-result]", has_text="Creatinine")
        row.get_by_role("button", name="Correct").click()
        row.locator("input[id^='value-']").fill("0.9")
        row.get_by_label("Why? (required)").fill("I read the line above")
        row.get_by_role("button", name="Save correction").click()
        page.get_by_text("Correction saved.").wait_for()
        listed = page.locator("ul.results").inner_text()
        assert "0.9 mg/dL" in listed and "1.1 mg/dL" not in listed
        assert serious(page) == [] and unnamed_controls(page) == []
        fits(page)
    finally:
        context.close()


def test_the_timeline_reaches_the_end_of_monitoring_and_a_month_is_an_agenda(browser, live):
    pid, email = make_patient(live, "timeline-journey", second_course=True)
    context = browser.new_context(base_url=live.url, viewport=PHONE)
    page = context.new_page()
    try:
        sign_in(page, email)
        # Today: a window two courses opened is one line; months of overdue tests are one line with the action.
        page.locator("#running-title").wait_for()
        assert page.locator("#running-title + ul > li", has_text="No live vaccines").count() == 1
        cbc = page.locator("ul.todo > li", has_text="Blood count")
        assert cbc.count() == 1 and "overdue" in cbc.inner_text()
        cbc.get_by_role("link", name="I had this test").click()
        page.locator("#sample-on-hint").wait_for()  # the form opens on the overdue test's day
        assert page.locator("#sample_on").input_value() < page.locator("#taken_on").input_value()
        screenshot(page, "appb-journey-sample-overdue")
        body = page.evaluate(f"fetch('/api/v1/patients/{pid}/timeline').then(r => r.json())")
        ends = body["monitoring_ends"]
        page.goto("/#/timeline/list/period=all")
        page.locator("#period").wait_for()
        more = page.get_by_role("button", name="Show the next 12 months")
        for _ in range(10):  # four years and the months since the first course
            if not more.count():
                break
            more.click()
        assert more.count() == 0
        assert page.get_by_role("status").filter(has_text="That is all").inner_text() \
            == f"That is all: {len(body['items'])} items."
        assert page.locator(".months ul.items > li").count() == len(body["items"])
        last_month = page.locator(".months h2").last.inner_text()
        assert ends[:4] in last_month  # the last month shown is the one monitoring ends in
        assert body["items"][-1]["due"] == ends or body["items"][-1].get("start", "") <= ends

        # By kind: only blood and urine tests, and the page says how many are left.
        page.goto("/#/timeline/list/kind=lab&period=ahead")
        page.locator("#kind option[value='lab']:checked").wait_for(state="attached")
        assert page.locator(".months ul.items > li").count() > 0
        assert page.get_by_role("status").filter(has_text=re.compile("more items|That is all")).count() == 1

        # A month as an agenda at 320 px: weekdays, today marked in words, status as icon and word.
        page.set_viewport_size(NARROW)
        page.goto("/#/timeline/month")
        today = page.locator(".agenda > li[aria-current='date']")
        today.wait_for()
        assert "Today" in today.inner_text()
        weekdays = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
        assert all(any(d in h for d in weekdays) for h in page.locator(".agenda h3").all_inner_texts())
        assert page.locator(".agenda .badge").count() > 0
        fits(page)
        assert serious(page) == []
        screenshot(page, "appb-journey-agenda-320")
    finally:
        context.close()


def test_family_sign_up_view_and_shares_changed_by_the_patient(browser, live):
    _, email = make_patient(live, "family-journey")
    patient_context = browser.new_context(base_url=live.url, viewport=PHONE)
    family_context = browser.new_context(base_url=live.url, viewport=PHONE, locale="en-GB")
    patient, family = patient_context.new_page(), family_context.new_page()
    try:
        sign_in(patient, email)
        patient.goto("/#/settings")
        patient.get_by_role("button", name="Invite a family member").click()
        code = patient.locator("#family strong.code").inner_text().strip()

        family.goto(f"/#/signup?code={code}")
        family.locator("#signup-email").fill("appb-brother@e2e.test")
        family.locator("#signup-password").fill("a long family passphrase")
        family.locator("#signup-password-again").fill("a long family passphrase")
        family.locator("main form button[type='submit']").click()
        family.get_by_role("heading", name="Reminders for Family-Journey").wait_for()
        for title in ("Today", "This week", "Later"):
            assert family.get_by_role("heading", name=title, exact=True).count() == 1
        assert family.locator("section.help a[href^='tel:']").count() == 2
        assert family.locator("main .badge").count() > 0  # each reminder with its status
        assert "Blood or urine test" not in family.locator("main").inner_text()  # labs: only if she shares them
        screenshot(family, "appb-journey-family-view")

        # She shares the lab reminders with him and stops sharing the medicines.
        patient.reload()  # her settings, read again: he is there now
        member = patient.locator("ul.members > li", has_text="appb-brother@e2e.test")
        member.wait_for()
        member.get_by_label("Blood or urine test").check()
        member.get_by_label("Medicine").uncheck()
        member.get_by_role("button", name="Save what they see").click()
        member.get_by_text("Saved: what appb-brother@e2e.test sees.").wait_for()
        assert serious(patient) == [] and unnamed_controls(patient) == []
        screenshot(patient, "appb-journey-family-card")

        family.reload()
        family.get_by_role("heading", name="Reminders for Family-Journey").wait_for()
        ready(family)
        assert "Blood or urine test" in family.locator("main > p.muted").first.inner_text()
        assert "Medicine" not in family.locator("main > p.muted").first.inner_text()

        # His own settings: notifications on this phone, a calendar link, the password.
        family.goto("/#/settings")
        family.get_by_role("heading", name="Notifications").wait_for()
        assert family.get_by_role("heading", name="Calendar").count() == 1
        assert serious(family) == [] and unnamed_controls(family) == []

        # She removes him: asked once, then his access ends.
        member.get_by_role("button", name="Remove").click()
        patient.get_by_role("button", name="Yes, remove").click()
        patient.get_by_text("appb-brother@e2e.test no longer sees your reminders.").wait_for()
        family.goto("/#/settings")
        family.goto("/#/")  # his open app's next request: a plain screen, and the way out
        family.get_by_role("heading", name="Family-Journey no longer shares with you").wait_for()
        family.reload()  # the next time he opens the app: he follows no one
        family.get_by_text("You do not follow anyone's reminders.").wait_for()
        family.locator("nav a[href='#/logout']").click()
        family.get_by_role("heading", name="Log in").wait_for()
    finally:
        patient_context.close()
        family_context.close()


@pytest.fixture(scope="module")
def shown(live):
    """A patient with a few results over months, and a family member who follows her."""
    import uuid

    from server.engine.content.loading import default_content
    from server.models import FamilyLink, Patient, User
    from server.services import accounts, labs
    from server.timeutil import local_today, utcnow

    pid, email = make_patient(live, "screens")
    app = live.app
    with app.app_context():
        session = database(app).sessions()
        try:
            patient = session.get(Patient, pid)
            nurse = session.scalar(select(User).where(User.email == "nurse@appb.e2e.test"))
            today = local_today("Europe/Madrid", utcnow())
            for months, platelets, creatinine in ((9, 240, 80), (6, 132, 85), (3, 175, 118), (1, 210, 90)):
                labs.submit(session, patient, nurse, {
                    "client_id": uuid.uuid4(), "taken_on": today - timedelta(days=30 * months),
                    "results": [{"analyte": "platelets", "value": platelets},
                                {"analyte": "creatinine", "value": creatinine},
                                {"analyte": "urine_protein", "value": "negative"}]},
                    today, utcnow(), default_content())
            relative = User(email="appb-sister@e2e.test", role="family", clinic_id=patient.clinic_id,
                            password_hash=accounts.hasher(app.config).hash(PASSWORD))
            session.add(relative)
            session.flush()
            session.add(FamilyLink(patient_id=pid, user_id=relative.id, shares=list(accounts.DEFAULT_FAMILY_SHARES),
                                   created_at=utcnow()))
            session.commit()
        finally:
            session.close()
    return email


def set_language(page, language: str) -> None:
    page.goto("/#/settings")
    page.locator("#language").select_option(language)
    page.locator("#language ~ p button").click()
    page.locator(f"html[lang='{language}']").wait_for(state="attached")
    page.locator("#settings-saved:not(:empty)").wait_for()


#: (hash, name, a selector only that screen has)
SCREENS = (("#/", "today", "#due-title"), ("#/labs", "labs", "#lab-form"), ("#/timeline", "timeline", "#period"),
           ("#/timeline/month", "agenda", ".month-nav"), ("#/settings", "settings", "#family"))


def test_every_screen_in_four_languages_light_and_dark(browser, live, shown):
    context = browser.new_context(base_url=live.url, viewport=PHONE)
    page = context.new_page()
    problems = {}
    try:
        sign_in(page, shown)
        for language in LANGUAGES:
            set_language(page, language)
            for target, name, mark in SCREENS:
                page.goto("/" + target)
                page.locator(mark).wait_for()
                ready(page)
                assert unnamed_controls(page) == [], (language, name)
                if name == "labs":  # every point inside its chart (118 µmol/L above a 100 tick once was not)
                    assert page.evaluate("""() => [...document.querySelectorAll('svg.trend .point')].every((p) => {
                        const box = p.getBBox(); return box.y >= 0 && box.y + box.height <= 200; })""")
                    assert page.locator("svg.trend .point.out").count() == 2  # 132 platelets, 118 creatinine
                if name == "labs":  # a urine result in her language, a range in words
                    negative = {"en": "negative", "es": "negativo", "de": "negativ", "it": "negativo"}[language]
                    assert f"{negative}" in page.locator("ul.results li", has_text=re.compile("rin")).first.inner_text()
                for scheme in ("light", "dark"):
                    page.emulate_media(color_scheme=scheme)
                    fits(page)
                    if language == "en":  # contrast differs by theme; names by language are checked above
                        found = serious(page)
                        if found:
                            problems[f"{language}-{name}-{scheme}"] = found
                    screenshot(page, f"appb-{language}-{name}-{scheme}")
                    if name == "labs":  # the chart at the size a person sees it
                        page.locator("figure.chart").first.screenshot(
                            path=str(SCREENSHOTS / f"appb-{language}-chart-{scheme}.png"))
                    if name == "agenda":
                        page.set_viewport_size(NARROW)
                        fits(page)
                        screenshot(page, f"appb-{language}-{name}-320-{scheme}")
                        page.set_viewport_size(PHONE)
                page.emulate_media(color_scheme="light")
        # On a laptop: the same screens at 1366 px (the chart beside its table).
        page.set_viewport_size(LAPTOP)
        for target, name, mark in SCREENS:
            page.goto("/" + target)
            page.locator(mark).wait_for()
            ready(page)
            fits(page)
            screenshot(page, f"appb-it-{name}-1366")
        # At 320 px with text at 200%, nothing is wider than the screen (WCAG 1.4.10).
        page.set_viewport_size(NARROW)
        for target, name, mark in SCREENS:
            page.goto("/" + target)
            page.locator(mark).wait_for()
            ready(page)
            page.evaluate("document.documentElement.style.fontSize = '200%'")
            fits(page)
            page.evaluate("document.documentElement.style.fontSize = ''")
    finally:
        context.close()
    for language in LANGUAGES:
        context = browser.new_context(base_url=live.url, viewport=PHONE, locale=language)
        page = context.new_page()
        try:
            sign_in(page, "appb-sister@e2e.test")
            page.locator("#help-title").wait_for()
            ready(page)
            assert page.locator("html").get_attribute("lang") == language
            assert unnamed_controls(page) == []
            for scheme in ("light", "dark"):
                page.emulate_media(color_scheme=scheme)
                fits(page)
                found = serious(page) if language == "en" else []
                if found:
                    problems[f"{language}-family-{scheme}"] = found
                screenshot(page, f"appb-{language}-family-{scheme}")
        finally:
            context.close()
    assert problems == {}
