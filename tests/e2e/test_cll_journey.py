"""A CLL patient in the app (issue 20, CLINICAL.md section 7), in each language.

The care team enrols her through the API with protocol cll and records the
proposed schedule; in Debian's Chromium she sees the haematology team's
emergency signs on Today, the weekly checklist and the CMV tests on her
timeline, and her relative sees the early signs of CMV. Nothing is wider than
the screen at 320, 390 or 1366 px; screenshots go to tests/e2e/screenshots/.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from server.engine.content.loading import default_content
from server.timeutil import local_today

from .checklist_steps import REVIEW, answer_all
from .conftest import PASSWORD
from .test_accessibility import serious
from .test_patient_v2_screens import SIZES, look, unnamed_controls

CLL = default_content().of("cll")
LANGUAGES = ("en", "es", "de", "it")
TEAM = {"en": "haematology team", "es": "equipo de hematología", "de": "Hämatologie-Team",
        "it": "team di ematologia"}
NEW_PASSWORD = "a long enough password"


def _api(app):
    client = app.test_client()
    csrf = client.get("/api/v1/auth/csrf").json["csrf_token"]

    def call(method: str, path: str, body=None):
        nonlocal csrf
        response = client.open(path, method=method, json=body, headers={"X-CSRF-Token": csrf})
        assert response.status_code < 300, (path, response.status_code, response.json)
        if path.endswith("/login"):
            csrf = response.json["csrf_token"]
        return response.json

    return call


@pytest.fixture(scope="module")
def cll_people(live):
    """Per language, a CLL patient in week 3 of an IV course and (English) her relative."""
    from server.db import database
    from server.models import Clinic, User
    from server.services import accounts

    app = live.app
    # A clinic of its own: the flags these patients raise stay out of the other tests' queues.
    with app.app_context():
        session = database(app).sessions()
        try:
            clinic = Clinic(name="Haematology e2e", phone="+32 2 555 0100", emergency_number="112", settings={})
            session.add(clinic)
            session.flush()
            session.add(User(email="nurse@cll.e2e.test", role="nurse", clinic_id=clinic.id,
                             password_hash=accounts.hasher(app.config).hash(PASSWORD)))
            session.commit()
        finally:
            session.close()
    nurse = _api(app)
    nurse("POST", "/api/v1/auth/login", {"email": "nurse@cll.e2e.test", "password": PASSWORD})
    people = {}
    for language in LANGUAGES:
        record = nurse("POST", "/api/v1/patients", {
            "display_name": f"Cll {language}", "sex": "male", "timezone": "Europe/Madrid", "language": language,
            "protocol": "cll"})
        start = local_today("Europe/Madrid") - timedelta(days=16)
        proposal = nurse("POST", f"/api/v1/patients/{record['id']}/course-proposal",
                         {"start": start.isoformat(), "route": "iv"})
        nurse("POST", f"/api/v1/patients/{record['id']}/courses",
              {"infusions": proposal["infusions"], "status": "planned"})
        email = f"cll-{language}@e2e.test"
        patient = _api(app)
        patient("POST", "/api/v1/auth/register", {"code": record["enrollment_code"], "email": email,
                                                  "password": NEW_PASSWORD})
        people[language] = email
        if language == "en":
            patient("POST", "/api/v1/auth/login", {"email": email, "password": NEW_PASSWORD})
            code = patient("POST", f"/api/v1/patients/{record['id']}/family-invites")["code"]
            _api(app)("POST", "/api/v1/auth/register", {"code": code, "email": "cll-relative@e2e.test",
                                                        "password": NEW_PASSWORD})
    return people


def _login(page, email: str, marker: str) -> None:
    page.goto("/")
    page.locator("#email").fill(email)
    page.locator("#password").fill(NEW_PASSWORD)
    page.locator("button[type='submit']").click()
    page.wait_for_selector(marker)


def test_a_cll_patient_sees_her_protocol_in_the_app(browser, live, cll_people):
    for language in LANGUAGES:
        context = browser.new_context(base_url=live.url, viewport=SIZES[390])
        page = context.new_page()
        try:
            _login(page, cll_people[language], "#help-title")
            # Today: the CLL emergency signs and the haematology team's number, in her language.
            help_card = page.locator("section.help")
            assert help_card.locator("ul.signs li").all_inner_texts() == list(
                CLL.text(language, "items", "safety.infusion_reaction", "signs"))
            assert TEAM[language] in help_card.inner_text()
            assert "MS" not in help_card.inner_text() and " EM" not in help_card.inner_text()
            look(page, f"{language}-cll-today")

            # The weekly checklist: her protocol's questions; a fever during the course is an emergency.
            page.goto("/#/checklist")
            page.locator("fieldset").first.wait_for()
            legends = page.locator("fieldset legend").all_inner_texts()
            assert legends == [CLL.text(language, "questions", code, "text") for code in CLL.question_codes]
            assert unnamed_controls(page) == []
            assert serious(page) == []
            look(page, f"{language}-cll-checklist")
            answer_all(page, {"cll.fever"})
            page.get_by_role("button", name=REVIEW[language]).click()
            page.get_by_role("button", name=TEAM[language]).click()  # "Send to my haematology team"
            alert = page.locator("section[role='alert']")
            alert.wait_for()
            assert "level-emergency" in alert.locator(".badge").get_attribute("class")
            assert TEAM[language] in alert.inner_text() or "24" in alert.inner_text()
            look(page, f"{language}-cll-checklist-sent")

            # The timeline: the weekly CMV tests.
            page.goto("/#/timeline")
            page.get_by_text(CLL.item_text(language, "lab.cmv_pcr", "title")).first.wait_for()
            assert serious(page) == []
            look(page, f"{language}-cll-timeline")
        finally:
            context.close()


def test_her_relative_sees_the_early_signs_of_cmv(browser, live, cll_people):
    context = browser.new_context(base_url=live.url, viewport=SIZES[390])
    page = context.new_page()
    try:
        _login(page, "cll-relative@e2e.test", "ul.items")
        signs = page.locator("li", has_text=CLL.item_text("en", "education.cmv_signs", "title"))
        assert signs.count() == 1
        assert CLL.item_text("en", "education.cmv_signs", "detail") in signs.inner_text()
        assert page.get_by_text(CLL.item_text("en", "lab.cmv_pcr", "title")).count() == 0
        assert serious(page) == []
        look(page, "en-cll-family")
    finally:
        context.close()
