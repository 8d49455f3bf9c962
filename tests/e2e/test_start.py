"""Start (issue 16, point 1) in a real Chromium at 390 px: sign up with the code from a
link and land on Today (en, de, es, it), a family member's sign-up with the patient's
invite code, refusals in plain words, a change of password in settings, and a
forgotten password reset with a code the nurse makes on the patient's page.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from server.db import database
from server.models import Clinic, User
from server.services import accounts, patients
from server.timeutil import utcnow

from .conftest import PASSWORD, login, screenshot

NEW_PASSWORD = "my own long passphrase"
#: what the app says on Today and the family view, per language (i18n.js)
TODAY = {"en": "Today", "de": "Heute", "es": "Hoy", "it": "Oggi"}
SIGNUP = {"en": "Create your account", "de": "Konto anlegen", "es": "Cree su cuenta", "it": "Crei il suo account"}


def new_patient(live, name: str, language: str = "en") -> tuple[int, str]:
    """A patient of the demo's second clinic with no account yet: (patient id, enrolment code)."""
    with live.app.app_context():
        session = database(live.app).sessions()
        try:
            clinic = session.scalar(select(Clinic).where(Clinic.name == "Other Hospital"))
            nurse = session.scalar(select(User).where(User.email == "nurse@other.demo.alemtrack.test"))
            now = utcnow()
            patient, code, _ = patients.create_patient(session, clinic, {
                "display_name": name, "sex": "female", "childbearing_potential": False, "breastfeeding": False,
                "timezone": "Europe/Madrid", "language": language, "baseline": {"platelets": 250}}, nurse, now,
                live.app.config)
            today = now.date()
            patients.add_course(patient, [today - timedelta(days=60 - i) for i in range(5)], "given", nurse, now)
            session.commit()
            return patient.id, code
        finally:
            session.close()


def family_code(live, patient_id: int) -> str:
    with live.app.app_context():
        session = database(live.app).sessions()
        try:
            from server.models import Patient
            code, _ = accounts.issue_code(session, session.get(Patient, patient_id), "family", None, utcnow(), 7)
            session.commit()
            return code
        finally:
            session.close()


def sign_up(page, email: str, password: str = NEW_PASSWORD, confirm: str | None = None) -> None:
    page.locator("#signup-email").fill(email)
    page.locator("#signup-password").fill(password)
    page.locator("#signup-password-again").fill(confirm if confirm is not None else password)
    page.locator("form button[type=submit]").click()


def new_context(browser, live, locale: str, color_scheme: str = "light"):
    return browser.new_context(base_url=live.url, viewport={"width": 390, "height": 844}, locale=locale,
                               color_scheme=color_scheme)


@pytest.mark.parametrize("language", ["en", "de", "es", "it"])
def test_sign_up_from_the_link_lands_on_today(browser, live, language):
    pid, code = new_patient(live, f"Starter {language}", language)
    context = new_context(browser, live, language)
    page = context.new_page()
    try:
        page.goto(f"/#/signup?code={code}")
        page.wait_for_selector("#signup-code")
        assert page.locator("h1").inner_text() == SIGNUP[language]
        assert page.locator("#signup-code").input_value() == code  # filled from the link
        assert "10" in page.locator("#signup-password-rules").inner_text()  # the rules before she types
        screenshot(page, f"start-signup-{language}")
        sign_up(page, f"starter.{language}@e2e.test", NEW_PASSWORD, "not the same passphrase")
        assert page.get_by_role("alert").inner_text()
        page.locator("#signup-password-show").check()
        assert page.locator("#signup-password").get_attribute("type") == "text"
        screenshot(page, f"start-signup-mismatch-{language}")
        sign_up(page, f"starter.{language}@e2e.test")
        page.wait_for_selector("nav a[href='#/logout']")
        page.locator("main h1").filter(has_text=TODAY[language]).wait_for()  # the nav is drawn before the view
        screenshot(page, f"start-signup-today-{language}")
    finally:
        context.close()


def test_refusals_are_plain_words(browser, live):
    pid, code = new_patient(live, "Refused Rita")
    context = new_context(browser, live, "de", "dark")
    page = context.new_page()
    try:
        page.goto("/#/signup?code=AAAA-BBBB-CCCC")
        sign_up(page, "rita@e2e.test")
        alert = page.get_by_role("alert")
        alert.filter(has_text="Code").wait_for()
        assert "funktioniert nicht" in alert.inner_text()
        screenshot(page, "start-signup-bad-code-de-dark")
        page.goto(f"/#/signup?code={code}")
        page.wait_for_selector("#signup-code")
        sign_up(page, "rita@e2e.test", "short", "short")
        page.get_by_role("alert").filter(has_text="10").wait_for()
        sign_up(page, "flow@e2e.test")  # an email with an account
        page.get_by_role("alert").filter(has_text="Konto").wait_for()
        assert "Passwort vergessen" in page.get_by_role("alert").inner_text()
        screenshot(page, "start-signup-email-taken-de-dark")
    finally:
        context.close()


