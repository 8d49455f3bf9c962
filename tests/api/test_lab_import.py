"""Lab import (issue 19): clinic API keys, a laboratory's FHIR Bundle and the nurse's CSV upload.

Both databases (the ``app`` fixture runs each test on SQLite and PostgreSQL).
The 1,000-result tests print how long the import took (run with ``-s``);
nothing asserts a time.
"""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from server.models import AuditEvent, Flag, LabImportKey, LabResult, Patient

from .conftest import today_madrid

PATIENTS = 200
BUNDLE = "/api/v1/lab-import/fhir"
CSV = "/api/v1/lab-import/csv"
MAPPING = {"hospital_number": "MRN", "analyte": "Test", "value": "Result", "unit": "Units", "taken_on": "Date",
           "ref_low": "Low", "ref_high": "High"}


def _patients(db, world, count=PATIENTS):
    """``count`` patients of clinic A with hospital numbers H0000..; the world's foreign patient (clinic B)
    gets H9999."""
    made = []
    for i in range(count):
        p = Patient(clinic_id=world.clinic.id, display_name=f"Import {i}", sex="female", childbearing_potential=False,
                    breastfeeding=False, timezone="Europe/Madrid", language="en",
                    baseline={"platelets": 250, "creatinine": 70}, hospital_number=f"H{i:04d}")
        db.add(p)
        made.append(p)
    world.foreign_patient.hospital_number = "H9999"
    db.commit()
    return made


def _results(count=PATIENTS):
    """Five results per patient, in mixed units: (i, hospital number, analyte, value, unit, days ago, expected
    canonical value)."""
    rows = []
    for i in range(count):
        hn = f"H{i:04d}"
        odd = i % 2 == 1
        platelets = 20 if i % 10 == 0 else 250
        rows.append((i, hn, "platelets", platelets * 1000 if odd else platelets, "/uL" if odd else "10^9/L", 3,
                     platelets))
        if i % 10 == 5:
            rows.append((i, hn, "creatinine", 2.5 if odd else 221.0, "mg/dL" if odd else "umol/L", 3,
                         221.05 if odd else 221.0))
        else:
            rows.append((i, hn, "creatinine", 0.8 if odd else 70.0, "mg/dL" if odd else "umol/L", 3,
                         70.736 if odd else 70.0))
        rows.append((i, hn, "neutrophils", 3000 if odd else 3.0, "/mm3" if odd else "G/L", 3, 3.0))
        rows.append((i, hn, "tsh", 2.0, "m[IU]/L" if odd else "uIU/mL", 10, 2.0))
        rows.append((i, hn, "urine_blood", "positive" if i % 20 == 7 else "negative", None, 3,
                     "positive" if i % 20 == 7 else "negative"))
    return rows


LOINC = {"platelets": "777-3", "creatinine": "14682-9", "neutrophils": "751-8", "tsh": "3016-3",
         "urine_blood": "5794-3", "urine_protein": "20454-5", "cd4": "24467-3"}


def observation(hn, analyte, value, unit, taken_on, ident=None, low=None, high=None):
    resource = {"resourceType": "Observation", "status": "final",
                "code": {"coding": [{"system": "http://loinc.org", "code": LOINC.get(analyte, analyte)}]},
                "subject": {"identifier": {"system": "urn:hospital", "value": hn}},
                "effectiveDateTime": taken_on}
    if ident:
        resource["id"] = ident
    if isinstance(value, str):
        resource["valueCodeableConcept"] = {"text": value}
    else:
        resource["valueQuantity"] = {"value": value, "unit": unit, "system": "http://unitsofmeasure.org",
                                     "code": unit}
    if low is not None or high is not None:
        resource["referenceRange"] = [{"low": {"value": low}, "high": {"value": high}}]
    return {"resource": resource, "request": {"method": "POST", "url": "Observation"}}


def bundle(entries, kind="transaction"):
    return {"resourceType": "Bundle", "type": kind, "entry": entries}


def _day(days_ago):
    return (today_madrid() - timedelta(days=days_ago)).isoformat()


