"""The care team's queue and record word a CLL patient's flags in her protocol's texts
(content/cll/), not MS's, where both protocols have the code: the group of signs
"emergency" is worded differently by the two protocols in Italian, and lab.cbc is a
different title. The level names are one scale for the care team: the same in both.
An MS patient's flag beside hers keeps MS's words.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from server.engine.content.loading import default_content
from server.timeutil import local_today

from .conftest import PASSWORD
from .test_cll_journey import _api

CONTENT = default_content()
MS, CLL = CONTENT.of("ms").texts["it"], CONTENT.of("cll").texts["it"]
NURSE = "nurse@words.e2e.test"


@pytest.fixture(scope="module")
def two_patients(live):
    """A clinic of its own with an MS and a CLL patient, each with one open flag whose
    level and reason both protocols have: their ids, MS first."""
    from server.db import database
    from server.models import Clinic, Flag, User
    from server.services import accounts
    from server.timeutil import utcnow

    app = live.app
    with app.app_context():
        session = database(app).sessions()
        try:
            clinic = Clinic(name="Words e2e", phone="+39 02 555 0100", emergency_number="112", settings={})
            session.add(clinic)
            session.flush()
            session.add(User(email=NURSE, role="nurse", clinic_id=clinic.id,
                             password_hash=accounts.hasher(app.config).hash(PASSWORD)))
            session.commit()
            clinic_id = clinic.id
        finally:
            session.close()
    nurse = _api(app)
    nurse("POST", "/api/v1/auth/login", {"email": NURSE, "password": PASSWORD})
    today = local_today("Europe/Rome")
    ms = nurse("POST", "/api/v1/patients", {"display_name": "Paola Sm", "sex": "female", "timezone": "Europe/Rome",
                                            "language": "it"})
    first = today - timedelta(days=60)
    nurse("POST", f"/api/v1/patients/{ms['id']}/courses",
          {"infusions": [(first + timedelta(days=i)).isoformat() for i in range(5)], "status": "given"})
    cll = nurse("POST", "/api/v1/patients", {"display_name": "Carla Lla", "sex": "female",
                                             "timezone": "Europe/Rome", "language": "it", "protocol": "cll"})
    proposal = nurse("POST", f"/api/v1/patients/{cll['id']}/course-proposal",
                     {"start": (today - timedelta(days=16)).isoformat(), "route": "iv"})
    nurse("POST", f"/api/v1/patients/{cll['id']}/courses", {"infusions": proposal["infusions"], "status": "planned"})
    with app.app_context():
        session = database(app).sessions()
        try:
            for patient_id in (ms["id"], cll["id"]):
                session.add(Flag(clinic_id=clinic_id, patient_id=patient_id, level="soon",
                                 level_rank=CONTENT.level_rank("soon"), source="checklist", source_id=0,
                                 reasons=["group:emergency"], status="open", created_at=utcnow()))
            session.commit()
        finally:
            session.close()
    return ms["id"], cll["id"]


def test_the_queue_and_record_use_the_patients_protocol_words(browser, live, two_patients):
    ms_id, cll_id = two_patients
    # The words differ, or this test would prove nothing.
    assert MS["groups"]["emergency"] != CLL["groups"]["emergency"]
    assert MS["items"]["lab.cbc"]["title"] != CLL["items"]["lab.cbc"]["title"]
    context = browser.new_context(base_url=live.url, viewport={"width": 1280, "height": 900}, locale="it-IT",
                                  timezone_id="Europe/Rome")
    page = context.new_page()
    try:
        page.goto("/")
        page.locator("#email").fill(NURSE)
        page.locator("#password").fill(PASSWORD)
        page.locator("button[type='submit']").click()
        page.wait_for_selector("nav a[href='#/logout']")
        rows = {pid: page.locator(f"li.queue-row[data-patient='{pid}']") for pid in two_patients}
        rows[cll_id].wait_for()
        for pid, texts in ((ms_id, MS), (cll_id, CLL)):
            line = rows[pid].locator(".flag-line")
            assert texts["groups"]["emergency"] in line.locator(".reasons").inner_text(), pid
            assert line.locator(".badge").first.inner_text() == texts["levels"]["soon"]["name"], pid

        page.evaluate(f"location.hash = '#/patient/{cll_id}'")
        record = page.locator("#flags")
        record.locator(".flag-line").wait_for()
        assert CLL["groups"]["emergency"] in record.locator(".reasons").inner_text()
        assert MS["groups"]["emergency"] not in record.inner_text()
        assert record.locator(".flag-line .badge").first.inner_text() == CLL["levels"]["soon"]["name"]
        due = page.locator("#due").inner_text()
        assert CLL["items"]["lab.cbc"]["title"] in due and MS["items"]["lab.cbc"]["title"] not in due, due
    finally:
        context.close()
