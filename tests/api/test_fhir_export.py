"""The FHIR R4 export and the public Questionnaire (issue 19), validated with fhir.resources' R4B models.

Every demo patient's bundle (server/services/demo.py) must validate as an R4
Bundle, and its LOINC and UCUM codes must be exactly those content/labs.toml
cites for each analyte.
"""

from __future__ import annotations

import uuid

import pytest
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.questionnaire import Questionnaire
from sqlalchemy import select

from server.engine.content.loading import default_content
from server.models import AuditEvent, LabResult, Patient, User
from server.services import demo, fhir

from .conftest import ROLES, Client
from .test_authorization import assert_error_envelope, by_role

CONTENT = default_content()
FHIR_JSON = "application/fhir+json"


def export(client, patient_id: int, fmt: str = "fhir"):
    return client.get(f"/api/v1/patients/{patient_id}/export?format={fmt}")


def resources(body: dict, kind: str) -> list[dict]:
    return [entry["resource"] for entry in body["entry"] if entry["resource"]["resourceType"] == kind]


def check_bundle(body: dict) -> None:
    """Valid R4 (R4B models), uuids and codes as content/ cites them."""
    Bundle.model_validate(body)
    assert body["resourceType"] == "Bundle" and body["type"] == "collection"
    ids = set()
    for entry in body["entry"]:
        resource = entry["resource"]
        assert resource.get("id"), resource["resourceType"]
        assert entry["fullUrl"].startswith("urn:uuid:")
        uuid.UUID(entry["fullUrl"].removeprefix("urn:uuid:"))
        ids.add(entry["fullUrl"])
    assert len(ids) == len(body["entry"]), "every fullUrl is its own"
    (patient,) = resources(body, "Patient")
    subject = f"urn:uuid:{patient['id']}"
    (form,) = resources(body, "Questionnaire")
    # the checklist of the patient's protocol (issue 20: the demo has CLL patients too)
    protocol = next(code for code, known in fhir.QUESTIONNAIRE_IDS.items() if known == form["id"])
    assert form["url"] == fhir.questionnaire_url(protocol)
    boolean = [item for item in form["item"] if item["type"] == "boolean"]
    assert [item["linkId"] for item in boolean] == list(CONTENT.of(protocol).question_codes)
    for item in boolean:
        assert item["code"] == [{"system": fhir.CHECKLIST_SYSTEM, "code": item["linkId"]}]
    link_ids = {item["linkId"] for item in form["item"]}
    for response in resources(body, "QuestionnaireResponse"):
        assert response["status"] == "completed" and response["questionnaire"] == form["url"]
        assert response["subject"]["reference"] == subject
        assert {item["linkId"] for item in response.get("item", [])} <= link_ids
    for observation in resources(body, "Observation"):
        analyte = next(a for a in CONTENT.analytes.values()
                       if observation["code"]["coding"][0]["code"] == a.loinc)
        assert observation["code"]["coding"] == [{"system": "http://loinc.org", "code": analyte.loinc,
                                                  "display": analyte.loinc_display}]
        assert observation["category"][0]["coding"][0]["code"] == "laboratory"
        assert observation["subject"]["reference"] == subject
        if analyte.kind == "number":
            quantity = observation["valueQuantity"]
            assert (quantity["system"], quantity["code"]) == ("http://unitsofmeasure.org", analyte.ucum)
            for bound in observation.get("referenceRange", [{}])[0].values():
                assert (bound["system"], bound["code"]) == ("http://unitsofmeasure.org", analyte.ucum)
            assert observation["interpretation"][0]["coding"][0]["code"] in ("L", "H", "N")
        else:
            (coding,) = observation["valueCodeableConcept"]["coding"]
            assert (coding["system"], coding["code"]) in (("http://snomed.info/sct", "10828004"),
                                                          ("http://snomed.info/sct", "260385009"))
    for flag in resources(body, "Flag"):
        assert flag["status"] in ("active", "inactive") and flag["period"]["start"]
        assert any(c["system"] == fhir.LEVEL_SYSTEM for c in flag["code"]["coding"])
    (plan,) = resources(body, "CarePlan")
    assert plan["status"] == "active" and plan["intent"] == "plan"
    for given in resources(body, "MedicationAdministration"):
        assert given["status"] == "completed" and given["medicationCodeableConcept"]["text"] == "alemtuzumab"


