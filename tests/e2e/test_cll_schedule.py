"""The nurse proposes, edits and records a CLL schedule on the record screen (issue 20, cll2).

In Debian's Chromium, per language: a nurse opens a CLL patient enrolled a moment
ago, asks for a proposed schedule (first dose, IV with escalation), sees the 38
administrations as an editable list with no warning, changes one dose, sees the
dose-limit warning when a dose goes over the protocol's limit, holds one dose,
adds one, saves the schedule as planned, then corrects that dose with a reason. In English the patient then sees
the weekly checklist and the CMV tests, and her relative the early signs of CMV.
The nurse also corrects a protocol chosen by mistake at enrolment. axe on each
screen; no sideways scrolling at 320, 390 or 1366 px; screenshots at 390 and
1366 px go to tests/e2e/screenshots/.
"""

from __future__ import annotations

import uuid
from datetime import date, timedelta

import pytest
from playwright.sync_api import expect

from server.engine.content.loading import default_content

from .conftest import PASSWORD
from .test_cll_journey import NEW_PASSWORD, _api, _login
from .test_nurse_workspace import LOCALES, check_screen, parts, t

CLL = default_content().of("cll")
SIZES = {390: {"width": 390, "height": 844}, 1366: {"width": 1366, "height": 900}}


def make_clinic(live, tag: str) -> dict:
    """A haematology clinic of its own and its nurse (the flags stay out of other tests' queues)."""
    from server.db import database
    from server.models import Clinic, User
    from server.services import accounts

    app = live.app
    with app.app_context():
        session = database(app).sessions()
        try:
            clinic = Clinic(name=f"Haematology {tag} {uuid.uuid4().hex[:6]}", phone="+32 2 555 0100",
                            emergency_number="112", settings={})
            session.add(clinic)
            session.flush()
            email = f"nurse.{clinic.id}@cll2.test"
            session.add(User(email=email, role="nurse", clinic_id=clinic.id,
                             password_hash=accounts.hasher(app.config).hash(PASSWORD)))
            session.commit()
        finally:
            session.close()
    return {"nurse": email}


def enrol(live, nurse_email: str, language: str, protocol: str = "cll", name: str = "Marta Cll") -> dict:
    nurse = _api(live.app)
    nurse("POST", "/api/v1/auth/login", {"email": nurse_email, "password": PASSWORD})
    return nurse("POST", "/api/v1/patients", {"display_name": name, "sex": "female", "childbearing_potential": False,
                                              "timezone": "Europe/Madrid", "language": language,
                                              "protocol": protocol})


def nurse_page(browser, live, email: str, language: str, width: int):
    context = browser.new_context(base_url=live.url, viewport=SIZES[width], locale=LOCALES[language],
                                  timezone_id="Europe/Madrid")
    page = context.new_page()
    page.goto("/")
    page.locator("#email").fill(email)
    page.locator("#password").fill(PASSWORD)
    page.locator("button[type='submit']").click()
    page.wait_for_selector("nav a[href='#/logout']")
    return context, page


def today(page) -> date:
    return date.fromisoformat(page.evaluate("new Date().toLocaleDateString('sv', {timeZone: 'Europe/Madrid'})"))