def big_bundle():
    return bundle([observation(hn, a, v, u, _day(d), ident=f"obs-{i}-{a}")
                   for i, hn, a, v, u, d, _ in _results()])


def big_csv():
    lines = ["MRN,Test,Result,Units,Date,Low,High"]
    for n, (i, hn, a, v, u, d, _) in enumerate(_results()):
        test = LOINC[a] if n % 3 == 0 else a  # the content code or the LOINC code
        lines.append(f"{hn},{test},{v},{u or ''},{_day(d)},,")
    return "\r\n".join(lines) + "\r\n"


@pytest.fixture
def api_key(client_for):
    def make(role="admin", client=None):
        admin = client or client_for(role)
        response = admin.post("/api/v1/clinic/api-keys", json={"name": "Lab system"})
        assert response.status_code == 201, response.json
        return response.json["key"]
    return make


def post_bundle(app, key, body, query=""):
    return app.test_client().post(BUNDLE + query, json=body, headers={"Authorization": f"Bearer {key}"})


def _check_big_import(db, world, patients):
    ids = [p.id for p in patients]
    rows = db.scalars(select(LabResult).where(LabResult.patient_id.in_(ids))).all()
    assert len(rows) == 1000
    expected = {(f"H{i:04d}", a): c for i, _, a, _, _, _, c in _results()}
    by_id = {p.id: p.hospital_number for p in patients}
    for row in rows:
        want = expected[(by_id[row.patient_id], row.analyte)]
        if isinstance(want, str):
            assert row.value_text == want
        else:
            assert row.value_num == pytest.approx(want, rel=1e-6), (row.analyte, row.unit_as_recorded)
        assert row.patient_reported is False
    flags = db.scalars(select(Flag).where(Flag.patient_id.in_(ids), Flag.source == "lab")).all()
    reasons = {(by_id[f.patient_id], f.level, tuple(f.reasons)) for f in flags}
    for i in range(PATIENTS):
        hn = f"H{i:04d}"
        if i % 10 == 0:
            assert (hn, "emergency", ("platelets.critical",)) in reasons
        if i % 10 == 5:
            assert (hn, "urgent", ("kidney.creatinine",)) in reasons
        if i % 20 == 7:
            assert (hn, "urgent", ("kidney.urinalysis",)) in reasons
    flagged = {hn for hn, _, _ in reasons}
    assert len(flagged) == 20 + 20 + 10  # nobody else


def test_a_bundle_of_1000_results_for_200_patients(app, db, world, api_key):
    patients = _patients(db, world)
    key = api_key()
    body = big_bundle()
    started = time.perf_counter()
    response = post_bundle(app, key, body)
    took = time.perf_counter() - started
    print(f"\nFHIR import, 1000 results for 200 patients ({db.bind.dialect.name}): {took:.2f} s")
    assert response.status_code == 200, response.json
    assert response.json["stored"] == 1000 and response.json["refused"] == 0
    _check_big_import(db, world, patients)
    # the key is the actor of the audit events, one per patient imported for
    events = db.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "labs.import_fhir"))
    assert events == PATIENTS
    # A replay stores nothing new
    started = time.perf_counter()
    again = post_bundle(app, key, body)
    print(f"FHIR replay ({db.bind.dialect.name}): {time.perf_counter() - started:.2f} s")
    assert again.status_code == 200
    assert again.json["stored"] == 0 and again.json["duplicate"] == 1000
    assert db.scalar(select(func.count()).select_from(LabResult)
                     .where(LabResult.patient_id.in_([p.id for p in patients]))) == 1000


