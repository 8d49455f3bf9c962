"""The patient's month on a phone (issue 16 points 2, 3, 6, 8, 9), in Debian's Chromium.

The checklist with a bleeding answer, its result, Today current after the save,
and the same checklist in her history with the team's outcome once a nurse has
resolved it (on SQLite and, when ALEMTRACK_TEST_POSTGRES_URL is set, PostgreSQL);
an offline send that says it will go and then that it went; a language switch
that changes every word at once; notifications denied, unsupported and on an
iPhone; the calendar link and its revoke; the checklist by keyboard alone; a
logout that leaves nothing of her in the browser. Screenshots of every
checklist state, Today and settings at 390x844 in four languages, light and
dark, go to tests/e2e/screenshots/; axe-core checks each state.
"""

from __future__ import annotations

import itertools
import re
from datetime import timedelta

import pytest
from sqlalchemy import select, text

from server.db import database
from server.engine.content.loading import default_content

from ..conftest import _CONFIGURED_POSTGRES_URL, POSTGRES_URL
from .checklist_steps import REVIEW, SEND, answer_all
from .conftest import PASSWORD, LiveServer, login, screenshot
from .test_accessibility import serious
from .test_logout import CACHED_DATA, controlled

CONTENT = default_content()
LANGUAGES = ("en", "es", "de", "it")
BACKENDS = ["sqlite"] + (["postgresql"] if POSTGRES_URL else [])
_made = itertools.count(1)

#: English words that must not be on a Spanish, German or Italian screen
ENGLISH = re.compile(r"\b(the|your|you|and|with|this|have|has|what|when|send|review|answers?|yes|please|"
                     r"saved|loading|skip|today|settings|checklist|results?)\b", re.I)
#: the words of the checklist's title in each language (the nav link and the heading)
NAV_TODAY = {"en": "Today", "es": "Hoy", "de": "Heute", "it": "Oggi"}


def live_postgres(app_config_folder):
    """The app on its own PostgreSQL database (created beside the tests' one), seeded like ``live``."""
    from server import create_app
    from server.clock.push import generate_keys
    from server.db import make_engine
    from server.migrations import upgrade
    from server.services.demo import seed

    from .conftest import make_e2e_patients

    name = POSTGRES_URL.rsplit("/", 1)[1] + "_live"
    admin = make_engine(_CONFIGURED_POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        if connection.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}) is None:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    url = POSTGRES_URL.rsplit("/", 1)[0] + "/" + name
    engine = make_engine(url)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    upgrade(engine)
    engine.dispose()
    generate_keys(app_config_folder)
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "e2e", "SESSION_COOKIE_SECURE": False,
                      "INSTANCE_DIR": str(app_config_folder), "ARGON2_TIME_COST": 1, "ARGON2_MEMORY_KIB": 1024,
                      "LOGIN_MAX_PER_ADDRESS": 1000})
    with app.app_context():
        session = database(app).sessions()
        seed(session, app.config)
        make_e2e_patients(session, app.config)
        session.commit()
        session.close()
    server = LiveServer(app)
    server.start()
    return server


@pytest.fixture(scope="module", params=BACKENDS)
def server(request, tmp_path_factory):
    if request.param == "sqlite":
        yield request.getfixturevalue("live")
        return
    live = live_postgres(tmp_path_factory.mktemp("e2e-pg"))
    yield live
    live.stop()
    database(live.app).dispose()  # its connections closed now, not by the garbage collector in a later test


