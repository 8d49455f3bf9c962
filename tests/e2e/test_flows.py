"""The app in a real Chromium: the flows of issue 5, offline, push, install, family."""

from __future__ import annotations

import json

from sqlalchemy import func, select

from server.db import database
from server.models import Checklist, User

from .checklist_steps import answer_all, review_and_send, send_checklist
from .conftest import login, screenshot


def patient_id(live, email: str) -> int:
    with live.app.app_context():
        session = database(live.app).sessions()
        try:
            return session.scalar(select(User.patient_id).where(User.email == email))
        finally:
            session.close()


def checklists_of(live, pid: int) -> int:
    with live.app.app_context():
        session = database(live.app).sessions()
        try:
            return session.scalar(select(func.count()).select_from(Checklist).where(Checklist.patient_id == pid))
        finally:
            session.close()


def answer_checklist(page, yes: set[str]) -> None:
    send_checklist(page, yes)


def test_a_bleeding_answer_reaches_the_nurse_first(browser, live):
    patient = browser.new_context(base_url=live.url, viewport={"width": 390, "height": 844})
    page = patient.new_page()
    login(page, "flow@e2e.test")
    answer_checklist(page, {"bleed.mucosal"})
    result = page.get_by_role("alert")
    result.wait_for()
    assert "Call your MS team today" in result.inner_text()
    assert page.locator("a[href^='tel:+49']").count() >= 1  # the clinic's phone, callable
    screenshot(page, "en-checklist-urgent-advice")
    patient.close()

    staff = browser.new_context(base_url=live.url, viewport={"width": 390, "height": 844})
    nurse = staff.new_page()
    login(nurse, "nurse@other.demo.alemtrack.test")
    # The queue (issue 17): one row per patient, the reason in words, never a code.
    first = nurse.locator(".queue-row").first
    first.wait_for()
    assert "Urgent" in first.inner_text() and "bleed.mucosal" not in first.inner_text()
    assert "nose bleeds" in first.inner_text()
    screenshot(nurse, "en-nurse-queue")
    first.get_by_role("button", name="Mark as seen").click()
    seen = nurse.locator(".queue-row").first
    seen.locator(".seen-tag").wait_for()
    assert "✓" in seen.inner_text()
    seen.get_by_role("button", name="Resolve…").click()
    nurse.get_by_label("Outcome").select_option("called_patient")
    nurse.get_by_label("Note (optional)").fill("Called, platelets ordered today")
    nurse.get_by_role("button", name="Resolve the flag").click()
    nurse.get_by_text("Nothing to triage.").wait_for()
    # ... and in the resolved list, with its note.
    nurse.goto("/#/resolved")
    assert "Called, platelets ordered today" in nurse.locator(".resolved-table").inner_text()
    staff.close()


def test_an_offline_checklist_is_stored_exactly_once_when_back_online(browser, live):
    context = browser.new_context(base_url=live.url, viewport={"width": 390, "height": 844})
    page = context.new_page()
    login(page, "offline@e2e.test")
    pid = patient_id(live, "offline@e2e.test")
    page.goto("/#/checklist")
    page.wait_for_selector("fieldset")
    before = checklists_of(live, pid)

    live.stop()  # the worker's own fetches fail too, not just the page's
    context.set_offline(True)
    try:
        answer_all(page, {"thyroid.weight"})
        review_and_send(page)
        page.get_by_text("Your checklist is saved on this phone").wait_for()
        assert checklists_of(live, pid) == before
    finally:
        live.start()
    context.set_offline(False)  # the "online" event replays the outbox
    page.get_by_role("alert").wait_for(timeout=15000)
    page.reload()  # opening the app replays too: still one
    page.wait_for_selector("h1")
    assert checklists_of(live, pid) == before + 1
    outbox = page.evaluate("AlemtrackOutbox.all()")
    assert outbox == []
    context.close()


