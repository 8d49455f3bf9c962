"""The nurse's patient list and enrolment, and the clinic admin's screens (issue 17), in Chromium.

In each of the four languages: a nurse searches and filters the clinic's list and
orders it, enrols a patient with every field (the leukaemia protocol refused in
plain words while the server does not take it) and gets the code with its QR code;
an admin changes a clinical setting and puts it back, invites a nurse and reads
the audit log filtered to staff changes. axe finds nothing serious; no page
scrolls sideways at 320 px; screenshots at 390x844 and 1366x768 go to
tests/e2e/screenshots/ to be looked at.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from .conftest import PASSWORD, screenshot
from .test_accessibility import serious

SIZES = {390: {"width": 390, "height": 844}, 1366: {"width": 1366, "height": 768}}
LOCALES = {"en": "en-GB", "es": "es-ES", "de": "de-DE", "it": "it-IT"}
#: the words the test reads, as i18n-clinic.js and i18n.js say them
WORDS = {
    "en": {"patients": "Patients", "open_flags": "Open flags", "enrolled": "is enrolled", "cll": "leukaemia",
           "saved": "Saved. Timelines and reminders now follow it.", "changed": "Changed for this clinic",
           "invited": "Account made for", "staff": "Staff accounts", "one_patient": "1 patient"},
    "es": {"patients": "Pacientes", "open_flags": "Avisos abiertos", "enrolled": "está dada de alta",
           "cll": "eucemia", "saved": "Guardado. Calendarios y recordatorios ya lo siguen.",
           "changed": "Cambiado en este centro", "invited": "Cuenta creada para", "staff": "Cuentas del personal",
           "one_patient": "1 paciente"},
    "de": {"patients": "Patienten", "open_flags": "Offene Hinweise", "enrolled": "ist aufgenommen",
           "cll": "Leukämie", "saved": "Gespeichert. Zeitpläne und Erinnerungen folgen jetzt.",
           "changed": "Für diese Klinik geändert", "invited": "Konto für", "staff": "Konten des Personals",
           "one_patient": "1 Patient"},
    "it": {"patients": "Pazienti", "open_flags": "Segnalazioni aperte", "enrolled": "è registrata",
           "cll": "eucemia", "saved": "Salvato. Calendari e promemoria ora lo seguono.",
           "changed": "Cambiato per questo centro", "invited": "Account creato per",
           "staff": "Account del personale", "one_patient": "1 paziente"},
}


def shots(page, name: str) -> None:
    """Nothing serious for axe; no sideways scrolling at 320 px; screenshots at both sizes."""
    assert serious(page) == [], name
    here = page.viewport_size
    page.set_viewport_size({"width": 320, "height": 640})
    assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0, f"{name} at 320 px"
    for width, size in SIZES.items():
        page.set_viewport_size(size)
        assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0, f"{name} at {width}"
        screenshot(page, f"{name}-{width}")
    page.set_viewport_size(here)


def log_in(browser, live, email: str, language: str, width: int):
    context = browser.new_context(base_url=live.url, viewport=SIZES[width], locale=LOCALES[language],
                                  timezone_id="Europe/Madrid")
    page = context.new_page()
    page.goto("/")
    page.locator("#email").fill(email)
    page.locator("#password").fill(PASSWORD)
    page.locator("button[type='submit']").click()
    page.wait_for_selector("nav a[href='#/logout']")
    assert page.evaluate("document.documentElement.lang") == language
    return context, page


@pytest.mark.parametrize("language,width", [("en", 1366), ("es", 390), ("de", 1366), ("it", 390)])
def test_the_nurse_finds_patients_and_enrols_one_with_every_field(browser, live, language, width):
    words = WORDS[language]
    context, page = log_in(browser, live, "nurse@demo.alemtrack.test", language, width)
    try:
        page.goto("/#/patients")
        page.get_by_role("heading", name=words["patients"]).wait_for()
        rows = page.locator("table.patient-list tbody tr")
        everyone = rows.count()
        assert everyone > 5
        # No warning on every row: whether a patient can be reached is a filter.
        assert "no working reminder channel" not in page.locator("main").inner_text()

        # Search by part of a name: every row shown has it.
        first_name = rows.first.locator("th a").inner_text()
        part = first_name.split()[0][1:4]
        page.locator("#patient-search").fill(part.upper())
        page.locator("form[role=search] button[type=submit]").click()
        expect(page).to_have_url(re.compile(r"q="))
        page.locator("form[role=search] button.secondary").wait_for()  # drawn again, with the search
        names = page.locator("table.patient-list tbody th a").all_inner_texts()
        assert names and all(part.lower() in name.lower() for name in names) and len(names) < everyone
        page.locator("form[role=search] button.secondary").click()  # clear the search
        expect(rows).to_have_count(everyone)

        # A filter keeps as many patients as its button counts; pressed, it says so.
        chip = page.locator("button[data-filter=open_flags]")
        expect(chip).to_contain_text(words["open_flags"])
        count = int(chip.locator(".count").inner_text())
        chip.click()
        expect(page.locator("button[data-filter=open_flags]")).to_have_attribute("aria-pressed", "true")
        expect(rows).to_have_count(count)
        assert all(text for text in page.locator("td.flags-cell .badge").all_inner_texts())
        page.locator("#patient-sort").select_option("overdue_labs")
        expect(page).to_have_url(re.compile(r"sort=overdue_labs"))
        expect(page.locator("button[data-filter=open_flags]")).to_have_attribute("aria-pressed", "true")
        shots(page, f"{language}-nurseb-patient-list")

        # Enrolment with every field, in the leukaemia protocol (issue 20).
        page.goto("/#/enrol")
        page.locator("#name").fill(f"Enrolled {language} {width}")
        page.locator("input[name=protocol][value=cll]").check()
        page.locator("#hospital-number").fill(f"NB-{language}-{width}")
        page.locator("#date-of-birth").fill("1984-02-29")
        page.locator("#phone").fill("+34 600 123 456")
        page.locator("#sex").select_option("female")
        page.locator("#lang").select_option(language)
        page.locator("#tz").select_option("Europe/Rome")
        page.locator("#childbearing").check()
        page.locator("#bp").fill("245")
        page.locator("#bc").fill("68")
        assert page.locator("#tz option:checked").inner_text().startswith("Rome")
        shots(page, f"{language}-nurseb-enrol")
        expect(page.locator("input[name=protocol][value=cll] + *, label:has(input[name=protocol][value=cll])").first
               ).to_contain_text(words["cll"])
        page.locator("form.enrol-form button[type=submit]").click()
        card = page.locator("section.enrolled")
        expect(card).to_contain_text(words["enrolled"])
        code = card.locator(".code").inner_text()
        assert re.fullmatch(r"[A-Z0-9-]{8,}", code)
        qr = card.locator(".qr svg")
        qr.wait_for()
        assert qr.get_attribute("role") == "img" and qr.get_attribute("aria-label")
        link = card.locator("a.signup-link").get_attribute("href")
        assert link.endswith(f"#/signup?code={code}")
        # The printed card: the code and the steps, without the app around it.
        page.emulate_media(media="print")
        assert card.locator(".print-only").first.is_visible() and not page.locator("nav#nav").is_visible()
        page.emulate_media(media="screen")
        shots(page, f"{language}-nurseb-enrolled")
        pid = int(card.locator("a[href^='#/patient/']").get_attribute("href").rsplit("/", 1)[1])
        record = page.request.get(f"/api/v1/patients/{pid}").json()
        assert (record["phone"], record["date_of_birth"], record["hospital_number"], record["timezone"],
                record["language"], record["childbearing_potential"], record["baseline"]) == (
            "+34 600 123 456", "1984-02-29", f"NB-{language}-{width}", "Europe/Rome", language, True,
            {"platelets": 245, "creatinine": 68})

        # She is found by her hospital number.
        page.goto(f"/#/patients?q=NB-{language}-{width}")
        expect(page.locator(".list-total")).to_have_text(words["one_patient"])
        # The admin's screens are not the nurse's.
        assert page.locator("nav a[href='#/clinic']").count() == 0
    finally:
        context.close()


@pytest.mark.parametrize("language,width", [("en", 390), ("es", 1366), ("de", 390), ("it", 1366)])
def test_the_admin_changes_a_setting_invites_a_nurse_and_reads_the_audit_log(browser, live, language, width):
    words = WORDS[language]
    context, page = log_in(browser, live, "admin@demo.alemtrack.test", language, width)
    try:
        page.locator("nav a[href='#/clinic']").click()
        card = page.locator("[data-setting=lab_window_days]")
        card.wait_for()
        assert "7" in card.locator(".hint").inner_text()  # its default, and what it allows
        card.locator("input").fill("10")
        card.get_by_role("button").first.click()
        card = page.locator("[data-setting=lab_window_days]")
        expect(card.get_by_role("status")).to_have_text(words["saved"])
        expect(card).to_contain_text(words["changed"])
        assert page.request.get("/api/v1/clinic/settings").json()["settings"] == {"lab_window_days": 10}
        shots(page, f"{language}-nurseb-settings")
        card.locator("input").fill("99")  # outside 0..31: refused, said in words
        card.get_by_role("button").first.click()
        expect(card.get_by_role("alert")).to_be_visible()
        card.get_by_role("button").nth(1).click()  # back to the default
        expect(page.locator("[data-setting=lab_window_days]").get_by_role("status")).to_have_text(words["saved"])
        assert page.request.get("/api/v1/clinic/settings").json()["settings"] == {}

        page.locator("nav.tabs a[href='#/staff']").click()
        page.get_by_role("heading", name=words["staff"], exact=True).wait_for()
        email = f"new.nurse.{language}.{width}@demo.alemtrack.test"
        page.locator("#staff-email").fill(email)
        page.locator("#staff-role").select_option("nurse")
        page.locator("#staff-invite").click()
        message = page.locator("#staff-message")
        expect(message).to_contain_text(words["invited"])
        assert re.fullmatch(r"[A-Z0-9-]{8,}", message.locator(".code").inner_text())
        expect(page.locator(f"tr[data-email='{email}']")).to_be_visible()
        shots(page, f"{language}-nurseb-staff")

        page.locator("nav.tabs a[href='#/audit']").click()
        page.locator("#audit-action").select_option("staff")
        page.locator("#audit-filter").click()
        expect(page).to_have_url(re.compile(r"action=staff"))
        codes = page.locator("table.audit-table tbody td code")
        expect(codes.filter(has_not_text=re.compile(r"^staff\."))).to_have_count(0)  # drawn again, filtered
        actions = page.locator("table.audit-table tbody td code").all_inner_texts()
        assert actions and set(actions) <= {"staff.invite", "staff.update", "staff.code"} and "staff.invite" in actions
        shots(page, f"{language}-nurseb-audit")

        page.locator("nav.tabs a[href='#/delivery']").click()
        page.locator("table.delivery-table tbody tr").first.wait_for()
        shots(page, f"{language}-nurseb-delivery")
    finally:
        context.close()
