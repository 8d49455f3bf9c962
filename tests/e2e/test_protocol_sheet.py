"""The staff's protocol sheet in Chromium: wide screen and phone, English and German.

The screen shows every section of the sheet as a table (one card per row on a
phone, nothing wider than the screen), switches language, and links to the
printable document, which opens with its own style and the signature block.
"""

from __future__ import annotations

import pytest

from .conftest import SCREENSHOTS, login, screenshot

NURSE = "nurse@demo.alemtrack.test"


def views(page, name: str) -> None:
    """The whole page, and what the screen shows at the top and at the items and the lab rules (a whole
    sheet is too tall to look at in one picture)."""
    screenshot(page, name)
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(SCREENSHOTS / f"{name}-top.png"))
    for key in ("items", "lab_rules"):
        page.evaluate(f"document.getElementById('sheet-{key}').scrollIntoView()")
        page.screenshot(path=str(SCREENSHOTS / f"{name}-{key}.png"))


@pytest.mark.parametrize("width", [1366, 390])
def test_the_sheet_in_english_and_german(context, width):
    page = context.new_page()
    page.set_viewport_size({"width": width, "height": 900})
    login(page, NURSE)
    page.get_by_role("link", name="Protocol", exact=True).click()
    page.get_by_role("heading", name="Protocol sheet", level=1).wait_for()
    for title in ("Timeline items", "Monthly symptom checklist", "Lab rules", "Reminders", "Site settings",
                  "Sources"):
        assert page.get_by_role("heading", name=title, level=2).count() == 1, title
    assert page.locator("td.col-code", has_text="diet.listeria").count() == 1
    assert page.evaluate("document.documentElement.scrollWidth") <= width  # no sideways scrolling
    views(page, f"en-nurse-protocol-{width}")

    page.get_by_label("Language of the sheet").select_option("de")
    page.get_by_role("heading", name="Protokollblatt", level=1).wait_for()
    assert page.get_by_role("heading", name="Laborregeln", level=2).count() == 1
    assert page.locator(".sheet").get_attribute("lang") == "de"
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    views(page, f"de-nurse-protocol-{width}")


def test_the_printable_version_opens_with_its_signature_block(context):
    page = context.new_page()
    page.set_viewport_size({"width": 1366, "height": 900})
    login(page, NURSE)
    page.goto("/#/protocol/de")
    page.get_by_role("heading", name="Protokollblatt", level=1).wait_for()
    version = page.locator("code.version").inner_text()
    with context.expect_page() as opened:
        page.get_by_role("link", name="Printable version to sign").click()  # the UI stays English
    printable = opened.value
    printable.wait_for_load_state()
    printable.set_viewport_size({"width": 1366, "height": 900})
    assert printable.locator("html").get_attribute("lang") == "de"
    assert printable.get_by_role("heading", name="Freigabe").count() == 1
    assert version in printable.locator("#approval").inner_text()
    # The inline style applies (its hash is in the page's policy): tables have borders.
    border = printable.evaluate("getComputedStyle(document.querySelector('td')).borderTopStyle")
    assert border == "solid"
    printable.emulate_media(media="print")
    assert printable.evaluate("getComputedStyle(document.querySelector('section')).breakBefore") == "page"
    screenshot(printable, "de-nurse-protocol-printable")
    printable.screenshot(path=str(SCREENSHOTS / "de-nurse-protocol-printable-top.png"))