def new_patient(live, language: str = "en") -> tuple[str, int]:
    """A patient of the second clinic mid-monitoring, this month's checklist due and not sent."""
    from server.engine.dates import add_months
    from server.models import Clinic, User
    from server.services import accounts, patients
    from server.timeutil import local_today, utcnow

    app = live.app
    with app.app_context():
        session = database(app).sessions()
        try:
            now = utcnow()
            clinic = session.scalar(select(Clinic).where(Clinic.name == "Other Hospital"))
            nurse = session.scalar(select(User).where(User.email == "nurse@other.demo.alemtrack.test"))
            patient, _, _ = patients.create_patient(session, clinic, {
                "display_name": "Month", "sex": "female", "childbearing_potential": False, "breastfeeding": False,
                "timezone": "Europe/Madrid", "language": language, "baseline": {"platelets": 250}},
                nurse, now, app.config)
            first = add_months(local_today("Europe/Madrid", now), -14) - timedelta(days=3)
            patients.add_course(patient, [first + timedelta(days=i) for i in range(5)], "given", nurse, now)
            email = f"month-{next(_made)}-{patient.id}@e2e.test"
            session.add(User(email=email, role="patient", clinic_id=clinic.id, patient_id=patient.id,
                             password_hash=accounts.hasher(app.config).hash(PASSWORD)))
            session.commit()
            return email, patient.id
        finally:
            session.close()


def phone(browser, live, scheme: str = "light", width: int = 390, **options):
    return browser.new_context(base_url=live.url, viewport={"width": width, "height": 844}, color_scheme=scheme,
                               **options)


def drawn(page) -> None:
    page.locator("main h1").wait_for()


def open_screen(page, target: str) -> None:
    """Go to ``target`` (a hash) and wait until its screen, not the one before, is drawn."""
    page.evaluate("document.getElementById('main').replaceChildren()")
    page.goto("/" + target)
    drawn(page)


def nurse_resolves(browser, live, flag_id: int, outcome: str) -> None:
    """The nurse acknowledges and resolves the flag through the API, as her dashboard does."""
    context = browser.new_context(base_url=live.url)
    try:
        api = context.request
        token = api.get("/api/v1/auth/csrf").json()["csrf_token"]
        logged = api.post("/api/v1/auth/login", headers={"X-CSRF-Token": token},
                          data={"email": "nurse@other.demo.alemtrack.test", "password": PASSWORD})
        assert logged.ok, logged.text()
        token = api.get("/api/v1/auth/csrf").json()["csrf_token"]
        assert api.post(f"/api/v1/flags/{flag_id}/ack", headers={"X-CSRF-Token": token}).ok
        resolved = api.post(f"/api/v1/flags/{flag_id}/resolve", headers={"X-CSRF-Token": token},
                            data={"outcome": outcome, "note": "platelets tomorrow"})
        assert resolved.ok, resolved.text()
    finally:
        context.close()


def flags_of(live, pid: int) -> list[int]:
    from server.models import Flag

    with live.app.app_context():
        session = database(live.app).sessions()
        try:
            return list(session.scalars(select(Flag.id).where(Flag.patient_id == pid, Flag.status != "resolved")))
        finally:
            session.close()


def resolve_flags_of(browser, live, pid: int) -> None:
    """The flags these tests raise go: the clinic's queue stays as the other tests expect it."""
    for flag_id in flags_of(live, pid):
        nurse_resolves(browser, live, flag_id, "called_patient")


def due_titles(page) -> list[str]:
    page.get_by_role("heading", name="Due now").wait_for()
    return page.locator("section[aria-labelledby='due-title'] li strong").all_inner_texts()


