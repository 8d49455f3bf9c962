"""The browser forgets on logout (issue 13 point 6), in a real Chromium.

Logging out, even offline, empties the service worker's data cache and the
person's outbox at once, and the session ends on the server as soon as it
can be reached again; a 401 from any read empties the cached data; health
data reads are network first (a changed record is shown at once, not a
cached copy).
"""

from __future__ import annotations

from sqlalchemy import select, update

from server.db import database
from server.models import Patient

from .checklist_steps import answer_all, review_and_send
from .conftest import login
from .test_flows import checklists_of, patient_id

COOKIE = "alemtrack_session"
#: every entry of the service worker's data caches (the URLs it would answer offline)
CACHED_DATA = """caches.keys()
  .then(names => Promise.all(names.filter(n => n.startsWith('alemtrack-data-'))
    .map(n => caches.open(n).then(c => c.keys()).then(keys => keys.map(k => k.url)))))
  .then(lists => lists.flat())"""


def new_context(browser, live):
    return browser.new_context(base_url=live.url, viewport={"width": 390, "height": 844})


def controlled(page) -> None:
    """Wait until the service worker answers this page's requests."""
    page.evaluate("navigator.serviceWorker.ready")
    page.wait_for_function("navigator.serviceWorker.controller !== null")


def session_cookie(context) -> dict:
    return next(c for c in context.cookies() if c["name"] == COOKIE)


def me_status_with(browser, live, cookie: dict) -> int:
    """GET /api/v1/me from a new browser that holds nothing but ``cookie``."""
    other = new_context(browser, live)
    try:
        other.add_cookies([cookie])
        return other.request.get("/api/v1/me").status
    finally:
        other.close()


def test_an_offline_logout_forgets_everything_and_ends_the_session_when_back_online(browser, live):
    context = new_context(browser, live)
    page = context.new_page()
    login(page, "logout@e2e.test")
    controlled(page)
    pid = patient_id(live, "logout@e2e.test")
    page.goto("/#/timeline")
    page.wait_for_selector("a[href='#/timeline/month']")
    assert any(url.endswith(f"/api/v1/patients/{pid}/timeline") for url in page.evaluate(CACHED_DATA))
    old_cookie = session_cookie(context)
    assert me_status_with(browser, live, old_cookie) == 200  # a copy of the cookie works while the session lives
    page.goto("/#/checklist")
    page.wait_for_selector("fieldset")
    before = checklists_of(live, pid)

    live.stop()  # the worker's own fetches fail too, not just the page's
    context.set_offline(True)
    try:
        answer_all(page, {"thyroid.weight"})
        review_and_send(page)
        page.get_by_text("Your checklist is saved on this phone").wait_for()
        assert len(page.evaluate("AlemtrackOutbox.all()")) == 1
        questions = []
        page.once("dialog", lambda dialog: (questions.append(dialog.message), dialog.accept()))

        page.locator("nav a[href='#/logout']").click()

        page.get_by_role("button", name="Log in").wait_for()
        assert questions and "1" in questions[0] and "Log out anyway?" in questions[0]
        assert page.evaluate(CACHED_DATA) == []
        assert page.evaluate("AlemtrackOutbox.all()") == []
        assert page.evaluate("AlemtrackOutbox.logoutPending()") is True
        # Offline, nothing of the person is shown again: the app opens at the login.
        page.reload()
        page.get_by_role("button", name="Log in").wait_for()
        assert page.evaluate(CACHED_DATA) == []
    finally:
        live.start()
    context.set_offline(False)  # the "online" event sends the queued logout

    page.wait_for_function("AlemtrackOutbox.logoutPending().then(waiting => !waiting)")
    assert me_status_with(browser, live, old_cookie) == 401
    assert checklists_of(live, pid) == before  # the forgotten entry was never sent
    # A new login works, and is not ended by the old logout.
    login(page, "logout@e2e.test")
    assert page.evaluate("fetch('/api/v1/me').then(r => r.status)") == 200
    context.close()


def test_a_session_ended_elsewhere_empties_the_cache_on_the_next_read(browser, live):
    phone = new_context(browser, live)
    page = phone.new_page()
    login(page, "elsewhere@e2e.test")
    controlled(page)
    page.goto("/#/timeline")
    page.wait_for_selector("a[href='#/timeline/month']")
    assert page.evaluate(CACHED_DATA) != []

    laptop = new_context(browser, live)  # logging out there ends every session of the person
    other = laptop.new_page()
    login(other, "elsewhere@e2e.test")
    other.locator("nav a[href='#/logout']").click()
    other.get_by_role("button", name="Log in").wait_for()
    laptop.close()

    page.reload()  # any read: the first answers 401
    page.get_by_role("button", name="Log in").wait_for()
    assert page.evaluate(CACHED_DATA) == []
    phone.close()


def test_health_data_reads_are_network_first(browser, live):
    context = new_context(browser, live)
    page = context.new_page()
    login(page, "fresh@e2e.test")
    controlled(page)
    pid = patient_id(live, "fresh@e2e.test")
    read = f"fetch('/api/v1/patients/{pid}').then(r => r.json()).then(p => p.display_name)"
    assert page.evaluate(read) == "Fresh"
    assert any(url.endswith(f"/api/v1/patients/{pid}") for url in page.evaluate(CACHED_DATA))

    with live.app.app_context():
        session = database(live.app).sessions()
        try:
            session.execute(update(Patient).where(Patient.id == pid).values(display_name="Fresh Renamed"))
            session.commit()
            assert session.scalar(select(Patient.display_name).where(Patient.id == pid)) == "Fresh Renamed"
        finally:
            session.close()

    # The first read after the change shows it (a stale-while-revalidate cache would not).
    assert page.evaluate(read) == "Fresh Renamed"
    context.close()