def test_a_family_member_signs_up_with_the_invite_code_and_sees_the_family_view(browser, live):
    pid, code = new_patient(live, "Fiona Family")
    invite = family_code(live, pid)
    context = new_context(browser, live, "en")
    page = context.new_page()
    try:
        page.goto(f"/#/signup?code={invite}")
        sign_up(page, "sister.of.fiona@e2e.test")
        page.wait_for_selector("nav a[href='#/logout']")
        page.get_by_role("heading", name="Reminders for Fiona Family").wait_for()
        screenshot(page, "start-family-signup-en")
        # her settings: the change of password
        page.goto("/#/settings")
        page.locator("#current-password").fill(NEW_PASSWORD)
        page.locator("#new-password").fill("an even longer passphrase")
        page.locator("#new-password-again").fill("an even longer passphrase")
        page.get_by_role("button", name="Change the password").click()
        page.get_by_role("status").filter(has_text="Your password is changed").wait_for()
        screenshot(page, "start-family-password-changed-en")
    finally:
        context.close()


def test_a_patient_changes_her_password_in_settings(browser, live):
    pid, code = new_patient(live, "Carla Change", "de")
    context = new_context(browser, live, "de")
    page = context.new_page()
    try:
        page.goto(f"/#/signup?code={code}")
        sign_up(page, "carla@e2e.test")
        page.wait_for_selector("nav a[href='#/logout']")
        page.goto("/#/settings")
        page.locator("#current-password").fill("wrong current password")
        page.locator("#new-password").fill("a second long passphrase")
        page.locator("#new-password-again").fill("a second long passphrase")
        page.locator("#password-title + form button[type=submit]").click()
        page.get_by_role("alert").filter(has_text="jetzige Passwort ist falsch").wait_for()
        page.locator("#current-password").fill(NEW_PASSWORD)
        page.locator("#password-title + form button[type=submit]").click()
        page.get_by_role("status").filter(has_text="Passwort ist geändert").wait_for()
        page.locator("#password-title").scroll_into_view_if_needed()
        screenshot(page, "start-password-changed-de")
    finally:
        context.close()


def test_a_forgotten_password_with_a_code_from_the_nurse(browser, live):
    pid, code = new_patient(live, "Forgetful Fran")
    context = new_context(browser, live, "en")
    page = context.new_page()
    try:
        page.goto(f"/#/signup?code={code}")
        sign_up(page, "fran@e2e.test")
        page.wait_for_selector("nav a[href='#/logout']")
    finally:
        context.close()
    # the nurse makes a code on her page
    nurse = new_context(browser, live, "en")
    page = nurse.new_page()
    try:
        login(page, "nurse@other.demo.alemtrack.test")
        page.goto(f"/#/patient/{pid}")
        page.get_by_role("button", name="Make a reset code").click()
        reset_code = page.locator("#reset-code-value").inner_text()
        page.locator("#reset-title").scroll_into_view_if_needed()
        screenshot(page, "start-nurse-reset-code-en")
    finally:
        nurse.close()
    context = new_context(browser, live, "en")
    page = context.new_page()
    try:
        page.goto("/")
        page.get_by_role("link", name="Forgot your password?").click()
        page.locator("#reset-email").fill("fran@e2e.test")
        page.locator("#reset-code").fill("AAAA-BBBB-CCCC")
        page.locator("#reset-password").fill("a brand new passphrase")
        page.locator("#reset-password-again").fill("a brand new passphrase")
        page.get_by_role("button", name="Set the new password").click()
        page.get_by_role("alert").filter(has_text="do not match").wait_for()
        screenshot(page, "start-forgot-wrong-code-en")
        page.get_by_role("button", name="Email me a code").click()  # no SMTP here: the same answer
        page.get_by_role("status").filter(has_text="a code is on its way").wait_for()
        screenshot(page, "start-forgot-mail-asked-en")
        page.locator("#reset-code").fill(reset_code.lower())  # as she may type it
        page.get_by_role("button", name="Set the new password").click()
        page.wait_for_selector("nav a[href='#/logout']")
        page.locator("main h1").filter(has_text="Today").wait_for()
    finally:
        context.close()
    page = new_context(browser, live, "en").new_page()
    login_with(page, "fran@e2e.test", "a brand new passphrase")