def test_a_bleeding_answer_its_result_today_and_the_teams_outcome(browser, server):
    email, pid = new_patient(server)
    context = phone(browser, server)
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    login(page, email)
    checklist_title = CONTENT.item_text("en", "checklist.monthly", "title")
    assert checklist_title in due_titles(page)

    page.locator("nav").get_by_role("link", name="Checklist").click()
    page.wait_for_selector("fieldset")
    assert page.locator("input[type=radio]:checked").count() == 0  # no answer chosen for her
    total = page.locator("fieldset").count()
    assert page.locator("#progress-text").inner_text() == f"0 of {total} questions answered"
    first_legend = page.locator("fieldset legend").first.inner_text()
    assert first_legend == CONTENT.text("en", "questions", "emergency.neuro", "text")  # emergencies first
    page.get_by_role("button", name=REVIEW["en"]).click()  # nothing answered: she is told, not sent on
    assert f"{total} questions have no answer yet" in page.get_by_role("alert").inner_text()
    assert page.evaluate("document.activeElement.name") == "emergency.neuro"
    assert serious(page) == []

    answer_all(page, {"bleed.mucosal"})
    assert page.locator("#progress-text").inner_text() == f"{total} of {total} questions answered"
    page.get_by_role("button", name=REVIEW["en"]).click()
    review = page.locator("section.review")
    assert review.locator("ul.yes li").all_inner_texts() == [CONTENT.text("en", "questions", "bleed.mucosal", "text")]
    assert serious(page) == []
    page.get_by_role("button", name=SEND["en"]).click()
    result = page.get_by_role("alert")
    result.wait_for()
    assert "Call your MS team today" in result.inner_text()
    assert "Your MS team has been told." in result.inner_text()
    assert result.locator("a[href^='tel:']").count() >= 1
    screenshot(page, f"en-month-result-{server.app.config['DATABASE_URL'].split(':')[0]}")

    # Today is current at once, without a reload: the checklist is no longer due.
    page.locator("nav").get_by_role("link", name="Today").click()
    assert checklist_title not in due_titles(page)

    [flag_id] = flags_of(server, pid)
    nurse_resolves(browser, server, flag_id, "lab_ordered")

    page.locator("nav").get_by_role("link", name="Checklist").click()
    page.get_by_role("heading", name="Past checklists").wait_for()
    latest = page.locator("section.history ul.items > li").first
    words = latest.inner_text()
    assert "Urgent" in words and CONTENT.text("en", "questions", "bleed.mucosal", "text") in words
    assert "Your team dealt with it on" in words and "they ordered a test." in words
    assert "platelets tomorrow" not in words  # the nurse's note is the team's
    assert serious(page) == []
    assert errors == []
    context.close()


def test_sent_offline_it_says_it_will_go_then_that_it_went(browser, live):
    email, pid = new_patient(live)
    context = phone(browser, live, service_workers="allow")
    page = context.new_page()
    login(page, email)
    controlled(page)
    page.goto("/#/checklist")
    answer_all(page, {"thyroid.weight"})
    page.locator("nav").get_by_role("link", name="Today").click()  # Today and the checklist, kept for offline
    due_titles(page)
    page.locator("nav").get_by_role("link", name="Checklist").click()
    answer_all(page, {"thyroid.weight"})

    live.stop()
    context.set_offline(True)
    try:
        page.get_by_role("button", name=REVIEW["en"]).click()
        page.get_by_role("button", name=SEND["en"]).click()
        page.get_by_text("Your checklist is saved on this phone and will be sent as soon as you are online").wait_for()
        screenshot(page, "en-month-offline-saved")
        # Another screen read from the phone's copy says so, with the time of that copy.
        page.locator("nav").get_by_role("link", name="Today").click()
        page.locator("#offline-note").wait_for()
        assert re.fullmatch(r"Offline: what this phone saved at \d{1,2}:\d\d( [AP]M)?\.",
                            page.locator("#offline-note").inner_text())
        page.locator("nav").get_by_role("link", name="Checklist").click()
        page.get_by_text("is saved on this phone. It will be sent as soon as you are online").wait_for()
        screenshot(page, "en-month-offline-pending")
    finally:
        live.start()
    context.set_offline(False)  # the "online" event sends it
    result = page.get_by_role("alert")
    result.wait_for(timeout=15000)
    assert "Your checklist has now been sent." in result.inner_text()
    assert "Noted for your next review" in result.inner_text()
    assert page.locator("#offline-note").count() == 0
    assert page.evaluate("AlemtrackOutbox.all()") == []
    page.locator("nav").get_by_role("link", name="Checklist").click()
    page.get_by_role("heading", name="Past checklists").wait_for()
    assert page.locator("section.history ul.items > li").count() == 1
    context.close()


