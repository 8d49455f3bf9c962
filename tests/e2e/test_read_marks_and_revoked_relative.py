"""Finishing touches (helper "tidy") in a real Chromium: a routine checklist marked read
from the list to read (keyboard only) and the patient's history saying her team read it;
the queue beside a record redrawn by a save on the record, not by its poll; a family
member whose access the patient ends while their app is open, in the four languages.
Screenshots go to tests/e2e/screenshots/ (tidy-*)."""

from __future__ import annotations

import uuid

import pytest
from playwright.sync_api import expect

from .conftest import PASSWORD
from .test_nurse_v2 import shots
from .test_nurse_workspace import LOCALES, SIZES, check_screen, flags_for, make_clinic, t


def log_in(page, email: str) -> None:
    page.goto("/")
    page.locator("#email").fill(email)
    page.locator("#password").fill(PASSWORD)
    page.locator("button[type='submit']").click()
    page.wait_for_selector("nav a[href='#/logout']")


@pytest.mark.parametrize("language,width", [("en", 390), ("de", 1366)])
def test_a_checklist_to_read_is_marked_read_and_her_history_says_so(browser, live, language, width):
    world = make_clinic(live, language)
    flags_for(browser, live, world)  # Ben sends a note: a routine checklist to read
    context = browser.new_context(base_url=live.url, viewport=SIZES[width], locale=LOCALES[language],
                                  timezone_id="Europe/Madrid")
    page = context.new_page()
    try:
        log_in(page, world["nurse"])
        page.goto("/#/to-read")
        line = page.locator(".to-read li")
        expect(line).to_have_count(1)
        expect(line).to_contain_text("Tired since the holidays")
        check_screen(page, f"tidy-{language}-to-read", pictures=True)
        # Keyboard only: Tab to the button, Enter.
        button = line.locator("button[data-mark-read]")
        button.focus()
        expect(button).to_be_focused()
        page.keyboard.press("Enter")
        expect(page.locator(".to-read li")).to_have_count(0)
        expect(page.locator("main")).to_contain_text(t(page, "to_read_empty"))
        expect(page.locator("main .live")).to_contain_text("Ben Okafor")
        expect(page.locator("#queue-heading")).to_be_focused()  # nothing left: back to the heading
        check_screen(page, f"tidy-{language}-to-read-done", pictures=True)
        page.reload()
        page.locator("#queue-heading").wait_for()
        expect(page.locator(".to-read li")).to_have_count(0)  # read by the server, not only hidden

        # The record's history answers who read it (the record screen shows it once merged: report).
        history = page.request.get(f"/api/v1/patients/{world['ben']}/checklists").json()["items"]
        assert (history[0]["team"]["status"], history[0]["team"]["read_by_email"]) == ("read", world["nurse"])

        # Ben's own history: his team has read it (not who).
        page.goto("/#/logout")
        page.locator("#email").wait_for()
        log_in(page, world["emails"]["ben"])
        page.goto("/#/checklist")
        team = page.locator(".history li .team").first
        expect(team).to_contain_text(t(page, "cl_team_read", when="§").split("§")[0])
        assert world["nurse"] not in page.locator("main").inner_text()
        page.locator(".history").scroll_into_view_if_needed()
        shots(page, f"tidy-{language}-history-read")
    finally:
        context.close()


def test_a_save_on_the_record_redraws_the_queue_beside_it(browser, live):
    world = make_clinic(live, "en")
    flags_for(browser, live, world)
    context = browser.new_context(base_url=live.url, viewport=SIZES[1366], locale="en-GB",
                                  timezone_id="Europe/Madrid")
    page = context.new_page()
    try:
        log_in(page, world["nurse"])
        page.goto(f"/#/patient/{world['ana']}")
        page.locator("#record-name").wait_for()
        ana_in_queue = page.locator(f".queue-pane .queue-row[data-patient='{world['ana']}']")
        expect(ana_in_queue.locator(".new-tag")).to_have_count(2)
        # No poll from here on: only the record's event can redraw the queue.
        page.evaluate("() => { const last = setInterval(() => {}, 1e6);"
                      " for (let i = 0; i <= last; i++) clearInterval(i); }")
        page.locator(".record-pane button[data-ack]").first.click()
        expect(ana_in_queue.locator(".seen-tag")).to_have_count(1)
        expect(ana_in_queue.locator(".new-tag")).to_have_count(1)
        expect(page.locator(".record-pane #flags")).to_contain_text(t(page, "acknowledged_saved"))  # redrawn
        # A note on the record (no flag changes): the queue is asked again, the record keeps the focus.
        page.locator("#note-text").fill("Called her; all fine.")
        page.locator("#save-note").click()
        expect(page.locator("#notes")).to_contain_text("Called her; all fine.")
        expect(page.locator(".queue-pane .live")).to_contain_text(t(page, "queue_updated", time="§").split("§")[0])
    finally:
        context.close()


