"""The nurse's workspace (issue 17) as a nurse of a clinic uses it, in a real Chromium.

Per language, a clinic of its own: a patient with three flags (a bleeding answer, a
thyroid pair, a low platelet count), one with a note to read, one with a soon flag. The
nurse sees one row per patient with the reasons in words, marks a flag as seen, resolves
it with an outcome and a note (then finds it in the resolved list), opens the record
(beside the queue at 1366 px), adds a note, enters a course as a first date and a number
of days and sees its warning before saving, corrects it with a reason, and enters a lab
report of several analytes in the lab's units. axe runs on each screen; screenshots at
320 (overflow only), 390 and 1366 px go to tests/e2e/screenshots/.
"""

from __future__ import annotations

import re
import uuid
from datetime import date, timedelta

import pytest
from playwright.sync_api import expect

from .conftest import PASSWORD
from .test_accessibility import serious
from .test_nurse_v2 import shots

LOCALES = {"en": "en-GB", "es": "es-ES", "de": "de-DE", "it": "it-IT"}
SIZES = {1366: {"width": 1366, "height": 768}, 390: {"width": 390, "height": 844}}
#: a code or an untranslated key on a nurse's screen is a bug
RAW = re.compile(r"\b(platelets\.low|bleed\.mucosal|group:thyroid|thyroid\.tsh|[a-z]+_[a-z_]+)\b")


def make_clinic(live, language: str) -> dict:
    """A clinic with its nurse and three patients mid-monitoring (a given course 4 or 14 months ago)."""
    from server.db import database
    from server.engine.dates import add_months
    from server.models import Clinic, User
    from server.services import accounts, patients
    from server.timeutil import local_today, utcnow

    app, now = live.app, utcnow()
    with app.app_context():
        session = database(app).sessions()
        clinic = Clinic(name=f"Workspace {language} {uuid.uuid4().hex[:6]}", phone="+34 910 555 000",
                        emergency_number="112", settings={})
        session.add(clinic)
        session.flush()
        hasher = accounts.hasher(app.config)
        nurse = User(email=f"nurse.{clinic.id}@ws.test", role="nurse", clinic_id=clinic.id,
                     password_hash=hasher.hash(PASSWORD))
        session.add(nurse)
        session.flush()
        ids = {}
        first = add_months(local_today("Europe/Madrid", now), -14)
        for key, name in (("ana", "Ana García"), ("ben", "Ben Okafor"), ("chiara", "Chiara Rossi")):
            fields = {"display_name": name, "sex": "female", "childbearing_potential": True, "breastfeeding": False,
                      "timezone": "Europe/Madrid", "language": language, "baseline": {"platelets": 240}}
            patient, _, _ = patients.create_patient(session, clinic, fields, nurse, now, app.config)
            patient.phone = "+34 600 123 456"
            # Ana's course was four months ago: a course planned two months from now is too soon.
            start = local_today("Europe/Madrid", now) - timedelta(days=120) if key == "ana" else first
            patients.add_course(patient, [start + timedelta(days=i) for i in range(5)], "given", nurse, now)
            session.add(User(email=f"{key}.{clinic.id}@ws.test", role="patient", clinic_id=clinic.id,
                             patient_id=patient.id, password_hash=hasher.hash(PASSWORD)))
            session.flush()
            ids[key] = patient.id
        session.commit()
        session.close()
    return {"clinic": clinic.id, "nurse": f"nurse.{clinic.id}@ws.test", **ids,
            "emails": {k: f"{k}.{clinic.id}@ws.test" for k in ("ana", "ben", "chiara")}}


def api_as(browser, live, email):
    """A request context logged in as ``email`` (its own cookie jar) and its CSRF token."""
    context = browser.new_context(base_url=live.url)
    request = context.request
    token = request.get("/api/v1/auth/csrf").json()["csrf_token"]
    answer = request.post("/api/v1/auth/login", data={"email": email, "password": PASSWORD},
                          headers={"X-CSRF-Token": token})
    assert answer.ok, answer.text()
    return context, request, answer.json()["csrf_token"]


