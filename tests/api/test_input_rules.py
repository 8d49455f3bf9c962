"""What the input rules still accept at their edges (the refusals are in test_bad_input.py).

- Dates at the ends of the range 1900-01-01..2100-12-31 (CLINICAL.md section 1) are
  stored, and every page that reads them answers: the patient, her timeline, the
  clinic's list, her checklist.
- Notes keep their line breaks and tabs.
- Emails are folded by NFKC and lower-cased (docs/decisions.md, "Input validation"):
  full-width letters are the same address; the schema's form is the service's.
"""

from __future__ import annotations

import pytest
from marshmallow import ValidationError
from sqlalchemy import select

from server.api.schemas import Email
from server.models import User
from server.services import accounts
from server.timeutil import utcnow

from .conftest import PASSWORD, new_client_id, today_madrid
from .test_bad_input import check_envelope


def test_dates_at_the_ends_of_the_range_are_stored_and_every_page_answers(world, client_for):
    nurse = client_for("nurse")
    base = f"/api/v1/patients/{world.patient.id}"
    given = nurse.post(f"{base}/courses", json={"infusions": ["1900-01-01", "1900-01-02"], "status": "given"})
    assert given.status_code == 201, given.json
    planned = nurse.post(f"{base}/courses", json={"infusions": ["2100-12-29", "2100-12-30", "2100-12-31"],
                                                 "status": "planned"})
    assert planned.status_code == 201, planned.json
    pregnancies = [{"reported_on": "1900-01-01", "ended_on": "1900-09-30"}, {"reported_on": "2100-12-31"}]
    patched = nurse.patch(base, json={"pregnancies": pregnancies})
    assert patched.status_code == 200, patched.json
    lab = nurse.post(f"{base}/labs", json={"client_id": new_client_id(), "taken_on": "1900-01-01",
                                           "results": [{"analyte": "platelets", "value": 250}]})
    assert lab.status_code == 201, lab.json

    record = nurse.get(base)
    assert record.status_code == 200, record.json
    assert record.json["monitoring_ends"] == "2104-12-31"
    timeline = nurse.get(f"{base}/timeline?from=1900-01-01&to=2100-12-31")
    assert timeline.status_code == 200, timeline.json
    assert nurse.get("/api/v1/patients").status_code == 200
    patient = client_for("patient")
    assert patient.get(f"{base}/export").status_code == 200
    assert patient.get(f"{base}/checklist").status_code == 200


@pytest.mark.parametrize("note", ["first line\nsecond line", "\tindented", "tired\n"])
def test_a_checklist_note_keeps_its_line_breaks_and_tabs(note, world, client_for):
    patient = client_for("patient")
    path = f"/api/v1/patients/{world.patient.id}/checklists"
    body = {"client_id": new_client_id(), "answered_on": today_madrid().isoformat(),
            "answers": {"bleed.mucosal": False}, "note": note}
    sent = patient.post(path, json=body)
    assert sent.status_code == 201, sent.json
    assert [c["note"] for c in patient.get(path).json["items"]] == [note]


def test_a_flag_note_keeps_its_line_breaks(world, client_for):
    nurse = client_for("nurse")
    note = "Called her.\nCount again on Monday:\tplatelets"
    resolved = nurse.post(f"/api/v1/flags/{world.flag.id}/resolve", json={"outcome": "called_patient", "note": note})
    assert resolved.status_code == 200, resolved.json
    assert resolved.json["note"] == note


def test_format_characters_stay_allowed_in_names(world, client_for):
    """A zero-width joiner is part of how some scripts are written (Devanagari, emoji)."""
    nurse = client_for("nurse")
    name = "\u0915\u094d\u200d\u0937 Patel"
    created = nurse.post("/api/v1/patients", json={"display_name": name, "sex": "female", "timezone": "Europe/Madrid"})
    assert created.status_code == 201, created.json
    assert created.json["display_name"] == name


def test_a_full_width_email_registers_as_its_ascii_form(world, db, client_for):
    code, _ = accounts.issue_code(db, world.patient, "family", world.users["patient"], utcnow(), 14)
    db.commit()
    anonymous = client_for("anonymous")
    email = "  \uff2e\uff25\uff37comer@A.test "
    made = anonymous.post("/api/v1/auth/register", json={"code": code, "email": email, "password": PASSWORD})
    assert made.status_code == 201, made.json
    assert made.json["email"] == "newcomer@a.test"
    assert db.scalar(select(User.email).where(User.id == made.json["id"])) == "newcomer@a.test"
    db.commit()
    assert client_for("anonymous").login("NEWCOMER@a.test").status_code == 200


def test_login_with_the_full_width_form_of_an_address_is_the_same_account(world, client_for):
    assert client_for("anonymous").login("\uff30\uff21\uff34\uff34\uff39@a.test").status_code == 200


def test_a_look_alike_address_is_refused_not_a_wrong_password(world, client_for):
    """A Cyrillic "а" for the Latin one: 400 naming the email (no account can have it)."""
    check_envelope(client_for("anonymous").login("p\u0430tty@a.test"), 400, "email")


@pytest.mark.parametrize("raw", [
    "patty@a.test", "  Patty@A.Test  ", "\uff30\uff41\uff54\uff54\uff59@a.test", "\u212aelvin@a.test",
    "a\ufe6bb.test", "x@\u2460.test",
])
def test_the_email_field_gives_the_form_normalise_email_stores(raw):
    assert Email().deserialize(raw) == accounts.normalise_email(raw)


@pytest.mark.parametrize("raw", ["pat\u200btty@a.test", "p\u0430tty@a.test", "b\u00fccher@a.test",
                                 "\u202epatty@a.test", "two words@a.test", "patty@a.test\x00"])
def test_the_email_field_refuses_invisible_and_look_alike_characters(raw):
    with pytest.raises(ValidationError):
        Email().deserialize(raw)

