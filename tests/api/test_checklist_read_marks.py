"""A nurse marks a routine checklist read (tidy, task 2), on both databases: it leaves
the list to read; the record's history says who read it and when, the patient's
history that her team read it (never who); marking again changes nothing; another
clinic's checklist answers 404 and a flagged one 409."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from server.models import AuditEvent
from server.timeutil import utcnow

from .conftest import new_client_id, today_madrid

P = "/api/v1/patients/{}"


def send(client, pid: int, answers: dict, note: str | None, days_ago: int = 0):
    response = client.post(P.format(pid) + "/checklists", json={
        "client_id": new_client_id(), "answered_on": (today_madrid() - timedelta(days=days_ago)).isoformat(),
        "answers": answers, "note": note})
    assert response.status_code == 201, response.json
    return response.json


def history_item(client, pid: int, answered_on: str) -> dict:
    items = client.get(P.format(pid) + "/checklists").json["items"]
    return next(i for i in items if i["answered_on"] == answered_on)


def test_a_routine_checklist_marked_read_leaves_the_list_and_says_so(world, db, client_for, frozen_time):
    pid = world.patient.id
    patient, nurse, admin = client_for("patient"), client_for("nurse"), client_for("admin")
    send(patient, pid, {"thyroid.weight": False}, "Tired since the holidays.")
    today = today_madrid().isoformat()
    to_read = nurse.get("/api/v1/checklists/to-read").json["items"]
    assert [c["note"] for c in to_read] == ["Tired since the holidays."]
    checklist_id = to_read[0]["id"]
    assert history_item(patient, pid, today)["team"] is None  # not read yet: "noted for your next review"

    at = frozen_time(utcnow() + timedelta(minutes=5))
    marked = nurse.post(f"/api/v1/checklists/{checklist_id}/read")
    assert marked.status_code == 200, marked.json
    assert (marked.json["id"], marked.json["patient_id"], marked.json["read_by_email"]) == (
        checklist_id, pid, "nurse@a.test")
    assert nurse.get("/api/v1/checklists/to-read").json["items"] == []
    assert admin.get("/api/v1/checklists/to-read").json["items"] == []  # the clinic's list, not hers alone

    # Again, by someone else, later: idempotent, the first reader and instant stay.
    frozen_time(at + timedelta(minutes=10))
    again = admin.post(f"/api/v1/checklists/{checklist_id}/read")
    assert again.status_code == 200
    assert (again.json["read_by_email"], again.json["read_at"]) == ("nurse@a.test", marked.json["read_at"])

    staff_view = history_item(nurse, pid, today)["team"]
    assert (staff_view["status"], staff_view["read_by_email"], staff_view["read_at"]) == (
        "read", "nurse@a.test", marked.json["read_at"])
    own_view = history_item(patient, pid, today)["team"]
    assert (own_view["status"], own_view["read_at"], own_view["read_by_email"]) == ("read", marked.json["read_at"],
                                                                                     None)
    assert "checklist.mark_read" in db.scalars(select(AuditEvent.action).where(AuditEvent.patient_id == pid))


def test_another_clinics_or_a_missing_checklist_is_not_found(world, db, client_for):
    pid = world.patient.id
    send(client_for("patient"), pid, {"thyroid.weight": False}, "A note.")
    checklist_id = client_for("nurse").get("/api/v1/checklists/to-read").json["items"][0]["id"]
    other = client_for("other_nurse")
    for target in (checklist_id, checklist_id + 1000):
        response = other.post(f"/api/v1/checklists/{target}/read")
        assert response.status_code == 404 and response.json["error"]["code"] == "not_found"
    assert [c["id"] for c in client_for("nurse").get("/api/v1/checklists/to-read").json["items"]] == [checklist_id]
    assert client_for("patient").post(f"/api/v1/checklists/{checklist_id}/read").status_code == 403
    assert client_for("family").post(f"/api/v1/checklists/{checklist_id}/read").status_code == 403
    denied = db.scalars(select(AuditEvent.action).where(AuditEvent.actor_id == world.users["other_nurse"].id))
    assert list(denied).count("denied.checklist") == 2


def test_a_flagged_checklist_is_not_marked_read_but_handled_by_its_flag(world, client_for):
    pid = world.patient.id
    result = send(client_for("patient"), pid, {"bleed.mucosal": True}, None)
    assert result["level"] in ("urgent", "emergency")
    checklist_id = history_item(client_for("nurse"), pid, today_madrid().isoformat())["id"]
    response = client_for("nurse").post(f"/api/v1/checklists/{checklist_id}/read")
    assert response.status_code == 409 and response.json["error"]["code"] == "checklist_not_to_read"
    team = history_item(client_for("nurse"), pid, today_madrid().isoformat())["team"]
    assert team["status"] == "open" and team.get("read_at") is None