def test_a_csv_of_1000_results_for_200_patients(app, db, world, client_for):
    patients = _patients(db, world)
    nurse = client_for("nurse")
    text = big_csv()
    started = time.perf_counter()
    preview = nurse.post(CSV + "?preview=true", json={"csv": text, "mapping": MAPPING})
    took_preview = time.perf_counter() - started
    assert preview.status_code == 200, preview.json
    assert preview.json["new"] == 1000 and preview.json["refused"] == 0
    assert db.scalar(select(func.count()).select_from(LabResult)
                     .where(LabResult.patient_id.in_([p.id for p in patients]))) == 0  # a preview stores nothing
    started = time.perf_counter()
    response = nurse.post(CSV + "?preview=false", json={"csv": text, "mapping": MAPPING})
    took = time.perf_counter() - started
    print(f"\nCSV preview / import, 1000 results for 200 patients ({db.bind.dialect.name}): "
          f"{took_preview:.2f} s / {took:.2f} s")
    assert response.status_code == 200, response.json
    assert response.json["stored"] == 1000
    _check_big_import(db, world, patients)
    again = nurse.post(CSV + "?preview=false", json={"csv": text, "mapping": MAPPING})
    assert again.json["stored"] == 0 and again.json["duplicate"] == 1000
    preview = nurse.post(CSV + "?preview=true", json={"csv": text, "mapping": MAPPING})
    assert preview.json["duplicate"] == 1000


def test_another_clinics_patient_is_refused_and_nothing_is_stored(app, db, world, api_key):
    _patients(db, world, 3)
    key = api_key()
    body = bundle([observation("H0000", "platelets", 200, "10*9/L", _day(1), "a"),
                   observation("H9999", "platelets", 200, "10*9/L", _day(1), "b"),  # clinic B's patient
                   observation("H0001", "platelets", 200, "furlongs", _day(1), "c"),
                   observation("H0001", "1234-5", 200, "10*9/L", _day(1), "d"),
                   observation("H0002", "creatinine", 9, "mg/dL", _day(1), "e"),  # 795 umol/L: plausible
                   observation("H0002", "platelets", 90000, "10*9/L", _day(1), "f"),  # implausible
                   observation("H0002", "tsh", 2, "mIU/L", "2026-02-30", "g")])
    response = post_bundle(app, key, body)
    assert response.status_code == 400, response.json
    error = response.json["error"]
    assert error["code"] == "import_refused"
    refused = {r["index"]: r for r in error["refused"]}
    assert sorted(refused) == [1, 2, 3, 5, 6]
    assert refused[1]["field"] == "entry[1].resource.subject.identifier.value"
    assert "no patient of this clinic" in refused[1]["reason"]
    assert refused[2]["field"] == "entry[2].resource.valueQuantity.code"
    assert refused[3]["field"] == "entry[3].resource.code.coding"
    assert refused[5]["field"] == "entry[5].resource.valueQuantity.value"
    assert refused[6]["field"] == "entry[6].resource.effectiveDateTime"
    assert db.scalar(select(func.count()).select_from(LabResult)) == 0
    assert db.scalar(select(func.count()).select_from(LabResult)
                     .where(LabResult.patient_id == world.foreign_patient.id)) == 0
    # accept_valid stores the valid ones and reports the rest
    partial = post_bundle(app, key, body, "?accept_valid=true")
    assert partial.status_code == 200, partial.json
    assert partial.json["stored"] == 2 and partial.json["refused"] == 5
    assert db.scalar(select(func.count()).select_from(LabResult)) == 2