def test_the_nurse_hands_out_the_sign_up_link(browser, live):
    pid, _ = new_patient(live, "Linda Link", "es")
    nurse = new_context(browser, live, "en")
    page = nurse.new_page()
    try:
        login(page, "nurse@other.demo.alemtrack.test")
        page.goto(f"/#/patient/{pid}")
        page.get_by_role("button", name="Make a new enrolment code").click()
        link = page.locator("a.signup-link").get_attribute("href")
        assert "/#/signup?code=" in link
        page.locator(".qr svg[role=img]").wait_for()  # the QR code of the same link
        page.locator("#signup-title").scroll_into_view_if_needed()
        screenshot(page, "start-nurse-signup-link-en")
    finally:
        nurse.close()
    context = new_context(browser, live, "es")
    page = context.new_page()
    try:
        page.goto(link)
        sign_up(page, "linda@e2e.test")
        page.wait_for_selector("nav a[href='#/logout']")
        page.locator("main h1").filter(has_text=TODAY["es"]).wait_for()
    finally:
        context.close()


@pytest.fixture
def mailbox(live):
    """A local SMTP server the live app mails to (ALEMTRACK_SMTP_* as an operator would set them)."""
    import email.policy
    import socket
    from email import message_from_bytes

    from aiosmtpd.controller import Controller

    class Keep:
        def __init__(self):
            self.messages = []

        async def handle_DATA(self, server, session, envelope):
            self.messages.append(message_from_bytes(envelope.content, policy=email.policy.default))
            return "250 OK"

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    handler = Keep()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    live.app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=port, SMTP_FROM="team@clinic.test")
    try:
        yield handler.messages
    finally:
        live.app.config.update(SMTP_HOST=None)
        controller.stop()


def test_a_forgotten_password_with_a_code_by_email(browser, live, mailbox):
    import re

    pid, code = new_patient(live, "Mila Mail", "it")
    context = new_context(browser, live, "it")
    page = context.new_page()
    try:
        page.goto(f"/#/signup?code={code}")
        sign_up(page, "mila@e2e.test")
        page.wait_for_selector("nav a[href='#/logout']")
    finally:
        context.close()
    context = new_context(browser, live, "it")
    page = context.new_page()
    try:
        page.goto("/")
        page.get_by_role("link", name="Password dimenticata?").click()
        page.locator("#reset-email").fill("mila@e2e.test")
        page.locator("#send-code").click()
        page.get_by_role("status").filter(has_text="il codice sta arrivando").wait_for()
        for _ in range(100):  # the mail leaves after the answer (docs/decisions.md, "Sign-up and passwords")
            if mailbox:
                break
            page.wait_for_timeout(100)
        assert len(mailbox) == 1
        text = mailbox[0].get_content()
        assert "codice monouso" in text  # her language
        mailed = re.search(r"\b([A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4})\b", text).group(1)
        page.locator("#reset-code").fill(mailed)
        page.locator("#reset-password").fill("una nuova frase lunga")
        page.locator("#reset-password-again").fill("una nuova frase lunga")
        screenshot(page, "start-forgot-mail-it")
        page.locator("form button[type=submit]").click()
        page.wait_for_selector("nav a[href='#/logout']")
        page.locator("main h1").filter(has_text=TODAY["it"]).wait_for()
    finally:
        context.close()


def login_with(page, email, password):
    page.goto("/")
    page.locator("#email").fill(email)
    page.locator("#password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_selector("nav a[href='#/logout']")


def test_the_login_screen_leads_to_sign_up(browser, live):
    context = new_context(browser, live, "it")
    page = context.new_page()
    try:
        page.goto("/")
        page.get_by_role("link", name="Ho un codice: crea il mio account").click()
        page.get_by_role("heading", name="Crei il suo account").wait_for()
        assert PASSWORD  # the demo's password is not used on these screens
    finally:
        context.close()


#: words that are the same in a language as in English on purpose
SAME_AS_ENGLISH = {"signup_code", "reset_code_shown", "nav_account", "account_title"}


def test_every_start_word_is_in_every_language(browser, live):
    """pwa/js/i18n-start.js: the same keys in en, es, de, it, and no English sentence left in another."""
    context = new_context(browser, live, "en")
    page = context.new_page()
    try:
        page.goto("/")
        words = page.evaluate("import('/js/i18n-start.js').then((m) => m.START_WORDS)")
    finally:
        context.close()
    assert set(words) == {"en", "es", "de", "it"}
    for language in ("es", "de", "it"):
        assert set(words[language]) == set(words["en"]), language
        same = {key for key, text in words[language].items() if text == words["en"][key]}
        assert same <= SAME_AS_ENGLISH, (language, same)