def test_the_shell_and_the_timeline_open_offline_after_one_visit(browser, live):
    context = browser.new_context(base_url=live.url, viewport={"width": 390, "height": 844})
    page = context.new_page()
    login(page, "julia@demo.alemtrack.test")
    page.evaluate("navigator.serviceWorker.ready")
    # Ready is the worker being active, not yet controlling this page (clients.claim may
    # still be running): a reload makes the visit below go through it, to be kept offline.
    page.reload()
    page.locator("main h1").first.wait_for()
    page.goto("/#/timeline")
    page.wait_for_selector("a[href='#/timeline/month']")
    online_items = page.locator("ul.items li").count()
    heading = page.locator("h1").inner_text()  # "Su calendario": Julia reads Spanish

    live.stop()
    context.set_offline(True)
    try:
        page.reload()
        page.wait_for_selector("a[href='#/timeline/month']")
        assert page.url.endswith("#/timeline"), page.url
        assert page.locator("h1").inner_text() == heading
        assert page.locator("ul.items li").count() == online_items
        assert page.evaluate("navigator.serviceWorker.controller !== null")
    finally:
        context.set_offline(False)
        live.start()
    context.close()


def test_a_push_shows_a_notification_and_its_click_opens_the_screen(browser, live):
    context = browser.new_context(base_url=live.url, viewport={"width": 390, "height": 844})
    context.grant_permissions(["notifications"], origin=live.url)
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    registrations = []
    cdp.on("ServiceWorker.workerRegistrationUpdated", lambda e: registrations.extend(e["registrations"]))
    cdp.send("ServiceWorker.enable")
    login(page, "ivan@demo.alemtrack.test")
    page.evaluate("navigator.serviceWorker.ready")
    registration = next(r for r in registrations if r["scopeURL"].startswith(live.url))
    payload = {"title": "Alemtrack", "body": "You have a reminder from your MS team.", "url": "/#/checklist",
               "tag": "topic-1"}
    cdp.send("ServiceWorker.deliverPushMessage", {"origin": live.url, "registrationId": registration["registrationId"],
                                                  "data": json.dumps(payload)})
    read = ("navigator.serviceWorker.ready.then(r => r.getNotifications())"
            ".then(ns => ns.map(n => ({title: n.title, body: n.body, tag: n.tag, data: n.data})))")
    notes = []
    for _ in range(100):
        notes = page.evaluate(read)
        if notes:
            break
        page.wait_for_timeout(100)
    assert notes == [{"title": "Alemtrack", "body": payload["body"], "tag": "topic-1", "data": {"url": "/#/checklist"}}]

    worker = next(w for w in context.service_workers if w.url.endswith("/sw.js"))
    # The click handler's own function, on the notification the worker showed.
    worker.evaluate("self.registration.getNotifications().then(([n]) => openFromNotification(n))")
    page.wait_for_url("**/#/checklist")
    page.get_by_role("heading", name="Monthly checklist").wait_for()
    context.close()


def test_manifest_and_worker_make_the_app_installable(context, live):
    page = context.new_page()
    page.goto("/")
    manifest = page.evaluate("fetch(document.querySelector('link[rel=manifest]').href).then(r => r.json())")
    assert manifest["name"] and manifest["short_name"] == "Alemtrack"
    assert manifest["display"] == "standalone" and manifest["start_url"] and manifest["theme_color"]
    icons = {(i["sizes"], i.get("purpose", "any")) for i in manifest["icons"]}
    assert {("192x192", "any"), ("512x512", "any"), ("192x192", "maskable"), ("512x512", "maskable")} <= icons
    for icon in manifest["icons"]:
        assert page.evaluate(f"fetch('{icon['src']}').then(r => r.ok && r.headers.get('content-type'))") == "image/png"
    page.evaluate("navigator.serviceWorker.ready")
    page.reload()
    assert page.evaluate("navigator.serviceWorker.controller && navigator.serviceWorker.controller.scriptURL") \
        == f"{live.url}/sw.js"


def test_family_sees_reminders_and_cannot_reach_answers_or_results(context, live):
    page = context.new_page()
    login(page, "brother.of.ivan@demo.alemtrack.test")
    page.get_by_role("heading", name="Reminders for Ivan Petrov").wait_for()
    assert page.locator("ul.items li").count() > 0
    nav = page.locator("nav").inner_text()
    assert "Checklist" not in nav and "Lab results" not in nav
    page.goto("/#/checklist")  # no such screen for family: back to the reminders
    page.get_by_role("heading", name="Reminders for Ivan Petrov").wait_for()
    ivan = patient_id(live, "ivan@demo.alemtrack.test")
    for path in (f"/api/v1/patients/{ivan}/checklists", f"/api/v1/patients/{ivan}/labs",
                 f"/api/v1/patients/{ivan}/checklist", "/api/v1/flags"):
        assert page.evaluate(f"fetch('{path}').then(r => r.status)") == 403, path
    screenshot(page, "en-family")