def test_api_key_authentication(app, db, world, api_key, client_for):
    _patients(db, world, 1)
    body = bundle([observation("H0000", "platelets", 200, "10*9/L", _day(1), "x")])
    assert post_bundle(app, "alk_wrong", body).status_code == 401
    assert app.test_client().post(BUNDLE, json=body).status_code == 401
    # a logged-in nurse's session does not open the machine route
    nurse = client_for("nurse")
    assert nurse.post(BUNDLE, json=body).status_code == 401
    admin = client_for("admin")
    key = api_key(client=admin)
    listed = admin.get("/api/v1/clinic/api-keys").json["items"]
    assert [k["name"] for k in listed] == ["Lab system"] and "key" not in listed[0]
    assert db.scalar(select(func.count()).select_from(LabImportKey)) == 0
    # clinic B's key cannot import for clinic A's patient
    other_admin_key = _other_clinic_key(app, db, world)
    refused = post_bundle(app, other_admin_key, body)
    assert refused.status_code == 400 and refused.json["error"]["refused"][0]["index"] == 0
    assert post_bundle(app, key, body).status_code == 200
    assert admin.get("/api/v1/clinic/api-keys").json["items"][0]["last_used_at"] is not None
    assert admin.delete(f"/api/v1/clinic/api-keys/{listed[0]['id']}").status_code == 204
    assert post_bundle(app, key, body).status_code == 401
    # a nurse may not manage keys; another clinic's key id is not found
    assert nurse.post("/api/v1/clinic/api-keys", json={"name": "x"}).status_code == 403
    assert nurse.get("/api/v1/clinic/api-keys").status_code == 403
    from server.models import ApiKey
    other_id = db.scalar(select(ApiKey.id).where(ApiKey.clinic_id == world.other_clinic.id))
    assert admin.delete(f"/api/v1/clinic/api-keys/{other_id}").status_code == 404
    # the key is stored hashed only
    stored = db.scalars(select(ApiKey.key_hash)).all()
    assert key not in stored and other_admin_key not in stored


def _other_clinic_key(app, db, world):
    from server.services import api_keys
    from server.timeutil import utcnow

    admin_b = world.users["other_nurse"]
    _, key = api_keys.create(db, admin_b, "Lab B", utcnow())
    db.commit()
    return key


def test_a_malformed_csv_is_refused_naming_row_and_column(db, world, client_for):
    _patients(db, world, 2)
    nurse = client_for("nurse")
    header = "MRN,Test,Result,Units,Date,Low,High\r\n"
    unclosed = header + f'H0000,platelets,200,10^9/L,{_day(1)},,\r\nH0001,"platelets,200,10^9/L,{_day(1)},,\r\n'
    response = nurse.post(CSV + "?preview=true", json={"csv": unclosed, "mapping": MAPPING})
    assert response.status_code == 400
    assert response.json["error"]["code"] == "malformed_csv"
    assert (response.json["error"]["row"], response.json["error"]["column"]) == (3, 2)
    short = header + f"H0000,platelets,200,10^9/L,{_day(1)},,\r\nH0001,platelets,200\r\n"
    response = nurse.post(CSV + "?preview=false", json={"csv": short, "mapping": MAPPING})
    assert response.status_code == 400
    assert (response.json["error"]["row"], response.json["error"]["column"]) == (3, 4)
    assert "Row 3, column 4" in response.json["error"]["message"]
    missing = {**MAPPING, "unit": "Unit"}
    response = nurse.post(CSV + "?preview=true", json={"csv": header, "mapping": missing})
    assert response.status_code == 400 and response.json["error"]["field"] == "mapping.unit"
    assert db.scalar(select(func.count()).select_from(LabResult)) == 0


def test_csv_nothing_is_written_when_a_row_is_refused_unless_confirmed(db, world, client_for):
    _patients(db, world, 2)
    nurse = client_for("nurse")
    text = ("MRN,Test,Result,Units,Date,Low,High\n"
            f"H0000,platelets,200,10^9/L,{_day(1)},150,400\n"
            f"H9999,platelets,200,10^9/L,{_day(1)},,\n"  # clinic B's patient
            f"H0001,creatinine,1.1,mg/dL,{_day(1)},,\n"
            f"H0001,platelets,abc,10^9/L,{_day(1)},,\n")
    preview = nurse.post(CSV + "?preview=true", json={"csv": text, "mapping": MAPPING})
    assert preview.status_code == 200
    statuses = [(i["index"], i["status"], i.get("field")) for i in preview.json["items"]]
    assert statuses == [(2, "new", None), (3, "refused", "MRN"), (4, "new", None), (5, "refused", "Result")]
    assert preview.json["items"][2]["value"] == pytest.approx(97.262)
    refused = nurse.post(CSV + "?preview=false", json={"csv": text, "mapping": MAPPING})
    assert refused.status_code == 400 and len(refused.json["error"]["refused"]) == 2
    assert db.scalar(select(func.count()).select_from(LabResult)) == 0
    confirmed = nurse.post(CSV + "?preview=false", json={"csv": text, "mapping": MAPPING, "confirm_valid": True})
    assert confirmed.status_code == 200 and confirmed.json["stored"] == 2
    assert db.scalar(select(func.count()).select_from(LabResult)) == 2
    # another clinic's nurse cannot reach clinic A's patients
    other = client_for("other_nurse")
    theirs = other.post(CSV + "?preview=true", json={"csv": text, "mapping": MAPPING})
    assert [i["status"] for i in theirs.json["items"]] == ["refused", "new", "refused", "refused"]


