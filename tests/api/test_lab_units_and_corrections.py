"""Lab results in v2 (issue 14): units, advice on entry, corrections and withdrawals.

* CLINICAL.md 4.1: a result in an accepted unit is stored converted, with what
  was recorded beside it, and flags exactly as in the canonical unit; an
  unknown unit is refused naming the field, and nothing is written.
* CLINICAL.md 4: a patient who records a result that raises an urgent or
  emergency rule gets that level's advice with the clinic's numbers at once.
* CLINICAL.md 6: a result is corrected or withdrawn (the patient her own
  entries, the care team any), the original stays with who, when and why, the
  flag it raised closes as "entered in error", and the timeline follows.
Who may call these routes at all is tests/api/test_authorization.py's table.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import func, select

from server.models import AuditEvent, Flag, LabResult, LabSubmission, Patient

from .conftest import today_madrid

P = "/api/v1/patients/{}"


def day(offset: int = 0) -> str:
    return (today_madrid() + timedelta(days=offset)).isoformat()


def post_labs(client, pid: int, *results, taken_on: str | None = None):
    return client.post(P.format(pid) + "/labs", json={"client_id": str(uuid.uuid4()), "taken_on": taken_on or day(-1),
                                                      "results": list(results)})


def result_ids(client, pid: int, analyte: str) -> list[int]:
    return [r["id"] for r in client.get(P.format(pid) + f"/labs?analyte={analyte}").json["items"]]


def flags_of(db, submission_id: int) -> list[tuple]:
    db.expire_all()
    return [(f.level, list(f.reasons), f.status, f.outcome) for f in db.scalars(
        select(Flag).where(Flag.source == "lab", Flag.source_id == submission_id).order_by(Flag.id))]


# --- units -------------------------------------------------------------------------------------


def test_a_creatinine_in_mg_per_dl_flags_like_the_same_in_umol_per_l(world, db, client_for):
    pid = world.patient.id
    nurse = client_for("nurse")
    in_mg = post_labs(nurse, pid, {"analyte": "creatinine", "value": 1.5, "unit": "mg/dL"}, taken_on=day(-3))
    in_umol = post_labs(nurse, pid, {"analyte": "creatinine", "value": 132.63, "unit": "µmol/L"}, taken_on=day(-2))
    assert in_mg.status_code == in_umol.status_code == 201, (in_mg.json, in_umol.json)
    assert in_mg.json["flags"] == [{"rule": "kidney.creatinine", "level": "urgent", "taken_on": day(-3),
                                    "analyte": "creatinine", "value": 132.63, "unit": "umol/L",
                                    "value_as_recorded": 1.5, "unit_as_recorded": "mg/dL"}]
    assert in_umol.json["flags"] == [{"rule": "kidney.creatinine", "level": "urgent", "taken_on": day(-2),
                                      "analyte": "creatinine", "value": 132.63, "unit": "umol/L"}]
    assert flags_of(db, in_mg.json["id"])[0][:2] == flags_of(db, in_umol.json["id"])[0][:2] == \
        ("urgent", ["kidney.creatinine"])
    listed = nurse.get(P.format(pid) + "/labs?analyte=creatinine").json["items"]
    assert [(r["value"], r["unit"], r["value_as_recorded"], r["unit_as_recorded"]) for r in listed] == [
        (132.63, "umol/L", 1.5, "mg/dL"), (132.63, "umol/L", 132.63, "umol/L")]


def test_a_refused_unit_writes_nothing(world, db, client_for):
    pid = world.patient.id
    before = db.scalar(select(func.count()).select_from(LabResult))
    answer = post_labs(client_for("patient"), pid, {"analyte": "platelets", "value": 95},
                       {"analyte": "creatinine", "value": 1.1, "unit": "mmol/L"})
    assert answer.status_code == 400
    assert answer.json["error"]["field"] in ("results[1].unit", "results.1.unit")
    assert "check the value and its unit" in answer.json["error"]["message"]
    assert db.scalar(select(func.count()).select_from(LabResult)) == before
    assert db.scalar(select(func.count()).select_from(LabSubmission).where(LabSubmission.patient_id == pid)) == 0


def test_the_clinics_usual_unit_is_a_site_setting_the_lab_list_gives(world, client_for):
    nurse = client_for("nurse")
    put = nurse.put("/api/v1/clinic/settings", json={"settings": {"lab_unit.creatinine": "mg/dL"}})
    assert put.status_code == 200, put.json
    assert put.json["effective"]["lab_unit.creatinine"] == "mg/dL"
    assert put.json["effective"]["lab_unit.platelets"] == "10^9/L"
    bad = nurse.put("/api/v1/clinic/settings", json={"settings": {"lab_unit.creatinine": "mmol/L"}})
    assert bad.status_code == 400
    usual = client_for("patient").get(P.format(world.patient.id) + "/labs").json["usual_units"]
    assert usual["creatinine"] == "mg/dL" and usual["platelets"] == "10^9/L"
    texts = client_for("patient").get("/api/v1/content/texts?lang=de").json["analytes"]
    assert texts["creatinine"]["units"] == ["umol/L", "mg/dL"]


# --- advice at once ----------------------------------------------------------------------------


def test_a_patient_entering_a_critical_result_gets_the_emergency_advice_at_once(world, client_for):
    answer = post_labs(client_for("patient"), world.patient.id, {"analyte": "platelets", "value": 25000,
                                                                 "unit": "/uL"})
    assert answer.status_code == 201, answer.json
    advice = answer.json["advice"]
    assert advice["level"] == "emergency"
    assert advice["emergency_number"] == "112" and advice["phone"] == world.clinic.phone
    assert "112" in advice["text"]
    assert [r["rule"] for r in advice["rules"]] == ["platelets.critical"]
    assert advice["rules"][0]["title"] == "Platelets are very low"


def test_urgent_advice_for_the_patient_none_for_soon_or_for_the_nurse(world, client_for):
    pid = world.patient.id
    urgent = post_labs(client_for("patient"), pid, {"analyte": "neutrophils", "value": 0.4}).json
    assert urgent["advice"]["level"] == "urgent" and urgent["advice"]["rules"][0]["rule"] == "neutrophils.severe"
    soon = post_labs(client_for("patient"), pid, {"analyte": "neutrophils", "value": 0.8}, taken_on=day(-2)).json
    assert soon["advice"] is None and soon["flags"][0]["rule"] == "neutrophils.low"
    by_nurse = post_labs(client_for("nurse"), pid, {"analyte": "platelets", "value": 20}, taken_on=day(-3)).json
    assert by_nurse["advice"] is None and by_nurse["flags"][0]["level"] == "emergency"


# --- corrections and withdrawals ----------------------------------------------------------------


def test_a_withdrawn_results_flag_closes_as_entered_in_error(world, db, client_for):
    pid = world.patient.id
    patient = client_for("patient")
    sent = post_labs(patient, pid, {"analyte": "platelets", "value": 25}).json
    (rid,) = result_ids(patient, pid, "platelets")
    assert flags_of(db, sent["id"]) == [("emergency", ["platelets.critical"], "open", None)]
    gone = patient.delete(P.format(pid) + f"/labs/{rid}", json={"reason": "I typed 25 instead of 250"})
    assert gone.status_code == 204, gone.get_data(as_text=True)
    assert flags_of(db, sent["id"]) == [("emergency", ["platelets.critical"], "resolved", "entered_in_error")]
    assert result_ids(patient, pid, "platelets") == []
    row = db.get(LabResult, rid)
    assert (row.value, row.withdrawal_reason, row.withdrawn_by_id) == (25, "I typed 25 instead of 250",
                                                                        world.users["patient"].id)
    assert row.withdrawn_at is not None and row.replaced_by_id is None
    again = patient.delete(P.format(pid) + f"/labs/{rid}", json={"reason": "again"})
    assert again.status_code == 409
    # the weekly series the result started is gone from her timeline too
    items = patient.get(P.format(pid) + "/timeline").json["items"]
    assert not [i for i in items if i.get("cadence") == "weekly"]


def test_an_acknowledged_flag_also_closes_and_a_resolved_one_stays(world, db, client_for):
    pid = world.patient.id
    nurse = client_for("nurse")
    first = post_labs(nurse, pid, {"analyte": "platelets", "value": 90}, taken_on=day(-5)).json
    second = post_labs(nurse, pid, {"analyte": "neutrophils", "value": 0.3}, taken_on=day(-4)).json
    nurse.post(f"/api/v1/flags/{first['flag_id']}/ack")
    nurse.post(f"/api/v1/flags/{second['flag_id']}/resolve", json={"outcome": "called_patient", "note": None})
    platelets, neutrophils = result_ids(nurse, pid, "platelets")[0], result_ids(nurse, pid, "neutrophils")[0]
    assert nurse.delete(P.format(pid) + f"/labs/{platelets}", json={"reason": "wrong patient"}).status_code == 204
    assert nurse.delete(P.format(pid) + f"/labs/{neutrophils}", json={"reason": "wrong patient"}).status_code == 204
    assert flags_of(db, first["id"]) == [("urgent", ["platelets.low"], "resolved", "entered_in_error")]
    assert flags_of(db, second["id"]) == [("urgent", ["neutrophils.severe"], "resolved", "called_patient")]
    assert {"labs.withdraw"} <= set(db.scalars(select(AuditEvent.action).where(AuditEvent.patient_id == pid)))


def test_a_corrected_result_is_judged_again(world, db, client_for):
    pid = world.patient.id
    nurse = client_for("nurse")
    sent = post_labs(nurse, pid, {"analyte": "platelets", "value": 140}).json
    (rid,) = result_ids(nurse, pid, "platelets")
    assert flags_of(db, sent["id"]) == [("soon", ["platelets.falling"], "open", None)]
    db.execute(Patient.__table__.update().where(Patient.id == pid).values(reminders_until=None))
    # The lab's report said 95 x10^3/uL: the value is corrected, the unit sent with it.
    fixed = nurse.patch(P.format(pid) + f"/labs/{rid}", json={"value": 95, "unit": "10^3/uL", "reason": "misread"})
    assert fixed.status_code == 200, fixed.json
    new = fixed.json["result"]
    assert (new["value"], new["unit"], new["unit_as_recorded"], new["corrects_id"]) == (95, "10^9/L", "10^3/uL", rid)
    assert [f["rule"] for f in fixed.json["flags"]] == ["platelets.low"]
    assert flags_of(db, sent["id"]) == [("soon", ["platelets.falling"], "resolved", "entered_in_error"),
                                        ("urgent", ["platelets.low"], "open", None)]
    assert fixed.json["flag_id"] == db.scalar(select(func.max(Flag.id)))
    # Corrected again to a normal count: the new flag closes too, none is raised.
    normal = nurse.patch(P.format(pid) + f"/labs/{new['id']}", json={"value": 250, "reason": "second look"})
    assert normal.status_code == 200 and normal.json["flags"] == [] and normal.json["flag_id"] is None
    assert [f[2:] for f in flags_of(db, sent["id"])] == [("resolved", "entered_in_error")] * 2
    assert result_ids(nurse, pid, "platelets") == [normal.json["result"]["id"]]
    original = db.get(LabResult, rid)
    assert (original.value, original.replaced_by_id, original.withdrawal_reason) == (140, new["id"], "misread")
    assert db.scalar(select(Patient.reminders_until).where(Patient.id == pid)) is None
    assert "labs.correct" in set(db.scalars(select(AuditEvent.action).where(AuditEvent.patient_id == pid)))


def test_a_unit_mix_up_is_corrected_by_sending_the_unit_alone(world, db, client_for):
    pid = world.patient.id
    patient = client_for("patient")
    # The report said bilirubin 1.4 mg/dL; she left the unit at umol/L, where 1.4 is plausible and normal.
    sent = post_labs(patient, pid, {"analyte": "bilirubin", "value": 1.4}).json
    assert sent["flags"] == []
    (rid,) = result_ids(patient, pid, "bilirubin")
    fixed = patient.patch(P.format(pid) + f"/labs/{rid}", json={"unit": "mg/dL", "reason": "wrong unit"})
    assert fixed.status_code == 200, fixed.json
    assert fixed.json["result"]["value"] == 23.94 and fixed.json["result"]["value_as_recorded"] == 1.4
    assert [(f["rule"], f["level"]) for f in fixed.json["flags"]] == [("liver.enzymes", "soon")]
    assert flags_of(db, sent["id"]) == [("soon", ["liver.enzymes"], "open", None)]


def test_the_patient_cannot_withdraw_or_correct_a_result_her_nurse_entered(world, db, client_for):
    pid = world.patient.id
    sent = post_labs(client_for("nurse"), pid, {"analyte": "platelets", "value": 25}).json
    patient = client_for("patient")
    (rid,) = result_ids(patient, pid, "platelets")
    refused = patient.delete(P.format(pid) + f"/labs/{rid}", json={"reason": "I do not like it"})
    assert refused.status_code == 403 and refused.json["error"]["code"] == "forbidden"
    assert patient.patch(P.format(pid) + f"/labs/{rid}", json={"value": 250, "reason": "x"}).status_code == 403
    assert result_ids(patient, pid, "platelets") == [rid]
    assert flags_of(db, sent["id"]) == [("emergency", ["platelets.critical"], "open", None)]


def test_a_nurse_corrects_what_the_patient_entered_and_it_is_hers_no_more(world, client_for):
    pid = world.patient.id
    post_labs(client_for("patient"), pid, {"analyte": "tsh", "value": 4.5})
    (rid,) = result_ids(client_for("nurse"), pid, "tsh")
    fixed = client_for("nurse").patch(P.format(pid) + f"/labs/{rid}", json={"value": 3.5, "reason": "lab report"})
    assert fixed.status_code == 200 and fixed.json["result"]["patient_reported"] is False
    new = fixed.json["result"]["id"]
    assert client_for("patient").delete(P.format(pid) + f"/labs/{new}", json={"reason": "x"}).status_code == 403


def test_another_clinics_result_answers_404(world, db, client_for):
    foreign = world.foreign_patient.id
    other_nurse = client_for("other_nurse")
    sent = post_labs(other_nurse, foreign, {"analyte": "platelets", "value": 25})
    assert sent.status_code == 201, sent.json
    (rid,) = result_ids(other_nurse, foreign, "platelets")
    nurse = client_for("nurse")
    # her own patient's path with the other clinic's result id, and the other clinic's path
    assert nurse.delete(P.format(world.patient.id) + f"/labs/{rid}", json={"reason": "x"}).status_code == 404
    assert nurse.delete(P.format(foreign) + f"/labs/{rid}", json={"reason": "x"}).status_code == 404
    assert nurse.patch(P.format(world.patient.id) + f"/labs/{rid}", json={"value": 9, "reason": "x"}).status_code == 404
    assert db.get(LabResult, rid).withdrawn_at is None