def test_switching_language_changes_every_word_at_once(browser, live):
    email, _ = new_patient(live)
    context = phone(browser, live)
    page = context.new_page()
    login(page, email)
    page.locator("nav").get_by_role("link", name="Settings").click()
    page.get_by_label("Language").select_option("it")
    page.get_by_role("button", name="Save", exact=True).click()
    page.get_by_role("heading", level=1, name="Impostazioni").wait_for()
    # The menu and the skip link too, with no reload.
    assert page.locator("nav a").first.inner_text() == NAV_TODAY["it"]
    assert page.locator(".skip").inner_text() == "Vai al contenuto"
    assert page.evaluate("document.documentElement.lang") == "it"
    page.locator("nav").get_by_role("link", name=NAV_TODAY["it"]).click()
    italian = CONTENT.item_text("it", "checklist.monthly", "title")
    page.get_by_role("heading", name="Da fare ora").wait_for()
    assert italian in page.locator("main").inner_text()
    assert CONTENT.item_text("en", "checklist.monthly", "title") not in page.locator("main").inner_text()
    page.locator("nav a[href='#/timeline']").click()
    page.locator("ul.items li").first.wait_for()
    assert italian in page.locator("main").inner_text()
    assert not ENGLISH.findall(page.locator("body").inner_text())
    context.close()


def test_notification_states_say_what_to_do_and_never_throw(browser, live):
    email, pid = new_patient(live)
    cases = {
        # not granted: Chromium refuses the permission request, as a person's "Block" would
        "denied": ({}, None, "Notifications are blocked for Alemtrack in this browser"),
        "unsupported": ({}, "delete window.PushManager", "This browser cannot show notifications"),
        "ios": ({"user_agent": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 "
                               "(KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1"},
                None, "On an iPhone, notifications work only when Alemtrack is on the home screen"),
    }
    for name, (options, script, sentence) in cases.items():
        context = phone(browser, live, service_workers="allow", **options)
        if script:
            context.add_init_script(script)
        page = context.new_page()
        errors = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        login(page, email)
        page.goto("/#/settings")
        card = page.locator("section[aria-labelledby='push-title']")
        card.locator("#push-state").wait_for()
        if name == "denied":
            assert card.locator("#push-state").inner_text() == "Notifications are off for this phone."
            card.get_by_role("button", name="Turn on notifications").click()
            card.get_by_text(sentence).wait_for()
        assert sentence in card.locator("#push-state").inner_text()
        assert card.get_by_role("button").count() == 0  # no button that cannot work here
        assert "never shows your answers, your results" in card.inner_text()
        screenshot(page, f"en-month-notifications-{name}")
        assert errors == []
        if name == "denied":
            assert serious(page) == []
            calendar = page.locator("section[aria-labelledby='calendar-title']")
            calendar.get_by_role("button", name="Make my calendar link").click()
            link = calendar.get_by_label("Your private calendar link.")
            url = link.input_value()
            assert "/calendar/" in url and page.request.get(url).status == 200
            calendar.get_by_role("button", name="Stop my calendar link").click()
            calendar.get_by_text("Your calendar link no longer works").wait_for()
            assert page.request.get(url).status == 404
            calendar.get_by_role("button", name="Stop my calendar link").click()
            calendar.get_by_text("You have no calendar link to stop.").wait_for()
        context.close()


