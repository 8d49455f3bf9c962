"""The admin's screens (issue 17, point 6): the clinic's staff accounts and the audit log's filters."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from server.models import AuditEvent, User
from server.timeutil import utcnow

from .conftest import Client

API = "/api/v1"


def invite(admin, email="nora.nurse@a.test", role="nurse"):
    response = admin.post(f"{API}/staff", json={"email": email, "role": role})
    assert response.status_code == 201, response.json
    return response.json


def test_an_invited_nurse_sets_her_password_with_the_code_and_works(world, client_for, app):
    admin = client_for("admin")
    body = invite(admin, "Nora.Nurse@A.test")
    assert body["member"]["email"] == "nora.nurse@a.test" and body["member"]["role"] == "nurse"
    assert body["member"]["pending"] is True and body["code"] and body["expires_at"]
    listed = {m["email"]: m for m in admin.get(f"{API}/staff").json["items"]}
    assert set(listed) == {"nurse@a.test", "admin@a.test", "nora.nurse@a.test"}  # never clinic B's
    assert listed["nora.nurse@a.test"]["pending"] is True and listed["nurse@a.test"]["pending"] is False
    # No password works before she sets her own.
    newcomer = Client(app)
    assert newcomer.login("nora.nurse@a.test", "anything at all 1").status_code == 401
    reset = newcomer.post(f"{API}/auth/reset", json={"email": "nora.nurse@a.test", "code": body["code"],
                                                     "password": "a long new password"})
    assert reset.status_code == 200, reset.json
    assert newcomer.get(f"{API}/patients").status_code == 200
    assert admin.get(f"{API}/staff").json["items"][2]["pending"] is False


def test_the_admin_changes_a_role_disables_and_enables_an_account(world, client_for, app):
    admin = client_for("admin")
    nurse = client_for("nurse")
    nid = world.users["nurse"].id
    promoted = admin.patch(f"{API}/staff/{nid}", json={"role": "admin"})
    assert promoted.status_code == 200 and promoted.json["role"] == "admin"
    assert nurse.get(f"{API}/audit").status_code == 200  # at once: she is an admin now
    disabled = admin.patch(f"{API}/staff/{nid}", json={"active": False})
    assert disabled.status_code == 200 and disabled.json["active"] is False
    assert nurse.get(f"{API}/patients").status_code == 401  # her sessions ended
    assert Client(app).login("nurse@a.test").status_code == 401
    assert admin.post(f"{API}/staff/{nid}/code").status_code == 409  # disabled: enable first
    assert admin.patch(f"{API}/staff/{nid}", json={"active": True}).json["active"] is True
    assert Client(app).login("nurse@a.test").status_code == 200
    code = admin.post(f"{API}/staff/{nid}/code")
    assert code.status_code == 201 and code.json["code"]


def test_an_admin_keeps_her_own_role_and_access(world, client_for):
    admin = client_for("admin")
    me = world.users["admin"].id
    for body, field in (({"role": "nurse"}, "role"), ({"active": False}, "active")):
        response = admin.patch(f"{API}/staff/{me}", json=body)
        assert response.status_code == 409
        assert response.json["error"]["code"] == "own_account" and response.json["error"]["field"] == field
    assert admin.patch(f"{API}/staff/{me}", json={"role": "admin", "active": True}).status_code == 200


@pytest.mark.parametrize("target", ["other_nurse", "patient", "family"])
def test_accounts_that_are_not_the_clinics_staff_answer_404(world, client_for, target, db):
    admin = client_for("admin")
    uid = world.users[target].id
    assert admin.patch(f"{API}/staff/{uid}", json={"role": "admin"}).status_code == 404
    assert admin.post(f"{API}/staff/{uid}/code").status_code == 404
    assert admin.patch(f"{API}/staff/987654", json={"role": "admin"}).status_code == 404
    db.expire_all()
    assert db.get(User, uid).role == world.users[target].role


@pytest.mark.parametrize("body, field", [
    ({"email": "x@a.test", "role": "doctor"}, "role"),
    ({"email": "x@a.test", "role": "patient"}, "role"),
    ({"email": "not an email", "role": "nurse"}, "email"),
    ({"email": "x@a.test"}, "role"),
    ({"role": "nurse"}, "email"),
    ({"email": "x@a.test", "role": "nurse", "clinic_id": 2}, "clinic_id"),
    ({"email": "x\u0000@a.test", "role": "nurse"}, "email"),
])
def test_a_bad_invitation_names_the_field_and_writes_nothing(world, client_for, db, body, field):
    before = db.scalar(select(func.count()).select_from(User))
    response = client_for("admin").post(f"{API}/staff", json=body)
    assert response.status_code == 400, response.json
    assert response.json["error"]["field"] == field
    assert db.scalar(select(func.count()).select_from(User)) == before


def test_an_email_with_an_account_is_refused(world, client_for):
    response = client_for("admin").post(f"{API}/staff", json={"email": "PATTY@a.test", "role": "nurse"})
    assert response.status_code == 409 and response.json["error"]["code"] == "email_taken"


@pytest.mark.parametrize("body, field", [
    ({}, "role"), ({"role": "owner"}, "role"), ({"active": "no"}, "active"), ({"active": 0}, "active"),
    ({"email": "x@a.test"}, "email"),
])
def test_a_bad_change_names_the_field(world, client_for, body, field):
    response = client_for("admin").patch(f"{API}/staff/{world.users['nurse'].id}", json=body)
    assert response.status_code == 400 and response.json["error"]["field"] == field


def test_staff_changes_are_in_the_audit_log(world, client_for):
    admin = client_for("admin")
    invite(admin)
    admin.patch(f"{API}/staff/{world.users['nurse'].id}", json={"role": "nurse"})
    actions = [e["action"] for e in admin.get(f"{API}/audit?action=staff").json["items"]]
    assert actions == ["staff.update", "staff.invite"]


def test_the_audit_log_filters_by_who_what_whom_and_when(world, client_for, db):
    nurse, admin = client_for("nurse"), client_for("admin")
    pid = world.patient.id
    nurse.get(f"{API}/patients/{pid}")
    nurse.get(f"{API}/patients/{world.foreign_patient.id}")  # refused: denied.patient
    client_for("patient").get(f"{API}/flags")  # refused: denied.role
    old = AuditEvent(clinic_id=world.clinic.id, actor_id=world.users["nurse"].id, action="patient.read",
                     patient_id=pid, at=utcnow() - timedelta(days=40))
    db.add(old)
    db.commit()

    def items(query):
        response = admin.get(f"{API}/audit{query}")
        assert response.status_code == 200, response.json
        return response.json["items"]

    mine = items(f"?actor_id={world.users['nurse'].id}")
    assert mine and all(e["actor_id"] == world.users["nurse"].id for e in mine)
    about = items(f"?patient_id={pid}&action=patient.read")
    assert len(about) == 2 and all(e["patient_id"] == pid for e in about)
    denied = items("?action=denied")
    assert {e["action"] for e in denied} == {"denied.patient", "denied.role"}
    assert items("?action=denied.role")[0]["actor_id"] == world.users["patient"].id
    assert items("?action=patient.rea") == []  # whole names only: no part of a word
    today = utcnow().date()
    recent = items(f"?patient_id={pid}&from={(today - timedelta(days=1)).isoformat()}")
    assert old.id not in [e["id"] for e in recent] and recent
    older = items(f"?patient_id={pid}&to={(today - timedelta(days=30)).isoformat()}")
    assert [e["id"] for e in older] == [old.id]
    assert items(f"?actor_id={world.users['other_nurse'].id}") == []  # another clinic's staff is not here


@pytest.mark.parametrize("query, field", [
    ("?actor_id=abc", "actor_id"), ("?patient_id=0", "patient_id"), ("?action=DROP%20TABLE", "action"),
    ("?action=" + "a" * 41, "action"), ("?from=2026-13-01", "from"), ("?from=2026-05-02&to=2026-05-01", "to"),
    ("?limit=501", "limit"),
])
def test_bad_audit_filters_answer_the_error_envelope(world, client_for, query, field):
    response = client_for("admin").get(f"{API}/audit{query}")
    assert response.status_code == 400 and response.json["error"]["field"] == field


@pytest.mark.parametrize("method, path", [
    ("GET", "/staff"), ("POST", "/staff"), ("PATCH", "/staff/{nurse}"), ("POST", "/staff/{nurse}/code"),
    ("GET", "/audit"),
])
def test_a_nurse_is_refused_every_admin_route(world, client_for, method, path):
    nurse = client_for("nurse")
    response = nurse.open(method, API + path.format(nurse=world.users["nurse"].id),
                          json={"email": "x@a.test", "role": "admin"} if path == "/staff" and method == "POST"
                          else {"role": "admin"} if method == "PATCH" else None)
    assert response.status_code == 403