def test_hospital_number_at_enrolment_and_on_patch(world, client_for):
    nurse = client_for("nurse")
    body = {"display_name": "Hana", "sex": "female", "timezone": "Europe/Madrid", "hospital_number": " MRN-77 "}
    created = nurse.post("/api/v1/patients", json=body)
    assert created.status_code == 201 and created.json["hospital_number"] == "MRN-77"
    again = nurse.post("/api/v1/patients", json={**body, "display_name": "Other"})
    assert again.status_code == 409 and again.json["error"]["field"] == "hospital_number"
    patched = nurse.patch(f"/api/v1/patients/{world.patient.id}", json={"hospital_number": "MRN-78"})
    assert patched.status_code == 200 and patched.json["hospital_number"] == "MRN-78"
    assert nurse.patch(f"/api/v1/patients/{world.patient.id}", json={"hospital_number": "MRN-77"}).status_code == 409
    patient = client_for("patient")
    assert patient.patch(f"/api/v1/patients/{world.patient.id}", json={"hospital_number": "X"}).status_code == 403
    # another clinic may use the same number
    other = client_for("other_nurse")
    assert other.post("/api/v1/patients", json={**body, "display_name": "B"}).status_code == 201


def test_import_body_limit(app, client_for):
    nurse = client_for("nurse")
    huge = "x" * (app.config["MAX_IMPORT_BYTES"] + 10)
    assert nurse.post(CSV, json={"csv": huge, "mapping": MAPPING}).status_code == 413


def test_an_imported_result_raises_the_flag_and_push_of_one_entered_by_hand(app, db, world, api_key, client_for):
    """The same platelet count, imported for one patient and typed by the nurse for another: the same flag,
    and a push to the care team's device for each."""
    from server.models import Delivery, PushSubscription

    _patients(db, world, 2)
    db.add(PushSubscription(user_id=world.users["nurse"].id, endpoint="https://push.example.test/send/n1",
                            p256dh="BNcRdreALRFXTkOOUHK1EtK2wtaz5Ry4YfYCA_0QTpQtUbVlUls0VJXg7A8u-Ts1XbjhazAkj7I99e8QcYP7DkM",
                            auth="tBHItJI5svbpez7KI4CCXg"))
    db.commit()
    imported = post_bundle(app, api_key(), bundle([observation("H0000", "platelets", 20000, "/uL", _day(1), "p")]))
    assert imported.status_code == 200, imported.json
    flag_id = imported.json["items"][0]["flag_id"]
    other = db.scalar(select(Patient).where(Patient.hospital_number == "H0001"))
    by_hand = client_for("nurse").post(f"/api/v1/patients/{other.id}/labs", json={
        "client_id": "3f0c1c9e-0000-4000-8000-000000000001", "taken_on": _day(1),
        "results": [{"analyte": "platelets", "value": 20000, "unit": "/uL", "ref_low": None, "ref_high": None}]})
    assert by_hand.status_code == 201, by_hand.json
    flags = {f.id: f for f in db.scalars(select(Flag).where(Flag.id.in_([flag_id, by_hand.json["flag_id"]])))}
    assert len(flags) == 2
    assert {(f.level, tuple(f.reasons)) for f in flags.values()} == {("emergency", ("platelets.critical",))}
    pushed = set(db.scalars(select(Delivery.flag_id).where(Delivery.purpose == "flag")))
    assert set(flags) <= pushed


