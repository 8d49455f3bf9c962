"""A patient's protocol changed after enrolment (issue 20, cll2), on both databases.

A wrong choice at enrolment is corrected by her care team while she has no
course recorded; with courses the change is refused (409 protocol_has_courses)
and nothing is written. The change is audited, her reminders are re-planned and
her app reads the new protocol's words. Patients and family cannot change it.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from server.models import AuditEvent, Patient
from server.timeutil import utcnow

from .conftest import today_madrid

P = "/api/v1/patients/{}"


def enrol(nurse, protocol: str = "ms") -> dict:
    response = nurse.post("/api/v1/patients", json={
        "display_name": "Wanda Wrong", "sex": "female", "childbearing_potential": False,
        "timezone": "Europe/Madrid", "language": "es", "protocol": protocol})
    assert response.status_code == 201, response.json
    return response.json


@pytest.mark.parametrize("role", ["nurse", "admin"])
def test_staff_correct_the_protocol_while_she_has_no_course(app, db, client_for, role):
    staff = client_for(role)
    pid = enrol(staff)["id"]
    db.execute(update(Patient).where(Patient.id == pid).values(reminders_until=utcnow() + timedelta(days=8)))
    db.commit()

    response = staff.patch(P.format(pid), json={"protocol": "cll"})
    assert response.status_code == 200, response.json
    assert response.json["protocol"] == "cll"
    assert staff.get(P.format(pid)).json["protocol"] == "cll"
    # Re-planned by the clock, audited as the fact of the change (never which protocol).
    assert db.scalar(select(Patient.reminders_until).where(Patient.id == pid)) is None
    assert db.query(AuditEvent).filter_by(action="patient.protocol_changed", patient_id=pid).count() == 1
    # Her timeline follows at once: a proposal is now offered, and back to MS it is refused again.
    start = today_madrid() + timedelta(days=7)
    proposal = staff.post(P.format(pid) + "/course-proposal", json={"start": start.isoformat(), "route": "sc"})
    assert proposal.status_code == 200 and len(proposal.json["infusions"]) == 36
    assert staff.patch(P.format(pid), json={"protocol": "ms"}).status_code == 200
    refused = staff.post(P.format(pid) + "/course-proposal", json={"start": start.isoformat(), "route": "sc"})
    assert refused.status_code == 409 and refused.json["error"]["code"] == "no_proposal"
    assert db.query(AuditEvent).filter_by(action="patient.protocol_changed", patient_id=pid).count() == 2


def test_the_same_protocol_again_is_no_change(db, client_for):
    nurse = client_for("nurse")
    pid = enrol(nurse, "cll")["id"]
    assert nurse.patch(P.format(pid), json={"protocol": "cll"}).status_code == 200
    assert db.query(AuditEvent).filter_by(action="patient.protocol_changed", patient_id=pid).count() == 0


def test_with_courses_the_change_is_refused_and_nothing_is_written(db, client_for, world):
    """The world's patient has a given MS course: remove it first."""
    nurse = client_for("nurse")
    pid = world.patient.id
    db.execute(update(Patient).where(Patient.id == pid).values(reminders_until=utcnow() + timedelta(days=8)))
    db.commit()
    response = nurse.patch(P.format(pid), json={"protocol": "cll", "language": "de"})
    assert response.status_code == 409
    error = response.json["error"]
    assert (error["code"], error["field"]) == ("protocol_has_courses", "protocol")
    assert "remove her courses first" in error["message"]
    record = nurse.get(P.format(pid)).json
    assert (record["protocol"], record["language"]) == ("ms", "en")
    assert db.scalar(select(Patient.reminders_until).where(Patient.id == pid)) is not None
    assert db.query(AuditEvent).filter_by(action="patient.protocol_changed", patient_id=pid).count() == 0

    # Her course removed (with a reason), the change goes through.
    course = record["courses"][0]["id"]
    removed = nurse.delete(P.format(pid) + f"/courses/{course}", json={"reason": "entered for the wrong patient"})
    assert removed.status_code == 204
    assert nurse.patch(P.format(pid), json={"protocol": "cll"}).status_code == 200


def test_an_unknown_protocol_is_refused_naming_the_field(client_for):
    nurse = client_for("nurse")
    pid = enrol(nurse)["id"]
    response = nurse.patch(P.format(pid), json={"protocol": "aml"})
    assert response.status_code == 400 and response.json["error"]["field"] == "protocol"


@pytest.mark.parametrize(("role", "status"), [("patient", 403), ("family", 403), ("other_nurse", 404)])
def test_patients_family_and_other_clinics_cannot_change_it(client_for, world, role, status, db):
    pid = world.patient.id
    response = client_for(role).patch(P.format(pid), json={"protocol": "cll"})
    assert response.status_code == status
    assert db.scalar(select(Patient.protocol).where(Patient.id == pid)) == "ms"
    assert response.json["error"]["code"] in ("forbidden", "not_found")  # never protocol_has_courses


def test_her_app_reads_the_new_protocols_words(app, client_for):
    """The patient's next load: GET her record (protocol) and the texts of that protocol."""
    from .test_cll_journey import register

    nurse = client_for("nurse")
    record = enrol(nurse)
    patient = register(app, record["enrollment_code"], "wanda@a.test")
    assert patient.get(P.format(record["id"])).json["protocol"] == "ms"
    assert nurse.patch(P.format(record["id"]), json={"protocol": "cll"}).status_code == 200
    assert patient.get(P.format(record["id"])).json["protocol"] == "cll"
    texts = patient.get("/api/v1/content/texts?lang=es&protocol=cll").json
    assert "lab.cmv_pcr" in texts["items"]