def post(request, token, path, body):
    answer = request.post(f"/api/v1{path}", data=body, headers={"X-CSRF-Token": token})
    assert answer.ok, answer.text()
    return answer.json()


def flags_for(browser, live, world) -> None:
    """What the patients send: Ana two answers and a note, then the nurse's lab with a low count."""
    today = date.today().isoformat()
    for key, answers, note in (("ana", {"bleed.mucosal": True, "thyroid.weight": True, "thyroid.bowel": True}, None),
                               ("ben", {"thyroid.weight": False}, "Tired since the holidays, sleeping badly."),
                               ("chiara", {"ms.relapse": True}, None)):
        context, request, token = api_as(browser, live, world["emails"][key])
        post(request, token, f"/patients/{world[key]}/checklists",
             {"client_id": str(uuid.uuid4()), "answered_on": today, "answers": answers, "note": note})
        context.close()
    context, request, token = api_as(browser, live, world["nurse"])
    post(request, token, f"/patients/{world['ana']}/labs", {"client_id": str(uuid.uuid4()), "taken_on": today,
         "results": [{"analyte": "platelets", "value": 95, "ref_low": None, "ref_high": None}]})
    context.close()


def log_in(page, email) -> None:
    page.goto("/")
    page.locator("#email").fill(email)
    page.locator("#password").fill(PASSWORD)
    page.locator("button[type='submit']").click()
    page.wait_for_selector("nav a[href='#/logout']")


def t(page, key, **values):
    """The app's own word for ``key`` in the page's language."""
    return page.evaluate("([k, v]) => import('/js/i18n.js').then((m) => m.t(k, v))", [key, values])


def parts(page, name, *selectors):
    """Screenshots of parts of a long page, to be looked at closely."""
    from .conftest import SCREENSHOTS

    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}-view.png"))
    for selector in selectors:
        page.locator(selector).screenshot(path=str(SCREENSHOTS / f"{name}-{selector.strip('#.')}.png"))


def check_screen(page, name, pictures=True):
    """axe, no code or key shown, no sideways scrolling; screenshots when ``pictures``
    (two languages take them: the test stays quick)."""
    problems = serious(page)
    assert problems == [], (name, problems)
    text = page.locator("main").inner_text()
    assert not RAW.findall(text), (name, RAW.findall(text))
    if pictures:
        shots(page, name)
    else:
        assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0, name