# --- refusal codes: the nurse reads why in her language --------------------------------------

#: (CSV row after the hospital number, reason_code, part, params expected among reason_params)
CSV_REFUSALS = [
    ("{nope}", "platelets", "200", "10^9/L", "{day}", "", "", "unknown_hospital_number", "hospital_number", {}),
    ("", "platelets", "200", "10^9/L", "{day}", "", "", "no_hospital_number", "hospital_number", {}),
    ("H0000", "platelets", "200", "10^9/L", "", "", "", "no_date", "taken_on", {}),
    ("H0000", "platelets", "200", "10^9/L", "2026-02-30", "", "", "bad_date", "taken_on", {"text": "2026-02-30"}),
    ("H0000", "platelets", "200", "10^9/L", "{future}", "", "", "date_in_future", "taken_on", {}),
    ("H0000", "ferritin", "200", "ug/L", "{day}", "", "", "unknown_analyte", "analyte", {"analyte": "ferritin"}),
    ("H0000", "platelets", "200", "", "{day}", "", "", "unit_needed", "unit", {"analyte": "platelets"}),
    ("H0000", "platelets", "200", "furlongs", "{day}", "", "", "bad_unit", "unit",
     {"analyte": "platelets", "unit": "furlongs"}),
    ("H0000", "urine_blood", "negative", "mg", "{day}", "", "", "unit_not_allowed", "unit",
     {"analyte": "urine_blood"}),
    ("H0000", "platelets", "abc", "10^9/L", "{day}", "", "", "not_a_number", "value", {"text": "abc"}),
    ("H0000", "platelets", "200", "10^9/L", "{day}", "x", "", "not_a_number", "ref_low", {"text": "x"}),
    ("H0000", "urine_blood", "5", "", "{day}", "", "", "not_positive_negative", "value",
     {"analyte": "urine_blood"}),
    ("H0000", "platelets", "-5", "10^9/L", "{day}", "", "", "negative", "value", {"value": -5}),
    ("H0000", "platelets", "1e12", "10^9/L", "{day}", "", "", "too_large", "value", {}),
    ("H0000", "platelets", "90000", "10^9/L", "{day}", "", "", "implausible_value", "value",
     {"analyte": "platelets", "value": 90000, "unit": "10^9/L", "low": 1, "high": 2000}),
    ("H0000", "platelets", "200", "10^9/L", "{day}", "150", "99999", "implausible_limit", "ref_high",
     {"analyte": "platelets", "value": 99999}),
    ("H0000", "urine_blood", "negative", "", "{day}", "1", "", "range_not_allowed", "ref_low",
     {"analyte": "urine_blood"}),
    ("H0000", "platelets", "200", "10^9/L", "{day}", "400", "150", "range_inverted", "ref_low", {}),
]


def test_each_csv_refusal_has_its_code_part_and_params(db, world, client_for):
    from server.services.lab_import import REASON_CODES

    _patients(db, world, 1)
    nurse = client_for("nurse")
    values = {"nope": "NOPE-1", "day": _day(1), "future": _day(-3)}
    lines = ["MRN,Test,Result,Units,Date,Low,High", f"H0000,platelets,200,10^9/L,{_day(1)},,"]
    lines += [",".join(cell.format(**values) for cell in case[:7]) for case in CSV_REFUSALS]
    response = nurse.post(CSV + "?preview=true", json={"csv": "\n".join(lines) + "\n", "mapping": MAPPING})
    assert response.status_code == 200, response.json
    items = response.json["items"]
    assert items[0]["status"] == "new" and "reason_code" not in items[0]
    for item, case in zip(items[1:], CSV_REFUSALS, strict=True):
        code, part, params = case[7:]
        assert (item["status"], item["reason_code"], item["part"]) == ("refused", code, part), (case, item)
        assert item["field"] == MAPPING[part]  # the nurse's own column name
        assert item["reason"]  # the English words stay for API clients
        assert {k: item["reason_params"].get(k) for k in params} == params, item
        assert code in REASON_CODES


