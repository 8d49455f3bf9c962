"""The care team's patient page of CLINICAL.md version 2 (issue 14) in a real Chromium.

A nurse enrols a patient, records a given course and plans the next one too soon,
sees the warning line under the planned course in her own language (the browser's),
and sets what the care team decides for this patient: cervical screening (default by
sex, yes or no) and a later end of the listeria diet; each change is confirmed and
the page shows what the server stored. axe checks the page; screenshots at 390 px and
1366 px go to tests/e2e/screenshots/ to be looked at.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from playwright.sync_api import expect

from .conftest import PASSWORD, screenshot
from .test_accessibility import serious

SIZES = {390: {"width": 390, "height": 844}, 1366: {"width": 1366, "height": 900}}
NARROW = {"width": 320, "height": 640}
LOCALES = {"en": "en-GB", "es": "es-ES", "de": "de-DE", "it": "it-IT"}
#: the page's own words, as the nurse reads them (pwa/js/i18n-care.js and i18n.js)
WORDS = {
    "en": {"enrol": "Enrol", "saved": "Saved. The timeline and the reminders now follow these choices.",
           "course_saved": "Course saved.", "warning": "Warning", "planned": "Planned", "given": "Given",
           "yes": "Yes", "no": "No", "default": "Default by sex (Female): Yes", "remove": "Remove the date",
           "bad_dates": "Check the infusion dates", "future": "A date is in the future"},
    "es": {"enrol": "Dar de alta", "saved": "Guardado. El calendario y los recordatorios ya siguen estas decisiones.",
           "course_saved": "Ciclo guardado.", "warning": "Advertencia", "planned": "Previsto", "given": "Administrado",
           "yes": "Sí", "no": "No", "default": "Por defecto según el sexo (Mujer): Sí", "remove": "Quitar la fecha",
           "bad_dates": "Revise las fechas de perfusión", "future": "Hay una fecha en el futuro"},
    "de": {"enrol": "Aufnehmen", "saved": "Gespeichert. Zeitplan und Erinnerungen folgen jetzt diesen Entscheidungen.",
           "course_saved": "Behandlungsphase gespeichert.", "warning": "Warnung", "planned": "Geplant",
           "given": "Gegeben",
           "yes": "Ja", "no": "Nein", "default": "Standard nach Geschlecht (Weiblich): Ja", "remove": "Datum entfernen",
           "bad_dates": "Prüfen Sie die Infusionstage", "future": "Ein Datum liegt in der Zukunft"},
    "it": {"enrol": "Iscrivi", "saved": "Salvato. Il calendario e i promemoria ora seguono queste scelte.",
           "course_saved": "Ciclo salvato.", "warning": "Attenzione", "planned": "Previsto", "given": "Somministrato",
           "yes": "Sì", "no": "No", "default": "Predefinito in base al sesso (Donna): Sì", "remove": "Rimuovi la data",
           "bad_dates": "Controlli le date delle infusioni", "future": "Una data è nel futuro"},
}


def typed(day: date, language: str) -> str:
    """A date as a nurse of that language types it: 2027-01-11 in English, 11.01.2027 in
    German, 11/01/2027 in Spanish and Italian."""
    if language == "en":
        return day.isoformat()
    return day.strftime("%d.%m.%Y" if language == "de" else "%d/%m/%Y")


def course(first: date, days: int, language: str) -> str:
    return ", ".join(typed(first + timedelta(days=i), language) for i in range(days))


def shots(page, name: str) -> None:
    """No sideways scrolling at 320, 390 or 1366 px; a screenshot at 390 and 1366 px."""
    here = page.viewport_size
    page.set_viewport_size(NARROW)
    assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0, f"{name} at 320 px"
    for width, size in SIZES.items():
        page.set_viewport_size(size)
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{name} at {width} px is {overflow} px too wide"
        screenshot(page, f"{name}-{width}")
    page.set_viewport_size(here)


def stored(page, pid: int) -> dict:
    return page.request.get(f"/api/v1/patients/{pid}").json()


@pytest.mark.parametrize("language,width", [("en", 390), ("en", 1366), ("de", 390), ("de", 1366),
                                            ("es", 390), ("it", 1366)])
def test_the_nurse_sets_the_v2_attributes_and_sees_a_too_soon_course(browser, live, language, width):
    words = WORDS[language]
    context = browser.new_context(base_url=live.url, viewport=SIZES[width], locale=LOCALES[language],
                                  timezone_id="Europe/Madrid")
    page = context.new_page()
    try:
        page.goto("/")
        page.locator("#email").fill("nurse@other.demo.alemtrack.test")
        page.locator("#password").fill(PASSWORD)
        page.locator("button[type='submit']").click()
        page.wait_for_selector("nav a[href='#/logout']")
        assert page.evaluate("document.documentElement.lang") == language

        # Enrolment offers both attributes; the default of cervical screening follows the sex chosen.
        page.goto("/#/enrol")
        page.locator("#name").fill(f"Nurse v2 {language} {width}")
        assert page.get_by_label(words["default"]).is_checked()
        page.locator("#sex").select_option("male")
        assert "(Female)" not in page.locator("fieldset[aria-describedby=cervical-hint]").inner_text()
        page.locator("#sex").select_option("female")
        page.locator("#tz").select_option("Europe/Madrid")
        page.locator("#listeria-until").fill("2000-01-01")
        page.locator("#listeria-until").fill("")
        shots(page, f"{language}-nurse-enrol")
        page.get_by_role("button", name=words["enrol"]).click()
        page.locator("main a[href^='#/patient/']").click()
        page.locator("#care-title").wait_for()
        pid = int(page.url.rsplit("/", 1)[1])
        assert stored(page, pid)["cervical_screening"] is None and stored(page, pid)["listeria_until"] is None

        # A given course four months ago, then the next one planned two months from now: too soon.
        today = date.fromisoformat(page.evaluate("new Date().toLocaleDateString('sv', {timeZone: 'Europe/Madrid'})"))
        # The record's course entry (issue 17), day by day: the dates as the nurse types them.
        page.locator("input[name=mode][value=days]").check()
        page.locator("#infusions").fill(course(today - timedelta(days=120), 5, language))
        page.locator("#course-status").select_option("given")
        page.locator("#save-course").click()
        page.get_by_text(words["course_saved"]).wait_for()
        page.locator("input[name=mode][value=days]").check()
        # Refused before anything is sent, in her language: a typo, and a "given" course in the future.
        page.locator("#infusions").fill("2027-13-45" if language == "en" else "45.13.2027")
        page.locator("#save-course").click()
        assert words["bad_dates"] in page.get_by_role("alert").inner_text()
        page.locator("#infusions").fill(course(today + timedelta(days=60), 3, language))
        page.locator("#course-status").select_option("given")
        page.locator("#save-course").click()
        assert words["future"] in page.get_by_role("alert").inner_text()
        page.locator("#course-status").select_option("planned")
        page.locator("#save-course").click()
        # Its warnings are shown before it is saved; a second press saves it.
        page.locator(".course-entry [data-preview-warning='course.too_soon']").wait_for()
        page.locator("#save-course").click()
        page.get_by_text(words["course_saved"]).wait_for()

        texts = page.request.get(f"/api/v1/content/texts?lang={language}").json()["warnings"]
        planned = page.locator("ul.courses > li").nth(1)
        assert words["planned"] in planned.inner_text()
        line = planned.locator("[data-warning='course.too_soon']")
        assert line.inner_text() == f"⚠ {words['warning']}: {texts['course.too_soon']['text']}"
        assert page.locator("ul.courses > li").nth(0).locator(".warning").count() == 0  # a given course: none
        assert "course.too_soon" in {w["code"] for w in stored(page, pid)["warnings"]}
        shots(page, f"{language}-nurse-patient-too-soon")

        # A later end of the listeria diet and cervical screening off: confirmed, and shown as stored.
        until = today + timedelta(days=200)
        page.locator("#listeria-until").fill(until.isoformat())
        page.get_by_label(words["no"], exact=True).check()
        page.locator("#save-care").click()
        confirmation = page.get_by_text(words["saved"])
        confirmation.wait_for()
        assert confirmation.evaluate("el => el === document.activeElement")
        record = stored(page, pid)
        assert record["listeria_until"] == until.isoformat() and record["cervical_screening"] is False
        assert page.locator("#listeria-until").input_value() == until.isoformat()
        assert page.get_by_label(words["no"], exact=True).is_checked()
        # The diet of the latest (planned) course now ends on that date, at once.
        shown = page.evaluate(f"new Intl.DateTimeFormat('{language}', {{day: 'numeric', month: 'long', "
                              f"year: 'numeric', timeZone: 'UTC'}}).format(new Date('{until.isoformat()}T00:00:00Z'))")
        assert shown in page.locator("#care-title + fieldset ~ p.muted").inner_text()
        shots(page, f"{language}-nurse-patient-care-saved")
        problems = serious(page)
        assert problems == []

        # Another visit shows the same (nothing stale), then back to the defaults.
        page.reload()
        page.locator("#care-title").wait_for()
        assert page.locator("#listeria-until").input_value() == until.isoformat()
        page.get_by_label(words["yes"], exact=True).check()
        page.locator("#save-care").click()
        page.get_by_text(words["saved"]).wait_for()
        assert stored(page, pid)["cervical_screening"] is True
        page.get_by_label(words["default"]).check()
        page.get_by_role("button", name=words["remove"]).click()
        # Removing the date saves it at once, with the choice made beside it; the page is drawn again.
        expect(page.get_by_role("button", name=words["remove"])).to_have_count(0)
        expect(page.get_by_text(words["saved"])).to_be_focused()
        record = stored(page, pid)
        assert record["listeria_until"] is None and record["cervical_screening"] is None
        assert page.locator("#listeria-until").input_value() == ""
        assert page.get_by_label(words["default"]).is_checked()
    finally:
        context.close()
