"""A CLL patient through the API (issue 20, CLINICAL.md section 7), on both databases.

The nurse enrols her with protocol cll, asks for a proposed schedule, edits it
(a dose held) and records it; she sees the weekly checklist and the CMV tests,
answers in her protocol's words and records CMV results; a relative sees the
early signs of CMV. Who may call each route is tests/api/test_authorization.py's.
"""

from __future__ import annotations

from datetime import date, timedelta

from server.models import AuditEvent
from server.services import accounts

from .conftest import Client, new_client_id, today_madrid

P = "/api/v1/patients/{}"
PASSWORD = "a long enough password"


def enrol(nurse: Client, **extra) -> dict:
    response = nurse.post("/api/v1/patients", json={
        "display_name": "Carla Cll", "sex": "female", "childbearing_potential": False, "timezone": "Europe/Madrid",
        "language": "en", "protocol": "cll", **extra})
    assert response.status_code == 201, response.json
    return response.json


def register(app, code: str, email: str) -> Client:
    client = Client(app)
    response = client.post("/api/v1/auth/register", json={"code": code, "email": email, "password": PASSWORD})
    assert response.status_code == 201, response.json
    assert client.login(email, PASSWORD).status_code == 200
    return client


def test_a_cll_patient_from_enrolment_to_her_relative(app, db, client_for):
    nurse = client_for("nurse")
    record = enrol(nurse)
    pid = record["id"]
    assert record["protocol"] == "cll" and record["courses"] == [] and record["warnings"] == []

    # The proposal (CLINICAL.md 7.1): IV escalation, then 30 mg three times a week; nothing saved.
    start = today_madrid() - timedelta(days=16)
    proposal = nurse.post(P.format(pid) + "/course-proposal", json={"start": start.isoformat(), "route": "iv"})
    assert proposal.status_code == 200, proposal.json
    doses = proposal.json["infusions"]
    assert [(d["on"], d["mg"], d["route"]) for d in doses[:3]] == [
        (start.isoformat(), 3, "iv"), ((start + timedelta(days=1)).isoformat(), 10, "iv"),
        ((start + timedelta(days=2)).isoformat(), 30, "iv")]
    assert len(doses) == 38
    assert nurse.get(P.format(pid)).json["courses"] == []
    assert db.query(AuditEvent).filter_by(action="course.proposal", patient_id=pid).count() == 1

    # The care team holds the fourth dose (low counts) and records the course.
    edited = doses[:3] + doses[4:]
    response = nurse.post(P.format(pid) + "/courses", json={"infusions": edited, "status": "planned"})
    assert response.status_code == 201, response.json
    assert response.json["infusions"] == [d["on"] for d in edited]
    assert response.json["doses"][:3] == [{"mg": 3, "route": "iv"}, {"mg": 10, "route": "iv"},
                                          {"mg": 30, "route": "iv"}]
    staff_view = nurse.get(P.format(pid)).json
    assert staff_view["warnings"] == []
    assert staff_view["monitoring_ends"] is not None

    # The patient registers and sees her protocol.
    patient = register(app, record["enrollment_code"], "carla@a.test")
    timeline = patient.get(P.format(pid) + "/timeline").json["items"]
    codes = {item["code"] for item in timeline}
    assert {"lab.cmv_pcr", "checklist.weekly", "education.cmv_signs", "med.cotrimoxazole"} <= codes
    assert not codes & {"checklist.monthly", "diet.listeria", "imaging.mri"}
    cmv = [item for item in timeline if item["code"] == "lab.cmv_pcr"]
    assert cmv[0]["due"] == (start + timedelta(days=7)).isoformat() and cmv[0]["title"] == "CMV blood test"

    # The weekly checklist (7.3): her protocol's questions; fever during the course is an emergency.
    checklist = patient.get(P.format(pid) + "/checklist").json
    assert [q["code"] for q in checklist["questions"]][:2] == ["cll.emergency", "cll.fever"]
    assert checklist["due"] == (start + timedelta(days=14)).isoformat()
    sent = patient.post(P.format(pid) + "/checklists", json={
        "client_id": new_client_id(), "answered_on": today_madrid().isoformat(), "answers": {"cll.fever": True}})
    assert sent.status_code == 201, sent.json
    assert (sent.json["level"], sent.json["reasons"]) == ("emergency", ["cll.fever"])
    assert "haematology" in sent.json["advice"]["text"] and "MS" not in sent.json["advice"]["text"]
    refused = patient.post(P.format(pid) + "/checklists", json={
        "client_id": new_client_id(), "answered_on": today_madrid().isoformat(), "answers": {"bleed.mucosal": True}})
    assert refused.status_code == 400 and refused.json["error"]["field"] == "answers.bleed.mucosal"

    # CMV results (7.4): one positive is soon; a rise within 28 days is a reactivation (urgent).
    first = patient.post(P.format(pid) + "/labs", json={
        "client_id": new_client_id(), "taken_on": (today_madrid() - timedelta(days=7)).isoformat(),
        "results": [{"analyte": "cmv_pcr", "value": 400, "unit": "copies/mL"}]})
    assert first.status_code == 201, first.json
    assert [f["rule"] for f in first.json["flags"]] == ["cmv.positive"] and first.json["advice"] is None
    second = patient.post(P.format(pid) + "/labs", json={
        "client_id": new_client_id(), "taken_on": today_madrid().isoformat(),
        "results": [{"analyte": "cmv_pcr", "value": 900, "unit": "IU/mL"}]})
    assert second.status_code == 201, second.json
    assert [(f["rule"], f["level"]) for f in second.json["flags"]] == [("cmv.reactivation", "urgent")]
    assert "haematology" in second.json["advice"]["text"]
    assert second.json["advice"]["rules"][0]["title"] == "CMV virus is active"

    # Her relative sees the early signs of CMV (shared by default), and no lab item.
    invite = patient.post(P.format(pid) + "/family-invites")
    assert invite.status_code == 201, invite.json
    relative = register(app, invite.json["code"], "carlos@a.test")
    seen = relative.get(P.format(pid) + "/timeline").json["items"]
    assert "education.cmv_signs" in {item["code"] for item in seen}
    assert not any(item["kind"] == "lab" for item in seen)
    assert set(accounts.DEFAULT_FAMILY_SHARES) >= {item["kind"] for item in seen}