@pytest.mark.parametrize("word,value", [("Positivo", "positive"), ("no detectado", "negative"),
                                        ("NEGATIV", "negative"), ("nachgewiesen", "positive"),
                                        ("non rilevato", "negative"), ("Detected", "positive")])
def test_a_strip_written_in_the_labs_language_is_read(db, world, client_for, word, value):
    """A Spanish, German or Italian laboratory's own words for a urine strip are a result, not a refusal."""
    _patients(db, world, 1)
    nurse = client_for("nurse")
    csv = f"MRN,Test,Result,Units,Date,Low,High\nH0000,urine_blood,{word},,{_day(1)},,\n"
    response = nurse.post(CSV + "?preview=false", json={"csv": csv, "mapping": MAPPING})
    assert response.status_code == 200, response.json
    assert (response.json["stored"], response.json["refused"]) == (1, 0)
    stored = db.scalars(select(LabResult).where(LabResult.analyte == "urine_blood")).one()
    assert stored.value_text == value


def test_each_fhir_refusal_has_its_code(app, db, world, api_key):
    from server.services.lab_import import REASON_CODES

    _patients(db, world, 1)
    good = observation("H0000", "platelets", 200, "10*9/L", _day(1))
    no_date = observation("H0000", "platelets", 200, "10*9/L", _day(1))
    del no_date["resource"]["effectiveDateTime"]
    no_value = observation("H0000", "platelets", 200, "10*9/L", _day(1))
    del no_value["resource"]["valueQuantity"]
    text_value = observation("H0000", "platelets", 200, "10*9/L", _day(1))
    text_value["resource"]["valueQuantity"]["value"] = "200"
    maybe = observation("H0000", "urine_blood", "maybe", None, _day(1))
    bad_range = observation("H0000", "platelets", 200, "10*9/L", _day(1))
    bad_range["resource"]["referenceRange"] = "150-400"
    no_number = observation("H0000", "platelets", 200, "10*9/L", _day(1))
    del no_number["resource"]["subject"]
    cases = [({"resource": {"resourceType": "Patient"}}, "not_an_observation", "resource"),
             (no_number, "no_hospital_number", "hospital_number"),
             (observation("H0000", "1234-5", 200, "10*9/L", _day(1)), "unknown_loinc", "analyte"),
             (no_value, "no_value", "value"), (text_value, "not_a_number", "value"),
             (maybe, "not_positive_negative", "value"), (no_date, "no_date", "taken_on"),
             (bad_range, "bad_range", "ref_low"),
             (observation("H0000", "platelets", 200, "furlongs", _day(1)), "bad_unit", "unit")]
    response = post_bundle(app, api_key(), bundle([good] + [entry for entry, _, _ in cases]))
    assert response.status_code == 400 and response.json["error"]["code"] == "import_refused"
    refused = response.json["error"]["refused"]
    assert [(r["reason_code"], r["part"]) for r in refused] == [(code, part) for _, code, part in cases]
    assert refused[2]["reason_params"] == {"codes": "1234-5"}
    assert all(r["reason_code"] in REASON_CODES and r["reason"] for r in refused)


def test_every_reason_code_is_documented_and_worded_in_the_app():
    from pathlib import Path

    from server.services.lab_import import REASON_CODES

    root = Path(__file__).resolve().parents[2]
    api = (root / "docs" / "api.md").read_text(encoding="utf-8")
    words = (root / "pwa" / "js" / "i18n-import-refusals.js").read_text(encoding="utf-8")
    tested = {case[7] for case in CSV_REFUSALS} | {"not_an_observation", "unknown_loinc", "no_value", "bad_range"}
    assert tested == set(REASON_CODES) - {"bad_value"}  # bad_value: an engine refusal without a code of its own
    for code in REASON_CODES:
        assert f"`{code}`" in api, code
        assert words.count(f"import_why_{code}:") == 4, code
