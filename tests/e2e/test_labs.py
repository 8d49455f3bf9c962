"""The lab screens in Chromium (issue 14): a result entered in the unit the lab printed,
the advice of an emergency result at once, the list with units, and a withdrawal.

Screenshots (tests/e2e/screenshots/): the form and the advice at 390 px and 1366 px, in
English and German.
"""

from __future__ import annotations

from .conftest import login, screenshot

SIZES = {"390": {"width": 390, "height": 844}, "1366": {"width": 1366, "height": 900}}


def shots(page, name: str) -> None:
    for label, size in SIZES.items():
        page.set_viewport_size(size)
        screenshot(page, f"{name}-{label}")
    page.set_viewport_size(SIZES["390"])


def set_language(page, language: str) -> None:
    page.goto("/#/settings")
    page.locator("#language").select_option(language)
    page.get_by_role("button", name="Save", exact=True).click()
    page.locator(f"html[lang='{language}']").wait_for(state="attached")
    page.locator("#settings-saved:not(:empty)").wait_for()


def test_a_result_in_the_labs_unit_gives_the_advice_at_once_and_can_be_withdrawn(browser, live):
    context = browser.new_context(base_url=live.url, viewport=SIZES["390"])
    page = context.new_page()
    login(page, "labs@e2e.test")
    page.goto("/#/labs")
    unit = page.locator("#u-platelets")
    unit.wait_for()
    # The clinic sets no usual unit: the canonical one is offered first, each spelling once.
    assert unit.input_value() == "10^9/L"
    options = unit.locator("option").all_inner_texts()
    assert "10⁹/L" in options and "/µL" in options and len(options) == len(set(options))
    assert page.locator("#u-creatinine option").all_inner_texts() == ["µmol/L", "mg/dL"]
    page.locator("#v-platelets").fill("25000")
    unit.select_option("/uL")
    page.locator("#v-creatinine").fill("0.9")
    page.locator("#u-creatinine").select_option("mg/dL")
    shots(page, "en-labs-form-with-units")
    page.get_by_role("button", name="Save results").click()

    advice = page.locator("section.advice")
    advice.wait_for()
    text = advice.inner_text()
    assert "Emergency" in text and "Platelets are very low" in text and "Call the emergency number now" in text
    assert page.locator("section.advice a[href='tel:112']").count() == 1
    assert "Platelets 25,000 /µL (= 25 × 10⁹/L)" in text  # what she entered, to catch a typo
    shots(page, "en-labs-emergency-advice")

    page.get_by_role("link", name="Back to my results").click()
    results = page.locator("ul.results")
    results.wait_for()
    listed = results.inner_text()
    assert "25,000 /µL (= 25 × 10⁹/L)" in listed and "0.9 mg/dL (= 79.578 µmol/L)" in listed
    row = page.locator("li[data-result]", has_text="Platelets")
    row.get_by_role("button", name="Withdraw").click()
    row.get_by_role("button", name="Withdraw result").click()
    assert row.get_by_text("Please say why.").is_visible()
    row.get_by_label("Why? (required)").fill("I typed the count of the wrong report")
    row.get_by_role("button", name="Withdraw result").click()
    page.get_by_text("Result withdrawn.").wait_for()
    assert "Platelets" not in page.locator("ul.results").inner_text()

    # The same screens in German.
    set_language(page, "de")
    page.goto("/#/labs")
    page.locator("#u-platelets").wait_for()
    assert page.get_by_role("heading", name="Ihre Ergebnisse").is_visible()
    page.locator("#v-neutrophils").fill("0.4")
    shots(page, "de-labs-form-with-units")
    page.get_by_role("button", name="Ergebnisse speichern").click()
    page.locator("section.advice").wait_for()
    assert "Sehr wenige Neutrophile" in page.locator("section.advice").inner_text()
    shots(page, "de-labs-urgent-advice")
    # Corrected by her (0.4 was 4.0): the flag the first entry raised closes, nothing new is raised.
    page.get_by_role("link", name="Zurück zu meinen Ergebnissen").click()
    row = page.locator("li[data-result]", has_text="Neutrophile")
    row.get_by_role("button", name="Korrigieren").click()
    row.locator("input[id^=value-]").fill("4.0")
    row.get_by_label("Warum? (Pflichtfeld)").fill("Komma vergessen")
    row.get_by_role("button", name="Korrektur speichern").click()
    page.get_by_text("Korrektur gespeichert.").wait_for()
    assert "4 × 10⁹/L" in page.locator("ul.results").inner_text()
    screenshot(page, "de-labs-results-after-correction")
    pid = page.request.get("/api/v1/me").json()["patient_id"]
    context.close()

    # Her nurse corrects or withdraws any of her results from the patient's page.
    staff = browser.new_context(base_url=live.url, viewport=SIZES["1366"])
    nurse = staff.new_page()
    login(nurse, "nurse@other.demo.alemtrack.test")
    nurse.goto(f"/#/patient/{pid}")
    nurse.locator("#labs details > summary").click()  # the record's "Correct or withdraw a result" (issue 17)
    row = nurse.locator("li[data-result]", has_text="Creatinine")
    row.wait_for()
    assert "0.9 mg/dL (= 79.578 µmol/L)" in row.inner_text()
    row.get_by_role("button", name="Withdraw").click()
    row.get_by_label("Why? (required)").fill("Belongs to another patient")
    screenshot(nurse, "en-nurse-withdraw-result-1366")
    row.get_by_role("button", name="Withdraw result").click()
    nurse.get_by_text("Result withdrawn.").wait_for()
    assert nurse.locator("li[data-result]", has_text="Creatinine").count() == 0
    staff.close()
