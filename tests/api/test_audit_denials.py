"""Access-control failures are written to the audit log, without values (issue 13 point 5).

A 404 for a record the user may not see (another clinic's or another
patient's, a family member without an active link, or none at all) and a 403
for one they may see but not act on leave one ``denied.*`` event: the actor,
their clinic, a fixed action name and, only for a patient of the actor's own
clinic, that patient's id. Nothing the request carried. A refused state
change writes nothing else.
"""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from server.models import AuditEvent, Checklist

from .conftest import new_client_id, today_madrid

API = "/api/v1"
#: every column an audit event has: ids, a fixed name and the instant (no free text, no values)
COLUMNS = {"id", "clinic_id", "actor_id", "action", "patient_id", "at"}


def denials(db) -> list[AuditEvent]:
    db.expire_all()
    return list(db.scalars(select(AuditEvent).where(AuditEvent.action.startswith("denied.")).order_by(AuditEvent.id)))


def checklist_body() -> dict:
    return {"client_id": new_client_id(), "answered_on": today_madrid().isoformat(),
            "answers": {"bleed.mucosal": True}, "note": "a private note"}


#: (role, method, path of the world, status, action, whether the event names the patient)
CASES = {
    "another_patients_record": ("other_patient", "GET", lambda w: f"/patients/{w.patient.id}", 404,
                                "denied.patient", True),
    "another_clinics_patient": ("other_nurse", "GET", lambda w: f"/patients/{w.patient.id}/labs", 404,
                                "denied.patient", False),
    "a_patient_that_does_not_exist": ("nurse", "GET", lambda w: "/patients/987654/timeline", 404,
                                      "denied.patient", False),
    "a_revoked_family_member": ("revoked_family", "GET", lambda w: f"/patients/{w.patient.id}/timeline", 404,
                                "denied.patient", True),
    "family_reading_answers": ("family", "GET", lambda w: f"/patients/{w.patient.id}/checklists", 403,
                               "denied.role", True),
    "a_patient_at_the_flag_queue": ("patient", "GET", lambda w: "/flags", 403, "denied.role", False),
    "another_clinics_flag": ("nurse", "POST", lambda w: f"/flags/{w.foreign_flag.id}/ack", 404, "denied.flag",
                             False),
    "a_checklist_for_another_patient": ("other_patient", "POST", lambda w: f"/patients/{w.patient.id}/checklists",
                                        404, "denied.patient", True),
}


@pytest.mark.parametrize("case", list(CASES))
def test_an_access_control_failure_is_audited_without_values(world, db, client_for, case):
    role, method, path, status, action, names_patient = CASES[case]
    client = client_for(role)
    before = len(denials(db))
    kwargs = {"json": checklist_body()} if path(world).endswith("/checklists") and method == "POST" else {}

    response = client.open(method, API + path(world), **kwargs)

    assert response.status_code == status, response.get_data(as_text=True)
    events = denials(db)[before:]
    assert len(events) == 1, events
    event = events[0]
    actor = world.users[role]
    assert (event.actor_id, event.clinic_id, event.action) == (actor.id, actor.clinic_id, action)
    assert event.patient_id == (world.patient.id if names_patient else None)
    assert set(AuditEvent.__table__.columns.keys()) == COLUMNS  # nowhere to put a value


def test_a_refused_state_change_writes_nothing_but_its_audit_event(world, db, client_for):
    before = db.scalar(select(func.count()).select_from(Checklist))
    response = client_for("other_patient").post(f"{API}/patients/{world.patient.id}/checklists",
                                                json=checklist_body())
    assert response.status_code == 404
    db.expire_all()
    assert db.scalar(select(func.count()).select_from(Checklist)) == before
    assert [e.action for e in denials(db)] == ["denied.patient"]


@pytest.mark.parametrize("role,path", [("patient", "/patients/{p}"), ("nurse", "/patients/{p}/labs"),
                                       ("family", "/patients/{p}/timeline"), ("nurse", "/flags")])
def test_an_allowed_request_records_no_denial(world, db, client_for, role, path):
    response = client_for(role).get(API + path.format(p=world.patient.id))
    assert response.status_code == 200, response.get_data(as_text=True)
    assert denials(db) == []


def test_the_clinics_admin_sees_the_denials_in_the_audit_log(world, db, client_for):
    assert client_for("other_patient").get(f"{API}/patients/{world.patient.id}").status_code == 404
    listed = client_for("admin").get(f"{API}/audit")
    assert listed.status_code == 200, listed.json
    assert "denied.patient" in listed.get_data(as_text=True)
