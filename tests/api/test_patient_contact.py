"""Phone and date of birth (issue 17): the care team's and the patient's own view only."""

from __future__ import annotations

import logging
from datetime import datetime, timezone

import pytest
from sqlalchemy import func, select

from server.models import Patient

BODY = {"display_name": "Hana", "sex": "female", "timezone": "Pacific/Kiritimati"}


def test_enrolment_keeps_phone_and_birth_date(world, client_for):
    nurse = client_for("nurse")
    created = nurse.post("/api/v1/patients", json={**BODY, "phone": " +34 612 345 678 ", "date_of_birth": "1981-03-04"})
    assert created.status_code == 201
    assert (created.json["phone"], created.json["date_of_birth"]) == ("+34 612 345 678", "1981-03-04")
    record = nurse.get(f"/api/v1/patients/{created.json['id']}").json
    assert (record["phone"], record["date_of_birth"]) == ("+34 612 345 678", "1981-03-04")


@pytest.mark.parametrize("field, value", [
    ("phone", "call me"), ("phone", "123"), ("phone", "+1 " + "9" * 21), ("phone", "+34 612\n345"),
    ("phone", 612345678), ("date_of_birth", "1981-02-30"), ("date_of_birth", "04/03/1981"),
    ("date_of_birth", "1899-12-31"),
])
def test_bad_contact_details_are_refused_and_nothing_is_written(world, client_for, db, field, value):
    nurse = client_for("nurse")
    before = db.scalar(select(func.count()).select_from(Patient))
    answer = nurse.post("/api/v1/patients", json={**BODY, field: value})
    assert answer.status_code == 400 and answer.json["error"]["field"] == field
    assert db.scalar(select(func.count()).select_from(Patient)) == before


def test_a_birth_date_after_her_today_is_refused_in_her_time_zone(world, client_for, frozen_time):
    # 2026-03-04 23:30 UTC: already 2026-03-05 in Kiritimati (UTC+14), still the 4th in Honolulu
    frozen_time(datetime(2026, 3, 4, 23, 30, tzinfo=timezone.utc))
    nurse = client_for("nurse")
    assert nurse.post("/api/v1/patients", json={**BODY, "date_of_birth": "2026-03-05"}).status_code == 201
    late = nurse.post("/api/v1/patients", json={**BODY, "timezone": "Pacific/Honolulu",
                                                "date_of_birth": "2026-03-05"})
    assert late.status_code == 400 and late.json["error"]["field"] == "date_of_birth"
    patched = nurse.patch(f"/api/v1/patients/{world.patient.id}", json={"date_of_birth": "2062-01-01"})
    assert patched.status_code == 400 and patched.json["error"]["field"] == "date_of_birth"


def test_who_may_change_and_see_them(world, client_for, caplog):
    nurse, patient = client_for("nurse"), client_for("patient")
    url = f"/api/v1/patients/{world.patient.id}"
    with caplog.at_level(logging.DEBUG):
        assert nurse.patch(url, json={"phone": "0612 34 56 78", "date_of_birth": "1975-05-06"}).status_code == 200
    assert "0612 34 56 78" not in caplog.text and "1975-05-06" not in caplog.text
    # her own phone number she may correct; her date of birth is the care team's record
    assert patient.patch(url, json={"phone": "+34 699 000 111"}).json["phone"] == "+34 699 000 111"
    refused = patient.patch(url, json={"date_of_birth": "1976-05-06"})
    assert refused.status_code == 403 and refused.json["error"]["field"] == "date_of_birth"
    assert patient.get(url).json["date_of_birth"] == "1975-05-06"
    family = client_for("family").get(url).json
    assert "phone" not in family and "date_of_birth" not in family
    assert client_for("other_nurse").get(url).status_code == 404
    assert client_for("other_nurse").patch(url, json={"phone": "12345"}).status_code == 404
    assert nurse.patch(url, json={"phone": None}).json["phone"] is None