def test_every_demo_patients_bundle_validates_and_cites_contents_codes(app, db):
    demo.seed(db, app.config)
    db.commit()
    nurse = Client(app)
    assert nurse.login(f"nurse@{demo.DOMAIN}", demo.PASSWORD).status_code == 200
    patients = list(db.scalars(select(Patient).join(User, User.patient_id == Patient.id)
                               .where(User.email.like(f"%@{demo.DOMAIN}"))))
    assert len(patients) == len(demo.PATIENTS)
    seen_analytes, kinds = set(), set()
    for patient in patients:
        response = export(nurse, patient.id)
        assert response.status_code == 200, response.get_data(as_text=True)[:300]
        assert response.mimetype == FHIR_JSON
        body = response.json
        check_bundle(body)
        kinds |= {entry["resource"]["resourceType"] for entry in body["entry"]}
        # each result that stands is one Observation, coded as content/ cites its analyte
        rows = {fhir.row_uuid("Observation", row.id): row for row in db.scalars(
            select(LabResult).where(LabResult.patient_id == patient.id, LabResult.withdrawn_at.is_(None)))}
        observations = resources(body, "Observation")
        assert {o["id"] for o in observations} == set(rows)
        for observation in observations:
            analyte = CONTENT.analytes[rows[observation["id"]].analyte]
            assert observation["code"]["coding"][0]["code"] == analyte.loinc
            if analyte.kind == "number":
                assert observation["valueQuantity"]["code"] == analyte.ucum
            seen_analytes.add(analyte.code)
        # the same bundle again names every record the same way
        again = export(nurse, patient.id).json
        assert [e["fullUrl"] for e in again["entry"]] == [e["fullUrl"] for e in body["entry"]]
    assert {"Patient", "Questionnaire", "QuestionnaireResponse", "Observation", "Flag", "CarePlan",
            "MedicationAdministration"} <= kinds
    assert len(seen_analytes) >= 3, seen_analytes


def test_the_bundle_holds_her_results_answers_and_courses(app, db, world, client_for):
    body = export(client_for("patient"), world.patient.id).json
    check_bundle(body)
    (patient,) = resources(body, "Patient")
    assert patient["gender"] == "female" and patient["name"] == [{"text": "Patty Patient"}]
    assert "birthDate" not in patient and "telecom" not in patient
    given = [c for c in world.patient.courses if c.status == "given"]
    days = sorted(day for c in given for day in c.infusions)
    assert sorted(m["effectiveDateTime"] for m in resources(body, "MedicationAdministration")) == days
    (plan,) = resources(body, "CarePlan")
    assert plan["activity"] and all("scheduledPeriod" in a["detail"] for a in plan["activity"])


def test_a_record_the_engine_cannot_use_still_exports(db, world, client_for):
    """A course on 9999-12-31 and a time zone that does not exist (written around the API's checks): the
    bundle still comes, with a CarePlan that says why it has no activities."""
    from sqlalchemy import insert

    from server.models import Course
    db.execute(insert(Course).values(patient_id=world.patient.id, infusions=["9999-12-31"], status="planned"))
    world.patient.timezone = "Mars/Olympus_Mons"
    db.commit()
    response = export(client_for("nurse"), world.patient.id)
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    check_bundle(response.json)
    (plan,) = resources(response.json, "CarePlan")
    assert "activity" not in plan and plan["note"]


def test_withdrawn_results_are_not_exported(app, db, world, client_for):
    from datetime import timedelta

    from server.models import LabResult, LabSubmission
    from server.timeutil import utcnow

    from .conftest import new_client_id, today_madrid
    rows = [LabResult(patient_id=world.patient.id, analyte="platelets", value_num=value, unit="10^9/L",
                      value_as_recorded=value, unit_as_recorded="10^9/L", ref_low=140, ref_high=None,
                      taken_on=today_madrid() - timedelta(days=3), patient_reported=False) for value in (95.0, 120.0)]
    db.add(LabSubmission(patient_id=world.patient.id, client_id=new_client_id(), taken_on=rows[0].taken_on,
                         patient_reported=False, response={}, results=rows))
    db.flush()
    rows[1].withdrawn_at = utcnow()
    db.commit()
    body = export(client_for("nurse"), world.patient.id).json
    check_bundle(body)
    ids = {o["id"] for o in resources(body, "Observation")}
    assert fhir.row_uuid("Observation", rows[0].id) in ids
    assert fhir.row_uuid("Observation", rows[1].id) not in ids
    mine = next(o for o in resources(body, "Observation") if o["id"] == fhir.row_uuid("Observation", rows[0].id))
    assert mine["valueQuantity"] == {"value": 95.0, "unit": "10^9/L", "system": "http://unitsofmeasure.org",
                                     "code": "10*9/L"}
    assert mine["referenceRange"][0]["low"]["value"] == 140  # her lab's range first, the default high
    assert mine["referenceRange"][0]["high"]["value"] == CONTENT.analytes["platelets"].high
    assert mine["interpretation"][0]["coding"][0]["code"] == "L"