@pytest.mark.parametrize("language,width", [("en", 390), ("es", 1366), ("de", 390), ("it", 1366)])
def test_the_nurse_proposes_edits_and_saves_a_cll_schedule(browser, live, language, width):
    world = make_clinic(live, language)
    record = enrol(live, world["nurse"], language)
    context, page = nurse_page(browser, live, world["nurse"], language, width)
    try:
        page.goto(f"/#/patient/{record['id']}")
        page.locator("#record-name").wait_for()
        # A CLL patient: the schedule is proposed, not typed as an MS course's days.
        expect(page.locator("#schedule-title")).to_have_text(t(page, "sched_title"))
        expect(page.locator("#course-first")).to_have_count(0)
        start = today(page) - timedelta(days=16)
        page.locator("#schedule-first").fill(start.isoformat())
        expect(page.get_by_label(t(page, "sched_route_iv"))).to_be_checked()
        page.locator("#courses").scroll_into_view_if_needed()
        check_screen(page, f"{language}-cll2-propose")
        parts(page, f"{language}-cll2-propose", "#courses")

        page.locator("#propose-schedule").click()
        rows = page.locator(".schedule-rows > li")
        expect(rows).to_have_count(38)  # 3 and 10 mg, then 36 doses of 30 mg (content/cll [proposal])
        expect(rows.nth(0).locator("input.mg")).to_have_value("3")
        expect(rows.nth(1).locator("input.mg")).to_have_value("10")
        expect(rows.nth(0).locator("input[type=date]")).to_have_value(start.isoformat())
        expect(page.locator("#schedule-list-title")).to_be_focused()
        expect(page.locator("[data-no-warning]")).to_have_count(1)
        expect(page.locator("#schedule-summary")).to_contain_text(t(page, "sched_doses_other", n=38))
        check_screen(page, f"{language}-cll2-proposed")
        parts(page, f"{language}-cll2-proposed", "#courses")

        # One dose changed within the limit: still no warning.
        rows.nth(5).locator("input.mg").fill("20")
        expect(page.locator("#schedule-warnings [data-no-warning]")).to_have_count(1)
        # A dose over the protocol's limit: the dose-limit warning, in the nurse's words, before saving.
        rows.nth(6).locator("input.mg").fill("40")
        warning = page.locator("#schedule-warnings [data-preview-warning='course.dose_limit']")
        expect(warning).to_have_count(1)
        expect(warning).to_contain_text(CLL.text(language, "warnings", "course.dose_limit", "text"))
        expect(page.locator("#save-schedule")).to_have_text(t(page, "save_anyway"))
        page.locator("#schedule-warnings").scroll_into_view_if_needed()
        check_screen(page, f"{language}-cll2-warning")
        parts(page, f"{language}-cll2-warning", "#courses")

        # A dose held (removed) and one added at the end.
        held = rows.nth(10).locator("input[type=date]").input_value()
        rows.nth(10).get_by_role("button").click()
        expect(rows).to_have_count(37)
        page.locator("#add-dose").click()
        expect(rows).to_have_count(38)
        added = rows.nth(37)
        expect(added.locator("input[type=date]")).to_be_focused()
        # The week's rhythm goes on: a week after the dose three before it (never over the limit).
        third_last = date.fromisoformat(rows.nth(34).locator("input[type=date]").input_value())
        expect(added.locator("input[type=date]")).to_have_value((third_last + timedelta(days=7)).isoformat())
        expect(added.locator("input.mg")).to_have_value("30")
        expect(warning).to_have_count(1)  # still 40 mg in dose 7

        page.locator("#schedule-status").select_option("planned")
        expect(page.locator("#save-schedule")).to_have_text(t(page, "save_anyway"))
        page.locator("#save-schedule").click()
        expect(page.get_by_text(t(page, "sched_saved"))).to_be_visible()
        course = page.locator("ul.courses > li")
        expect(course).to_have_count(1)
        expect(course.locator("[data-warning='course.dose_limit']")).to_have_count(1)
        expect(course).to_contain_text(t(page, "sched_doses_other", n=38))
        # Stored as edited: the held date is absent, the 40 mg dose kept.
        stored = page.request.get(f"/api/v1/patients/{record['id']}").json()["courses"][0]
        assert held not in stored["infusions"] and len(stored["infusions"]) == 38
        assert sorted(dose["mg"] for dose in stored["doses"])[-1] == 40
        assert page.locator("#schedule-title").count() == 1  # a next course can be proposed
        page.locator("#courses").scroll_into_view_if_needed()
        check_screen(page, f"{language}-cll2-saved")
        parts(page, f"{language}-cll2-saved", "#courses")

        # Corrected dose by dose with a reason: the 40 mg dose back to 30, the warning gone, every dose kept.
        course.get_by_role("button", name=t(page, "correct_course"), exact=False).click()
        form = course.locator("form.correction")
        expect(form.locator(".schedule-rows > li")).to_have_count(38)
        seventh = form.locator(".schedule-rows > li input.mg").nth(6)
        expect(seventh).to_have_value("40")
        seventh.fill("30")
        expect(form.locator("[data-no-warning]")).to_have_count(1)
        check_screen(page, f"{language}-cll2-correct")
        parts(page, f"{language}-cll2-correct", "ul.courses")
        form.locator("[id$=save-schedule]").click()
        expect(form.get_by_text(t(page, "reason_required"))).to_be_visible()
        form.locator("textarea").fill("The seventh dose was 30 mg, typed wrongly.")
        form.locator("[id$=save-schedule]").click()
        expect(page.get_by_text(t(page, "course_corrected"))).to_be_visible()
        expect(page.locator("ul.courses > li [data-warning]")).to_have_count(0)
        stored = page.request.get(f"/api/v1/patients/{record['id']}").json()["courses"][0]
        assert len(stored["doses"]) == 38 and max(dose["mg"] for dose in stored["doses"]) == 30
        assert all(dose["route"] == "iv" for dose in stored["doses"])

        if language == "en":
            _patient_and_relative(browser, live, record)
    finally:
        context.close()


