"""What a family member's app reads beside the shared reminders (issue 16): whose they are,
the kinds shared, and the clinic's numbers; and the patient choosing what each one sees.

Who may call each route is tests/api/test_authorization.py's table.
"""

from __future__ import annotations

P = "/api/v1/patients/{}"


def test_family_view_names_the_patient_the_shares_and_whom_to_call(world, client_for):
    family = client_for("family")
    body = family.get(P.format(world.patient.id) + "/family/me").json
    clinic = world.patient.clinic
    assert body["patient_id"] == world.patient.id and body["display_name"] == world.patient.display_name
    assert body["clinic"]["phone"] == clinic.phone and body["clinic"]["emergency_number"] == clinic.emergency_number
    assert "baseline" not in body and "sex" not in body  # nothing of her health


def test_changed_shares_change_the_family_view_and_timeline(world, client_for):
    patient, family = client_for("patient"), client_for("family")
    member = world.users["family"].id
    answer = patient.put(P.format(world.patient.id) + f"/family/{member}/shares", json={"shares": ["lab", "lab"]})
    assert answer.status_code == 200 and answer.json["shares"] == ["lab"]
    assert family.get(P.format(world.patient.id) + "/family/me").json["shares"] == ["lab"]
    kinds = {i["kind"] for i in family.get(P.format(world.patient.id) + "/timeline").json["items"]}
    assert kinds == {"lab"}
    listed = patient.get(P.format(world.patient.id) + "/family").json["items"]
    assert [m["shares"] for m in listed if m["user_id"] == member] == [["lab"]]
    # An unknown kind is refused naming its place, and nothing changes.
    refused = patient.put(P.format(world.patient.id) + f"/family/{member}/shares",
                          json={"shares": ["diet", "lab_values"]})
    assert refused.status_code == 400 and refused.json["error"]["field"] == "shares[1]"
    assert family.get(P.format(world.patient.id) + "/family/me").json["shares"] == ["lab"]