@pytest.mark.parametrize("language,width", [("en", 1366), ("de", 390), ("es", 1366), ("it", 390)])
def test_the_nurse_triages_from_the_queue_and_works_on_the_record(browser, live, language, width):
    pictures = language in ("en", "de")
    world = make_clinic(live, language)
    flags_for(browser, live, world)
    context = browser.new_context(base_url=live.url, viewport=SIZES[width], locale=LOCALES[language],
                                  timezone_id="Europe/Madrid")
    page = context.new_page()
    try:
        log_in(page, world["nurse"])

        # The queue: one row per patient, the reasons in words, the highest level first.
        page.goto("/#/flags")
        rows = page.locator(".queue-row")
        expect(rows).to_have_count(2)  # Ana (urgent: a checklist's and a lab's flag), Chiara (soon); Ben has no flag
        ana = page.locator(f".queue-row[data-patient='{world['ana']}']")
        assert rows.first.get_attribute("data-patient") == str(world["ana"])
        texts = page.request.get(f"/api/v1/content/texts?lang={language}").json()
        assert texts["rules"]["platelets.low"]["title"] in ana.inner_text()
        assert texts["questions"]["bleed.mucosal"]["text"] in ana.inner_text()
        expect(ana.locator(".flag-line")).to_have_count(2)
        expect(ana.locator(".new-tag")).to_have_count(2)
        check_screen(page, f"{language}-ws-queue", pictures)

        # Keyboard: j moves to the first row, a marks its new flags as seen.
        page.locator("#queue-heading").click()
        page.keyboard.press("j")
        expect(ana).to_be_focused()
        page.keyboard.press("a")
        expect(ana.locator(".seen-tag")).to_have_count(2)
        assert "all-seen" in ana.get_attribute("class")

        # Resolve the checklist's flag with an outcome and a note.
        checklist_flag = ana.locator(".flag-line").filter(has_text=texts["questions"]["bleed.mucosal"]["text"])
        checklist_flag.locator("button[data-open-resolve]").click()
        page.locator(".resolve-form select").select_option("called_patient")
        page.locator(".resolve-form textarea").fill("Nose bleeds stopped. Blood count on Monday.")
        page.locator(".resolve-form button[type=submit]").click()
        expect(ana.locator(".flag-line")).to_have_count(1)
        expect(page.locator(".live")).to_contain_text(t(page, "outcome_called_patient"))

        # The resolved list: outcome, note, who, when.
        page.goto("/#/resolved")
        row = page.locator(".resolved-table tbody tr").first
        expect(row).to_contain_text("Nose bleeds stopped. Blood count on Monday.")
        expect(row).to_contain_text(world["nurse"])
        expect(row).to_contain_text(t(page, "outcome_called_patient"))
        check_screen(page, f"{language}-ws-resolved", pictures)

        page.goto("/#/to-read")
        expect(page.locator(".to-read li")).to_contain_text("Tired since the holidays")
        check_screen(page, f"{language}-ws-to-read", pictures)

        # The record: beside the queue on a laptop, alone on a phone.
        page.goto(f"/#/patient/{world['ana']}")
        page.locator("#record-name").wait_for()
        assert page.locator(".workspace .queue-pane").count() == (1 if width == 1366 else 0)
        for section in ("due", "flags", "labs", "checklists", "courses", "pregnancies", "notes", "care", "snoozes",
                        "delivery", "access"):
            expect(page.locator(f"section#{section}")).to_have_count(1)
        # The button calls the patient, not the clinic.
        assert page.locator("a.call-patient").get_attribute("href") == "tel:+34600123456"
        page.locator("#facts details.edit summary").first.click()
        page.locator("#contact-dob").fill("1984-03-09")
        page.locator("#save-contact").click()
        expect(page.get_by_text(t(page, "contact_saved"))).to_be_visible()
        dob = page.evaluate(f"new Intl.DateTimeFormat('{language}', {{day: 'numeric', month: 'long', year: 'numeric', "
                            f"timeZone: 'UTC'}}).format(new Date('1984-03-09T00:00:00Z'))")
        expect(page.locator("#facts dl")).to_contain_text(dob)
        expect(page.locator("#labs .results-table .out-of-range")).to_have_count(1)  # platelets 95 < 150
        check_screen(page, f"{language}-ws-record", pictures)
        if pictures:
            parts(page, f"{language}-ws-record", "#facts", "#due", "#flags", "#labs", "#checklists")

        # A note, signed and dated.
        page.locator("#note-text").fill("Spoke with her husband: she is resting.")
        page.locator("#save-note").click()
        expect(page.locator("#notes .notes li").first).to_contain_text("Spoke with her husband")
        expect(page.locator("#notes .notes li").first).to_contain_text(world["nurse"])

        # A course as a first date and a number of days: planned in two months, too soon after the last one.
        today = date.fromisoformat(page.evaluate("new Date().toLocaleDateString('sv', {timeZone: 'Europe/Madrid'})"))
        start = today + timedelta(days=60)
        page.locator("#course-first").fill(start.isoformat())
        page.locator("#course-days").fill("3")
        page.locator("#course-status").select_option("planned")
        page.locator("#save-course").click()
        expect(page.locator(".course-entry [data-preview-warning='course.too_soon']")).to_have_count(1)
        expect(page.locator("#save-course")).to_have_text(t(page, "save_anyway"))
        check_screen(page, f"{language}-ws-course-warning", pictures)
        page.locator("#save-course").click()
        planned = page.locator("ul.courses > li").nth(1)
        expect(planned.locator("[data-warning='course.too_soon']")).to_have_count(1)

        # Corrected with a reason: a year later, no warning left.
        planned.get_by_role("button", name=t(page, "correct_course"), exact=False).click()
        later = start + timedelta(days=365)
        planned.locator("input[type=date]").fill(later.isoformat())
        planned.locator("textarea").fill("The course was moved to next year.")
        planned.locator("form button[type=submit]").click()
        # Still a warning on a planned course 2 (no CD4 count yet): seen, then saved.
        expect(planned.locator("form [data-preview-warning='course.cd4_not_recovered']")).to_have_count(1)
        expect(planned.locator("form [data-preview-warning='course.too_soon']")).to_have_count(0)
        planned.locator("form button[type=submit]").click()
        expect(page.get_by_text(t(page, "course_corrected"))).to_be_visible()
        expect(page.locator("ul.courses > li").nth(1).locator("[data-warning='course.too_soon']")).to_have_count(0)
        page.locator(".course-history summary").click()
        expect(page.locator(".course-history")).to_contain_text("The course was moved to next year.")

        # A lab report of several analytes at once, each in the lab's unit.
        page.locator("#lab-neutrophils").fill("1.2")
        page.locator("#lab-creatinine").fill("1.1")
        page.locator("#lab-creatinine-unit").select_option("mg/dL")
        page.locator("#lab-tsh").fill("2.1")
        page.locator("#lab-urine_blood").select_option("negative")
        page.locator(".lab-entry button[type=submit]").click()
        expect(page.get_by_text(t(page, "report_saved_other", n=4))).to_be_visible()
        table = page.locator("#labs .results-table").inner_text()
        assert "mg/dL" in table and "µmol/L" in table
        check_screen(page, f"{language}-ws-record-after", pictures)
        if pictures:
            parts(page, f"{language}-ws-record-after", "#labs", "#courses", "#notes", "#delivery", "#access")
    finally:
        context.close()