def make_relative(live, language: str) -> dict:
    """A patient with a family member who follows her reminders."""
    from server.db import database
    from server.models import Clinic, FamilyLink, User
    from server.services import accounts, patients
    from server.timeutil import utcnow

    app, now = live.app, utcnow()
    with app.app_context():
        session = database(app).sessions()
        clinic = Clinic(name=f"Family {language} {uuid.uuid4().hex[:6]}", phone="+34 910 555 000",
                        emergency_number="112", settings={})
        session.add(clinic)
        session.flush()
        hasher = accounts.hasher(app.config)
        nurse = User(email=f"nurse.{clinic.id}@fam.test", role="nurse", clinic_id=clinic.id,
                     password_hash=hasher.hash(PASSWORD))
        session.add(nurse)
        session.flush()
        patient, _, _ = patients.create_patient(session, clinic, {
            "display_name": "Lucía Martín", "sex": "female", "childbearing_potential": False, "breastfeeding": False,
            "timezone": "Europe/Madrid", "language": language, "baseline": {"platelets": 240}}, nurse, now, app.config)
        relative = User(email=f"relative.{clinic.id}@fam.test", role="family", clinic_id=clinic.id,
                        password_hash=hasher.hash(PASSWORD))
        session.add(relative)
        session.flush()
        session.add(FamilyLink(patient_id=patient.id, user_id=relative.id,
                               shares=list(accounts.DEFAULT_FAMILY_SHARES)))
        session.commit()
        ids = {"patient": patient.id, "relative": relative.id, "email": relative.email}
        session.close()
    return ids


def revoke(live, world) -> None:
    from server.db import database
    from server.services import family
    from server.timeutil import utcnow

    with live.app.app_context():
        session = database(live.app).sessions()
        assert family.revoke(session, world["patient"], world["relative"], utcnow())
        session.commit()
        session.close()


@pytest.mark.parametrize("language", ["en", "es", "de", "it"])
def test_a_relative_whose_access_ends_sees_it_plainly_and_can_log_out(browser, live, language):
    world = make_relative(live, language)
    context = browser.new_context(base_url=live.url, viewport=SIZES[390], locale=LOCALES[language],
                                  timezone_id="Europe/Madrid")
    page = context.new_page()
    try:
        log_in(page, world["email"])
        expect(page.locator("h1")).to_contain_text("Lucía Martín")
        revoke(live, world)  # the patient ends the sharing while the app is open
        page.locator("nav a[href='#/']").click()  # the next request
        title = page.locator("h1#revoked-title")
        expect(title).to_have_text(t(page, "revoked_title", name="Lucía Martín"))
        expect(title).to_be_focused()
        main = page.locator("main").inner_text()
        assert t(page, "revoked_body") in main
        assert t(page, "ae_generic") not in main
        expect(page.locator("main [role=alert]")).to_have_count(0)
        check_screen(page, f"tidy-{language}-revoked", pictures=language in ("en", "de"))
        # Their own settings still open (their account is theirs), without the calendar link.
        page.locator("nav a[href='#/settings']").click()
        page.locator("main h1").wait_for()
        expect(page.locator("main [role=alert]")).to_have_count(0)
        page.locator("nav a[href='#/']").click()
        expect(title).to_be_visible()
        page.locator("main a[href='#/logout']").click()
        page.locator("#email").wait_for()
    finally:
        context.close()