def _patient_and_relative(browser, live, record: dict) -> None:
    """After the nurse's schedule: the weekly checklist and the CMV tests, the CMV signs for her relative."""
    from .test_patient_v2_screens import look

    email = f"marta.{record['id']}@cll2.test"
    patient = _api(live.app)
    patient("POST", "/api/v1/auth/register", {"code": record["enrollment_code"], "email": email,
                                              "password": NEW_PASSWORD})
    patient("POST", "/api/v1/auth/login", {"email": email, "password": NEW_PASSWORD})
    code = patient("POST", f"/api/v1/patients/{record['id']}/family-invites")["code"]
    relative = f"relative.{record['id']}@cll2.test"
    _api(live.app)("POST", "/api/v1/auth/register", {"code": code, "email": relative, "password": NEW_PASSWORD})

    for width, size in SIZES.items():
        context = browser.new_context(base_url=live.url, viewport=size)
        page = context.new_page()
        try:
            _login(page, email, "#help-title")
            page.goto("/#/checklist")
            page.locator("fieldset").first.wait_for()
            assert page.locator("fieldset legend").all_inner_texts() == [
                CLL.text("en", "questions", code, "text") for code in CLL.question_codes]
            if width == 390:
                look(page, "en-cll2-patient-checklist")
            page.goto("/#/timeline")
            page.get_by_text(CLL.item_text("en", "lab.cmv_pcr", "title")).first.wait_for()
            if width == 390:
                look(page, "en-cll2-patient-timeline")
        finally:
            context.close()
        context = browser.new_context(base_url=live.url, viewport=size)
        page = context.new_page()
        try:
            _login(page, relative, "ul.items")
            signs = page.locator("li", has_text=CLL.item_text("en", "education.cmv_signs", "title"))
            assert signs.count() == 1
            assert CLL.item_text("en", "education.cmv_signs", "detail") in signs.inner_text()
            if width == 390:
                look(page, "en-cll2-family")
        finally:
            context.close()


@pytest.mark.parametrize("language,width", [("en", 1366), ("es", 390)])
def test_a_protocol_chosen_by_mistake_is_corrected_on_the_record(browser, live, language, width):
    """Enrolled as MS with no course: changed to CLL, the schedule is offered; with a course, it is locked."""
    world = make_clinic(live, f"protocol {language}")
    record = enrol(live, world["nurse"], language, protocol="ms", name="Nora Wrong")
    context, page = nurse_page(browser, live, world["nurse"], language, width)
    try:
        page.goto(f"/#/patient/{record['id']}")
        page.locator("#record-name").wait_for()
        expect(page.locator("#course-first")).to_have_count(1)
        page.locator("#protocol-edit summary").click()
        page.locator("#record-protocol").select_option("cll")
        page.locator("#save-protocol").click()
        expect(page.get_by_text(t(page, "protocol_saved", protocol=t(page, "protocol_cll")))).to_be_visible()
        expect(page.locator("#facts dl")).to_contain_text(t(page, "protocol_cll"))
        expect(page.locator("#schedule-title")).to_have_count(1)
        check_screen(page, f"{language}-cll2-protocol-changed")
        parts(page, f"{language}-cll2-protocol-changed", "#facts")

        # With a course recorded, the choice is locked and says what to do.
        page.locator("#schedule-first").fill((today(page) + timedelta(days=7)).isoformat())
        page.get_by_label(t(page, "sched_route_sc")).check()
        page.locator("#propose-schedule").click()
        expect(page.locator(".schedule-rows > li")).to_have_count(36)
        page.locator("#save-schedule").click()
        expect(page.get_by_text(t(page, "sched_saved"))).to_be_visible()
        page.locator("#protocol-edit summary").click()
        expect(page.locator("#record-protocol")).to_have_count(0)
        expect(page.locator("#protocol-edit")).to_contain_text(t(page, "protocol_locked"))
    finally:
        context.close()
