"""The monthly checklist screen of CLINICAL.md version 2 (issue 14) in a real Chromium.

Every question the patient is asked appears in her language, the pregnancy
question only with childbearing potential, the emergency signs as a list, and
nothing is wider than the screen at 390 px or 1366 px. Screenshots of each
language and width go to tests/e2e/screenshots/ to be looked at.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from server.db import database
from server.engine.content.loading import default_content

from .checklist_steps import answer_all, review_and_send
from .conftest import PASSWORD, screenshot

CONTENT = default_content()
WIDTHS = (390, 1366)


@pytest.fixture(scope="module")
def checklist_patients(live):
    """Two patients of the second clinic with no checklist this month: one with
    childbearing potential (female), one without (male)."""
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
            made = {}
            for name, sex, childbearing in (("cbp", "female", True), ("nocbp", "male", False)):
                patient, _, _ = patients.create_patient(session, clinic, {
                    "display_name": f"Checklist {name}", "sex": sex, "childbearing_potential": childbearing,
                    "breastfeeding": False, "timezone": "Europe/Madrid", "language": "en",
                    "baseline": {"platelets": 250}}, nurse, now, app.config)
                first = add_months(local_today("Europe/Madrid", now), -14) - timedelta(days=3)
                patients.add_course(patient, [first + timedelta(days=i) for i in range(5)], "given", nurse, now)
                email = f"checklist-{name}@e2e.test"
                session.add(User(email=email, role="patient", clinic_id=clinic.id, patient_id=patient.id,
                                 password_hash=accounts.hasher(app.config).hash(PASSWORD)))
                session.flush()
                made[name] = (email, patient.id)
            session.commit()
        finally:
            session.close()
    return made


def set_language(live, patient_id: int, language: str) -> None:
    from server.models import Patient

    with live.app.app_context():
        session = database(live.app).sessions()
        try:
            session.get(Patient, patient_id).language = language
            session.commit()
        finally:
            session.close()


def open_checklist(browser, live, email: str, width: int, language: str = "en"):
    context = browser.new_context(base_url=live.url, viewport={"width": width, "height": 844})
    page = context.new_page()
    page.goto("/")
    page.locator("input[type='email']").fill(email)
    page.locator("input[type='password']").fill(PASSWORD)
    page.locator("button[type='submit']").click()
    page.wait_for_selector("nav a[href='#/logout']")
    # Her language arrives with /me after the first screen: once the app has it, a fresh
    # load draws the checklist once, in it (not drawn, then drawn again mid-test).
    page.locator(f"html[lang='{language}']").wait_for(state="attached")
    page.goto("/#/checklist")
    page.reload()
    page.wait_for_selector("fieldset legend")
    return context, page


@pytest.mark.parametrize("language", ["en", "es", "de", "it"])
def test_checklist_screen_in_every_language_and_width(browser, live, checklist_patients, language):
    email, pid = checklist_patients["cbp"]
    set_language(live, pid, language)
    for width in WIDTHS:
        context, page = open_checklist(browser, live, email, width, language)
        try:
            asked = [q for q in CONTENT.questions]  # she has childbearing potential: every question
            # Retried: the screen is drawn again once her language arrives with /me.
            expect(page.locator("fieldset legend")).to_have_text(
                [CONTENT.text(language, "questions", q.code, "text") for q in asked], timeout=15_000)
            # The emergency signs are list items, in her language.
            for code in ("emergency.neuro", "emergency.breath_chest", "bleed.severe", "infection.meningitis"):
                n = [q.code for q in asked].index(code)
                items = page.locator(f"#q-{n}-signs li").all_inner_texts()
                assert items == list(CONTENT.text(language, "questions", code, "signs"))
                assert page.locator(f"fieldset[aria-describedby='q-{n}-signs']").count() == 1
            assert page.locator("input[name='pregnancy.possible']").count() == 2
            # Nothing wider than the screen: no sideways scrolling on a phone.
            overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
            assert overflow <= 0, f"{language} at {width} px is {overflow} px too wide"
            screenshot(page, f"{language}-checklist-v2-{width}")
        finally:
            context.close()


def test_pregnancy_question_only_with_childbearing_potential(browser, live, checklist_patients):
    """CLINICAL.md 3 pregnancy.possible (v2): asked when childbearing potential is true."""
    email, pid = checklist_patients["nocbp"]
    set_language(live, pid, "en")
    context, page = open_checklist(browser, live, email, 390)
    try:
        names = set(page.locator("fieldset input[type='radio']").evaluate_all("els => els.map(e => e.name)"))
        assert "pregnancy.possible" not in names and "bleed.menstrual" not in names
        assert {"bleed.severe", "infection.meningitis", "infection.shingles", "ms.relapse", "thyroid.heart",
                "thyroid.neck_eyes"} <= names
    finally:
        context.close()


def test_a_note_alone_is_routine_on_the_screen(browser, live, checklist_patients):
    """CLINICAL.md 3 free text (v2): the note says it is read at the next review, and a checklist
    with only a note gets the routine advice."""
    email, pid = checklist_patients["nocbp"]
    set_language(live, pid, "en")
    context, page = open_checklist(browser, live, email, 390)
    try:
        assert "not at once" in page.locator("#note-hint").inner_text()
        answer_all(page)
        page.locator("#note").fill("My knee hurts when it rains")
        review_and_send(page)
        result = page.get_by_role("alert")
        result.wait_for()
        assert "Noted for your next review" in result.inner_text()
        screenshot(page, "en-checklist-v2-note-routine")
    finally:
        context.close()
