"""axe-core on every screen, in each role: no serious or critical violation.

Also saves screenshots of the main screens at 390x844 in English and Spanish
under tests/e2e/screenshots/ (ignored by git) for a person to look at.
"""

from __future__ import annotations

import pytest
from axe_playwright_python.sync_playwright import Axe

from .conftest import login, screenshot

AXE = Axe()
#: every WCAG 2.0-2.2 A and AA rule axe has, and its best practices
OPTIONS = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa",
                                                 "best-practice"]}}

SCREENS = {
    # role: (login, language, [(hash, screen name)])
    "patient-en": ("ivan@demo.alemtrack.test", "en", [
        ("#/", "today"), ("#/checklist", "checklist"), ("#/labs", "labs"), ("#/timeline", "timeline"),
        ("#/timeline/month", "calendar"), ("#/settings", "settings")]),
    "patient-es": ("daniela@demo.alemtrack.test", "es", [
        ("#/", "today"), ("#/checklist", "checklist"), ("#/labs", "labs"), ("#/timeline", "timeline"),
        ("#/timeline/month", "calendar"), ("#/settings", "settings")]),
    "nurse": ("nurse@demo.alemtrack.test", "en", [
        ("#/flags", "flags"), ("#/resolved", "resolved"), ("#/to-read", "to-read"), ("FIRST_FLAG", "flag"),
        ("#/patients", "patients"), ("#/patient/5", "patient"),
        ("#/enrol", "enrol"), ("#/protocol", "protocol"), ("#/account", "account")]),
    "family": ("brother.of.ivan@demo.alemtrack.test", "en", [("#/", "reminders"), ("#/settings", "settings")]),
}


def serious(page) -> list[str]:
    results = AXE.run(page, options=OPTIONS)
    return [f"{v['id']} ({v['impact']}): {v['help']} -> {[n['target'] for n in v['nodes']][:3]}"
            for v in results.response["violations"] if v["impact"] in ("serious", "critical")]


def test_the_login_screen(context):
    page = context.new_page()
    page.goto("/")
    page.get_by_role("heading", name="Log in").wait_for()
    assert serious(page) == []
    screenshot(page, "en-login")


@pytest.mark.parametrize("target", ["#/signup?code=ABCD-EFGH-JKMN", "#/forgot"])
def test_the_sign_up_and_forgot_screens(context, target):
    page = context.new_page()
    page.goto("/" + target)
    page.locator("main form").wait_for()
    assert serious(page) == []
    page.locator("main form button[type=submit]").click()  # the refusal state too
    page.get_by_role("alert").wait_for()
    assert serious(page) == []


@pytest.mark.parametrize("who", sorted(SCREENS))
def test_every_screen_of_each_role(context, who):
    email, language, screens = SCREENS[who]
    page = context.new_page()
    login(page, email)
    found = {}
    for target, name in screens:
        if target == "FIRST_FLAG":
            page.goto("/#/flags")
            page.locator(".queue-row a.patient-link").first.wait_for()
            page.locator(".queue-row button[data-open-resolve]").first.click()  # the resolve form open
            page.locator(".resolve-form select").wait_for()
            problems = serious(page)
            if problems:
                found["queue-resolve"] = problems
            page.locator(".queue-row a.patient-link").first.click()
            page.locator("#record-name").wait_for()
            page.wait_for_load_state("networkidle")
        else:
            page.goto("/" + target)
            # (a locator, not wait_for_function: polling a string predicate is an eval the CSP forbids)
            page.locator("main h1").first.wait_for()
            page.locator("main .loading").wait_for(state="detached")
            page.wait_for_load_state("networkidle")
        problems = serious(page)
        if problems:
            found[name] = problems
        screenshot(page, f"{language}-{who}-{name}")
    assert found == {}


# Where a page is wider than the screen: the innermost elements that reach past its edge, or whose
# content spills out of them (text that cannot wrap overflows a box without widening it).
WIDER_THAN_SCREEN = """() => {
    const edge = document.documentElement.clientWidth + 0.5;
    const over = e => e.getBoundingClientRect().right > edge || e.scrollWidth > e.clientWidth + 1;
    return [...document.querySelectorAll('body *')]
        .filter(e => over(e) && ![...e.children].some(over))
        .map(e => e.tagName.toLowerCase() + (e.className ? '.' + String(e.className).replace(/ /g, '.') : '')
                  + ' ' + (e.textContent || '').trim().slice(0, 40));
}"""


def test_text_scales_to_200_percent_and_fits_320_px(context):
    page = context.new_page()
    page.set_viewport_size({"width": 320, "height": 640})
    login(page, "ivan@demo.alemtrack.test")
    for target in ("#/", "#/checklist", "#/settings"):
        page.goto("/" + target)
        # A new hash keeps the page and the screen before it: reload, so that the heading waited
        # for is this screen's, drawn with everything it shows.
        page.reload()
        page.locator("main h1").first.wait_for()
        page.locator("main .loading").wait_for(state="detached")
        page.wait_for_load_state("networkidle")
        # Text at 200% (CSSOM, which the app's style-src CSP allows, unlike an inline <style>).
        page.evaluate("document.documentElement.style.fontSize = '200%'")
        # Nothing wider than the screen: no sideways scrolling to read (WCAG 1.4.10).
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 320, f"{target} is {width} px wide: {page.evaluate(WIDER_THAN_SCREEN)}"
