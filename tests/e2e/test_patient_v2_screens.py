"""The patient's screens that version 2 of the rules changed (issue 14), in each language,
as a person sees them: the Today help card (a lead, a short list of emergency signs, a
later line), the lab entry with the unit the lab printed, and the emergency advice a
platelet count of 25 × 10⁹/L gives at once.

Nothing is wider than the screen at 320, 390 or 1366 px; every form control has a
name; screenshots at 390 px and 1366 px go to tests/e2e/screenshots/ to be looked at.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from server.db import database
from server.engine.content.loading import default_content

from .conftest import PASSWORD, screenshot
from .test_accessibility import serious

CONTENT = default_content()
SIZES = {320: {"width": 320, "height": 640}, 390: {"width": 390, "height": 844}, 1366: {"width": 1366, "height": 900}}
LANGUAGES = ("en", "es", "de", "it")


@pytest.fixture(scope="module")
def v2_patients(live):
    """One patient of the second clinic per language, mid-monitoring, no results yet."""
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
            for language in LANGUAGES:
                patient, _, _ = patients.create_patient(session, clinic, {
                    "display_name": f"Screens {language}", "sex": "female", "childbearing_potential": False,
                    "breastfeeding": False, "timezone": "Europe/Madrid", "language": language,
                    "baseline": {"platelets": 250}}, nurse, now, app.config)
                first = add_months(local_today("Europe/Madrid", now), -14) - timedelta(days=3)
                patients.add_course(patient, [first + timedelta(days=i) for i in range(5)], "given", nurse, now)
                email = f"screens-{language}@e2e.test"
                session.add(User(email=email, role="patient", clinic_id=clinic.id, patient_id=patient.id,
                                 password_hash=accounts.hasher(app.config).hash(PASSWORD)))
                made[language] = email
            session.commit()
        finally:
            session.close()
    return made


def look(page, name: str) -> None:
    """No sideways scrolling at any width; a screenshot at 390 and 1366 px."""
    here = page.viewport_size
    for width, size in SIZES.items():
        page.set_viewport_size(size)
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{name} at {width} px is {overflow} px too wide"
        if width != 320:
            screenshot(page, f"{name}-{width}")
    page.set_viewport_size(here)


def unnamed_controls(page) -> list[str]:
    """Form controls a screen reader would announce without a name."""
    return page.evaluate("""() => [...document.querySelectorAll('main input, main select, main textarea, main button')]
        .filter((el) => !(el.labels && el.labels.length) && !el.getAttribute('aria-label')
                        && !el.getAttribute('aria-labelledby') && !(el.tagName === 'BUTTON' && el.textContent.trim()))
        .map((el) => el.outerHTML.slice(0, 80))""")


@pytest.mark.parametrize("language", LANGUAGES)
def test_today_and_lab_entry_with_emergency_advice(browser, live, v2_patients, language):
    context = browser.new_context(base_url=live.url, viewport=SIZES[390])
    page = context.new_page()
    try:
        page.goto("/")
        page.locator("#email").fill(v2_patients[language])
        page.locator("#password").fill(PASSWORD)
        page.locator("button[type='submit']").click()
        page.wait_for_selector("#help-title")

        # Today: the help card is a lead, the signs as a list, and the later line, in her language.
        help_card = page.locator("section.help")
        assert help_card.locator("ul.signs li").all_inner_texts() == list(
            CONTENT.text(language, "items", "safety.post_infusion", "signs"))
        text = help_card.inner_text()
        for part in ("lead", "later"):
            assert CONTENT.text(language, "items", "safety.post_infusion", part) in text
        assert help_card.locator("a[href='tel:112']").count() == 1
        look(page, f"{language}-today-help-v2")

        # The lab entry: each value with the unit the lab printed beside it, each named.
        page.goto("/#/labs")
        page.locator("#u-platelets").wait_for()
        assert unnamed_controls(page) == []
        assert serious(page) == []
        page.locator("#v-platelets").fill("25")
        look(page, f"{language}-labs-entry-v2")
        page.locator("#lab-form button[type='submit']").click()
        advice = page.locator("section.advice")
        advice.wait_for()
        assert "level-emergency" in advice.get_attribute("class")
        assert advice.locator("a[href='tel:112']").count() == 1
        assert "25 × 10⁹/L" in advice.inner_text()
        assert serious(page) == []
        look(page, f"{language}-labs-emergency-advice-v2")
    finally:
        context.close()