def test_the_checklist_by_keyboard_alone(browser, live):
    email, pid = new_patient(live)
    context = phone(browser, live)
    page = context.new_page()
    login(page, email)
    page.goto("/#/checklist")
    page.wait_for_selector("fieldset")
    total = page.locator("fieldset").count()
    answered = 0
    for _ in range(total * 4 + 20):
        page.keyboard.press("Tab")
        focused = page.evaluate("({tag: document.activeElement.tagName, type: document.activeElement.type, "
                                "name: document.activeElement.name, text: document.activeElement.textContent})")
        if focused["type"] == "radio":
            # Space picks "yes" on the first (the emergency neuro question: yes), an arrow moves to "no".
            page.keyboard.press("Space" if answered == 0 else "ArrowDown")
            answered += 1
        if focused["tag"] == "BUTTON" and focused["text"] == REVIEW["en"]:
            break
    assert answered == total
    page.keyboard.press("Enter")
    page.get_by_role("heading", name="Check your answers before sending").wait_for()
    assert page.evaluate("document.activeElement.id") == "review-title"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == SEND["en"]
    page.keyboard.press("Enter")
    result = page.get_by_role("alert")
    result.wait_for()
    assert "112" in result.inner_text()  # emergency: the number to call now
    context.close()
    resolve_flags_of(browser, live, pid)


def test_logout_leaves_nothing_of_her_in_the_browser(browser, live):
    email, pid = new_patient(live)
    context = phone(browser, live, service_workers="allow")
    page = context.new_page()
    login(page, email)
    controlled(page)
    page.goto("/#/checklist")
    page.wait_for_selector("fieldset")
    page.evaluate("localStorage.setItem('kept', 'x'); sessionStorage.setItem('kept', 'y')")
    assert any(f"/patients/{pid}/" in url for url in page.evaluate(CACHED_DATA))
    page.locator("nav a[href='#/logout']").click()
    page.get_by_role("button", name="Log in").wait_for()
    assert page.evaluate(CACHED_DATA) == []
    assert page.evaluate("localStorage.length + sessionStorage.length") == 0
    assert page.evaluate("AlemtrackOutbox.all()") == []
    page.go_back()  # the browser's history shows no screen of hers
    page.get_by_role("button", name="Log in").wait_for()
    assert page.locator("fieldset").count() == 0
    context.close()


def screens_of(page, language: str, axe_schemes: tuple[str, ...]) -> None:
    """Each checklist state, then Today and settings, each in light and dark (screenshots
    named by language, scheme and state); axe-core in ``axe_schemes``."""
    found = {}

    def look(name):
        for scheme in ("light", "dark"):
            page.emulate_media(color_scheme=scheme)
            screenshot(page, f"{language}-month-{scheme}-{name}")
            if scheme in axe_schemes:
                problems = serious(page)
                if problems:
                    found[f"{scheme} {name}"] = problems
        if language != "en":
            english = ENGLISH.findall(page.locator("body").inner_text())
            assert not english, f"{language} {name}: English words {english}"

    open_screen(page, "#/checklist")
    page.wait_for_selector("fieldset")
    look("checklist")
    page.get_by_role("button", name=REVIEW[language]).click()
    page.get_by_role("alert").wait_for()
    look("checklist-missing")
    answer_all(page, {"bleed.mucosal", "emergency.neuro"})
    look("checklist-answered")
    page.get_by_role("button", name=REVIEW[language]).click()
    look("review")
    page.get_by_role("button", name=SEND[language]).click()
    page.get_by_role("alert").wait_for()
    look("result")
    page.locator("main a[href='#/checklist/history']").click()
    page.locator("section.history ul.items > li").first.wait_for()
    look("history")
    open_screen(page, "#/")
    page.locator("main section").first.wait_for()
    look("today")
    open_screen(page, "#/settings")
    page.locator("#push-state").wait_for()
    look("settings")
    assert found == {}


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_state_light_and_dark(browser, live, language):
    email, pid = new_patient(live, language)
    context = phone(browser, live)
    page = context.new_page()
    login(page, email)
    screens_of(page, language, {"en": ("light", "dark"), "de": ("dark",)}.get(language, ()))
    # 320 px: nothing wider than the screen.
    page.set_viewport_size({"width": 320, "height": 640})
    for target in ("#/checklist", "#/settings"):
        open_screen(page, target)
        assert page.evaluate("document.documentElement.scrollWidth") <= 320, (language, target)
    context.close()
    resolve_flags_of(browser, live, pid)
