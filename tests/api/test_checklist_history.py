"""Past checklists as the patient sees them (issue 16 point 3): what she answered,
the level, and what the care team did with it, in her language."""

from .conftest import new_client_id, today_madrid


def send(patient, pid, answers, note=None):
    body = {"client_id": new_client_id(), "answered_on": today_madrid().isoformat(), "answers": answers,
            "note": note}
    response = patient.post(f"/api/v1/patients/{pid}/checklists", json=body)
    assert response.status_code == 201, response.json
    return response.json


def history(client, pid):
    response = client.get(f"/api/v1/patients/{pid}/checklists")
    assert response.status_code == 200, response.json
    return response.json["items"]


def test_the_team_outcome_follows_the_flag_from_open_to_resolved(world, client_for):
    patient, nurse = client_for("patient"), client_for("nurse")
    pid = world.patient.id
    sent = send(patient, pid, {"bleed.mucosal": True, "thyroid.weight": False})
    [item] = history(patient, pid)
    assert item["level"] == "urgent" and item["answers"] == {"bleed.mucosal": True, "thyroid.weight": False}
    assert [y["code"] for y in item["yes"]] == ["bleed.mucosal"]
    assert "nose" in item["yes"][0]["text"].lower() or "bleed" in item["yes"][0]["text"].lower()
    assert item["team"] == {"status": "open", "acknowledged_at": None, "resolved_at": None, "outcome": None}

    assert nurse.post(f"/api/v1/flags/{sent['flag_id']}/ack").status_code == 200
    team = history(patient, pid)[0]["team"]
    assert team["status"] == "acknowledged" and team["acknowledged_at"] and team["resolved_at"] is None

    resolved = nurse.post(f"/api/v1/flags/{sent['flag_id']}/resolve",
                          json={"outcome": "lab_ordered", "note": "private to the team"})
    assert resolved.status_code == 200
    [item] = history(patient, pid)
    assert item["team"]["status"] == "resolved" and item["team"]["outcome"] == "lab_ordered"
    assert item["team"]["resolved_at"]
    assert "private to the team" not in str(item)  # the nurse's note is not the patient's
    assert history(nurse, pid) == [item]


def test_a_checklist_without_a_flag_has_no_team_part_and_yes_in_her_language(world, client_for, db):
    world.patient.language = "it"
    db.flush()
    patient = client_for("patient")
    pid = world.patient.id
    sent = send(patient, pid, {"thyroid.weight": True})
    assert sent["flag_id"] is None
    [item] = history(patient, pid)
    assert item["level"] == "routine" and item["team"] is None
    from server.engine.content.loading import default_content

    assert item["yes"] == [{"code": "thyroid.weight", "signs": [],
                            "text": default_content().text("it", "questions", "thyroid.weight", "text")}]


def test_each_question_says_its_level(world, client_for):
    """The app warns at once on a yes to an emergency question (issue 16 point 3)."""
    current = client_for("patient").get(f"/api/v1/patients/{world.patient.id}/checklist").json
    levels = {q["code"]: q["level"] for q in current["questions"]}
    assert levels["emergency.neuro"] == levels["bleed.severe"] == "emergency"
    assert levels["bleed.mucosal"] == "urgent" and levels["thyroid.weight"] == "routine"
