"""The nurse's lab import screen in Chromium (issue 19): a hospital number at enrolment,
then a CSV pasted, its columns mapped from the header, a preview with a refused row and
why, and the valid rows stored once the nurse confirms.

Screenshots (tests/e2e/screenshots/): the preview and the stored answer at 1366 px, in
English and German.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from .conftest import PASSWORD, screenshot

LOCALES = {"en": "en-GB", "de": "de-DE"}
WORDS = {"en": {"refused": "refused", "to_store": "to store", "stored": "Stored: 1"},
         "de": {"refused": "abgelehnt", "to_store": "zu speichern", "stored": "Gespeichert: 1"}}


@pytest.mark.parametrize("language", ["en", "de"])
def test_the_nurse_previews_and_stores_a_lab_csv(browser, live, language):
    words = WORDS[language]
    context = browser.new_context(base_url=live.url, viewport={"width": 1366, "height": 900},
                                  locale=LOCALES[language], timezone_id="Europe/Madrid")
    page = context.new_page()
    number = f"E2E-{language}-1"
    try:
        page.goto("/")
        page.locator("#email").fill("nurse@other.demo.alemtrack.test")
        page.locator("#password").fill(PASSWORD)
        page.locator("button[type='submit']").click()
        page.wait_for_selector("nav a[href='#/logout']")
        page.locator("#main h1").wait_for()
        # Through the menu, not page.goto: a reload races the start-up's own draw of the flag queue.
        page.locator("nav a[href='#/enrol']").click()
        page.locator("#hospital-number").wait_for()
        page.locator("#name").fill(f"Import {language}")
        page.locator("#hospital-number").fill(number)
        page.locator("#tz").select_option("Europe/Madrid")
        page.locator("form button[type='submit']").click()
        page.locator("#main a[href^='#/patient/']").wait_for()
        patient_link = page.locator("#main a[href^='#/patient/']").get_attribute("href")

        page.locator("nav a[href='#/import']").click()
        day = (date.today() - timedelta(days=2)).isoformat()
        text = (f"MRN;Test;Result;Units;Date\n{number};platelets;25000;/uL;{day}\n"
                f"NOPE-1;777-3;200;10^9/L;{day}\n")
        page.locator("#csv-text").fill(text)
        page.locator("#read-columns").click()
        page.locator("#map-hospital_number").wait_for()
        # The selects are prefilled from the header names.
        assert page.locator("#map-hospital_number").input_value() == "MRN"
        assert page.locator("#map-analyte").input_value() == "Test"
        assert page.locator("#map-value").input_value() == "Result"
        assert page.locator("#map-unit").input_value() == "Units"
        assert page.locator("#map-taken_on").input_value() == "Date"
        page.locator("#preview").click()
        table = page.locator("table.import-table")
        table.wait_for()
        rows = table.locator("tbody tr")
        assert rows.count() == 2
        first = rows.nth(0).inner_text()  # refused rows first
        assert words["refused"] in first and "MRN" in first and "NOPE-1" in first
        assert words["to_store"] in rows.nth(1).inner_text()
        screenshot(page, f"{language}-import-preview-1366")

        page.locator("#store").click()
        page.locator(".store-error").wait_for()  # a refused row: the nurse must confirm
        page.locator("#confirm-valid").check()
        page.locator("#store").click()
        page.locator("p.notice[role='status']").wait_for()
        assert words["stored"] in page.locator("p.notice[role='status']").inner_text()
        screenshot(page, f"{language}-import-stored-1366")

        page.evaluate(f"location.hash = '{patient_link}'")
        page.locator("#save-hospital-number").wait_for()
        assert page.locator("#hospital-number").input_value() == number
    finally:
        context.close()