@pytest.mark.parametrize("language", ["es", "it"])
def test_a_flag_resolved_meanwhile_is_said_in_the_nurses_language(browser, live, language):
    """Two nurses work the queue: the one who resolves second reads why it failed in her own
    words (the server's English message is never shown), and can move on."""
    world = make_clinic(live, language)
    flags_for(browser, live, world)
    context = browser.new_context(base_url=live.url, viewport=SIZES[390], locale=LOCALES[language],
                                  timezone_id="Europe/Madrid")
    page = context.new_page()
    try:
        log_in(page, world["nurse"])
        page.goto("/#/flags")
        chiara = page.locator(f".queue-row[data-patient='{world['chiara']}']")
        chiara.locator("button[data-open-resolve]").first.click()
        page.locator(".resolve-form select").select_option("called_patient")

        # The other nurse resolves the same flag first.
        other, request, token = api_as(browser, live, world["nurse"])
        queue = request.get("/api/v1/flags/queue").json()["items"]
        flag = next(g for g in queue if g["patient_id"] == world["chiara"])["flags"][0]
        post(request, token, f"/flags/{flag['id']}/resolve", {"outcome": "no_action_needed", "note": None})
        other.close()

        page.locator(".resolve-form button[type=submit]").click()
        alert = page.locator(".resolve-form [role=alert]")
        expect(alert).to_have_text(t(page, "ae_flag_resolved"))
        assert "already resolved" not in alert.inner_text()
        expect(page.locator(".resolve-form button[type=submit]")).to_be_enabled()
        shots(page, f"{language}-ws-resolved-meanwhile")
    finally:
        context.close()