@pytest.mark.parametrize("role, expected", list(by_role(401, 200, 404, 403, 404, 200, 404, 200).items()))
def test_who_may_export_fhir(world, client_for, role, expected):
    """The patient and her clinic's care team; family 403, outsiders 404, anonymous 401."""
    response = export(client_for(role), world.patient.id)
    assert response.status_code == expected, (role, response.status_code, response.get_data(as_text=True)[:300])
    if expected >= 400:
        assert_error_envelope(response, expected)
    else:
        assert response.mimetype == FHIR_JSON
        assert response.headers["Cache-Control"] == "no-store"  # her record: never cached
        check_bundle(response.json)


@pytest.mark.parametrize("role", ["nurse", "admin", "patient", "family"])
def test_another_clinics_patient_answers_404_like_a_missing_one(world, client_for, role):
    client = client_for(role)
    foreign = export(client, world.foreign_patient.id)
    absent = export(client, 987654)
    assert foreign.status_code == absent.status_code == 404
    assert foreign.json == absent.json


def test_the_json_export_stays_the_patients_own(world, client_for):
    assert export(client_for("nurse"), world.patient.id, "json").status_code == 403
    assert export(client_for("patient"), world.patient.id, "json").status_code == 200
    assert client_for("patient").get(f"/api/v1/patients/{world.patient.id}/export").json["patient"]["id"] \
        == world.patient.id


@pytest.mark.parametrize("value", ["xml", "FHIR", ""])
def test_another_format_answers_400_naming_format(world, client_for, value):
    response = export(client_for("patient"), world.patient.id, value)
    assert response.status_code == 400, response.json
    assert response.json["error"]["field"] == "format"


def test_the_care_teams_export_is_in_the_audit_log(db, world, client_for):
    before = db.scalar(select(AuditEvent.id).order_by(AuditEvent.id.desc()).limit(1)) or 0
    assert export(client_for("nurse"), world.patient.id).status_code == 200
    assert export(client_for("patient"), world.patient.id).status_code == 200
    events = list(db.scalars(select(AuditEvent).where(AuditEvent.id > before)))
    assert [(e.action, e.patient_id, e.actor_id) for e in events] == [
        ("patient.export_fhir", world.patient.id, world.users["nurse"].id)]


# --- the public Questionnaire -----------------------------------------------------------------


@pytest.mark.parametrize("language", ["en", "de", "es", "it"])
def test_the_questionnaire_is_public_and_the_exports_own(app, world, client_for, language):
    response = app.test_client().get(f"/api/v1/fhir/Questionnaire/ms-monthly-checklist?language={language}")
    assert response.status_code == 200 and response.mimetype == FHIR_JSON
    form = response.json
    Questionnaire.model_validate(form)
    assert form["language"] == language
    assert [i["linkId"] for i in form["item"] if i["type"] == "boolean"] == list(CONTENT.question_codes)
    for item in form["item"][:-1]:
        assert CONTENT.texts[language]["questions"][item["linkId"]]["text"] in item["text"]
    if language == "en":
        (exported,) = resources(export(client_for("patient"), world.patient.id).json, "Questionnaire")
        assert exported == form


def test_the_questionnaire_refuses_an_unknown_language(app):
    response = app.test_client().get("/api/v1/fhir/Questionnaire/ms-monthly-checklist?language=xx")
    assert response.status_code == 400
    assert response.json["error"]["field"] == "language"


def test_roles_cover_the_table():
    assert set(by_role(*range(8))) == set(ROLES)
