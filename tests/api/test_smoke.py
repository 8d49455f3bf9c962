"""The main flows end to end through the HTTP API."""

from .conftest import new_client_id, today_madrid


def test_patient_checklist_flows_to_the_nurse_queue(world, client_for):
    patient = client_for("patient")
    pid = world.patient.id
    current = patient.get(f"/api/v1/patients/{pid}/checklist")
    assert current.status_code == 200, current.json
    assert {q["code"] for q in current.json["questions"]} >= {"bleed.mucosal", "bleed.menstrual"}
    body = {"client_id": new_client_id(), "answered_on": today_madrid().isoformat(),
            "answers": {"bleed.mucosal": True}, "note": None}
    sent = patient.post(f"/api/v1/patients/{pid}/checklists", json=body)
    assert sent.status_code == 201, sent.json
    assert sent.json["level"] == "urgent"
    assert "+34 900 111 222" in sent.json["advice"]["text"]
    again = patient.post(f"/api/v1/patients/{pid}/checklists", json=body)
    assert again.status_code == 200 and again.json == sent.json

    nurse = client_for("nurse")
    queue = nurse.get("/api/v1/flags?status=open").json["items"]
    assert queue[0]["level"] == "urgent"
    flag_id = sent.json["flag_id"]
    assert flag_id in [f["id"] for f in queue]
    acked = nurse.post(f"/api/v1/flags/{flag_id}/ack")
    assert acked.status_code == 200 and acked.json["status"] == "acknowledged"
    resolved = nurse.post(f"/api/v1/flags/{flag_id}/resolve", json={"outcome": "called_patient", "note": "ok"})
    assert resolved.status_code == 200 and resolved.json["status"] == "resolved"