def test_dose_warnings_and_doses_for_ms_refused(client_for, world):
    nurse = client_for("nurse")
    pid = enrol(nurse, display_name="Dora Dose")["id"]
    day = today_madrid() + timedelta(days=30)
    course = nurse.post(P.format(pid) + "/courses", json={"status": "planned", "route": "iv", "infusions": [
        {"on": day.isoformat(), "mg": 30}, {"on": (day + timedelta(days=9)).isoformat(), "mg": 40}]})
    assert course.status_code == 201, course.json
    assert course.json["doses"] == [{"mg": 30, "route": "iv"}, {"mg": 40, "route": "iv"}]
    warned = {w["code"] for w in nurse.get(P.format(pid)).json["warnings"]}
    assert warned == {"course.dose_limit", "course.reescalate"}

    ms = nurse.post(P.format(world.patient.id) + "/courses", json={"status": "planned", "infusions": [
        {"on": (today_madrid() + timedelta(days=400)).isoformat(), "mg": 12, "route": "iv"}]})
    assert ms.status_code == 400 and ms.json["error"]["field"] == "infusions.0"
    proposal = nurse.post(P.format(world.patient.id) + "/course-proposal",
                          json={"start": today_madrid().isoformat(), "route": "sc"})
    assert proposal.status_code == 409 and proposal.json["error"]["code"] == "no_proposal"
    bad = nurse.post("/api/v1/patients", json={"display_name": "X", "sex": "male", "timezone": "Europe/Madrid",
                                                "protocol": "als"})
    assert bad.status_code == 400 and bad.json["error"]["field"] == "protocol"
    too_many = nurse.post(P.format(pid) + "/courses", json={"status": "planned", "infusions": [
        (date(2030, 1, 1) + timedelta(days=2 * i)).isoformat() for i in range(61)]})
    assert too_many.status_code == 400 and too_many.json["error"]["field"] == "infusions"


def test_the_fhir_export_follows_her_protocol(app, client_for):
    """The bundle carries the CLL checklist as its Questionnaire and each given dose
    with its route and milligrams (MedicationAdministration.dosage); it validates as R4."""
    from fhir.resources.R4B.bundle import Bundle

    from server.services import fhir

    nurse = client_for("nurse")
    record = enrol(nurse, display_name="Fiona Fhir")
    start = today_madrid() - timedelta(days=120)
    proposal = nurse.post(P.format(record["id"]) + "/course-proposal",
                          json={"start": start.isoformat(), "route": "sc"}).json["infusions"]
    assert nurse.post(P.format(record["id"]) + "/courses",
                      json={"infusions": proposal, "status": "given"}).status_code == 201
    assert nurse.post(P.format(record["id"]) + "/labs", json={
        "client_id": new_client_id(), "taken_on": (start + timedelta(days=7)).isoformat(),
        "results": [{"analyte": "cmv_pcr", "value": 150}]}).status_code == 201
    response = nurse.get(P.format(record["id"]) + "/export?format=fhir")
    assert response.status_code == 200
    body = response.json
    Bundle.model_validate(body)
    kinds = {}
    for entry in body["entry"]:
        kinds.setdefault(entry["resource"]["resourceType"], []).append(entry["resource"])
    (form,) = kinds["Questionnaire"]
    assert (form["id"], form["url"]) == ("cll-checklist", fhir.questionnaire_url("cll"))
    assert [item["linkId"] for item in form["item"]][:2] == ["cll.emergency", "cll.fever"]
    given = kinds["MedicationAdministration"]
    assert len(given) == 36
    assert given[0]["dosage"] == {"route": {"text": "subcutaneous"},
                                  "dose": {"value": 30, "unit": "mg", "system": "http://unitsofmeasure.org",
                                           "code": "mg"}}
    (observation,) = kinds["Observation"]
    assert observation["valueQuantity"]["unit"] == "copies/mL"
    (flag,) = kinds["Flag"]
    assert any(c["code"] == "cmv.positive" for c in flag["code"]["coding"])
    codes = {a["detail"]["code"]["coding"][0]["code"] for a in kinds["CarePlan"][0]["activity"]
             if "coding" in a["detail"]["code"]}
    assert {"lab.cmv_pcr", "lab.cd4", "checklist.weekly"} <= codes
