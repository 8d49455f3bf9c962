"""CLINICAL.md v2 through the API (issue 14): the patient attributes the care team
sets (cervical screening, listeria_until, childbearing potential whatever the sex
field says), the warnings on planned courses shown to the care team, the texts
the nurse's screen uses, and the family's default shares.

Who may call each route is tests/api/test_authorization.py's table; bad input is
tests/api/test_bad_input.py's.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from server.engine.dates import add_months
from server.models import Patient
from server.services import accounts
from server.timeutil import utcnow

from .conftest import today_madrid

P = "/api/v1/patients/{}"


def day(offset: int) -> str:
    return (today_madrid() + timedelta(days=offset)).isoformat()


def timeline(client, pid) -> dict:
    response = client.get(P.format(pid) + "/timeline")
    assert response.status_code == 200, response.json
    return response.json


def of(body: dict, code: str) -> list[dict]:
    return [item for item in body["items"] if item["code"] == code]


def test_enrol_with_the_v2_attributes(client_for):
    """CLINICAL.md 1 (v2): childbearing potential whatever sex says; cervical screening and
    listeria_until set on enrolment."""
    response = client_for("nurse").post("/api/v1/patients", json={
        "display_name": "Sam Sample", "sex": "male", "childbearing_potential": True, "cervical_screening": True,
        "listeria_until": day(90), "breastfeeding": False, "timezone": "Europe/Madrid", "language": "it",
        "baseline": {}})
    assert response.status_code == 201, response.json
    body = response.json
    assert (body["sex"], body["childbearing_potential"], body["cervical_screening"], body["listeria_until"]) == \
        ("male", True, True, day(90))
    assert body["warnings"] == []


def test_enrolment_defaults(client_for):
    response = client_for("nurse").post("/api/v1/patients", json={
        "display_name": "Dee Default", "sex": "female", "timezone": "Europe/Madrid"})
    assert response.status_code == 201, response.json
    assert (response.json["cervical_screening"], response.json["listeria_until"]) == (None, None)


def test_patch_listeria_until_extends_her_latest_window_and_replans(db, world, client_for):
    """CLINICAL.md 2.1 diet.listeria (v2): the care team's later end for this patient."""
    nurse = client_for("nurse")
    pid = world.patient.id
    [before] = of(timeline(nurse, pid), "diet.listeria")
    later = (add_months(today_madrid(), 3)).isoformat()
    assert before["end"] < later
    db.execute(Patient.__table__.update().where(Patient.id == pid).values(reminders_until=utcnow()))
    db.commit()
    response = nurse.patch(P.format(pid), json={"listeria_until": later})
    assert response.status_code == 200, response.json
    assert response.json["listeria_until"] == later
    db.expire_all()
    assert db.scalar(select(Patient.reminders_until).where(Patient.id == pid)) is None  # the clock re-plans
    [after] = of(timeline(nurse, pid), "diet.listeria")
    assert (after["start"], after["end"]) == (before["start"], later)
    # null: no later end any more
    assert nurse.patch(P.format(pid), json={"listeria_until": None}).status_code == 200
    [back] = of(timeline(nurse, pid), "diet.listeria")
    assert back == before


def test_patch_cervical_screening(world, client_for):
    """CLINICAL.md 2.2 screen.hpv (v2): the cervical screening attribute, null = the default by sex."""
    nurse = client_for("nurse")
    pid = world.patient.id  # female: screening by default
    assert of(timeline(nurse, pid), "screen.hpv")
    assert nurse.patch(P.format(pid), json={"cervical_screening": False}).json["cervical_screening"] is False
    assert of(timeline(nurse, pid), "screen.hpv") == []
    assert nurse.patch(P.format(pid), json={"cervical_screening": None}).json["cervical_screening"] is None
    assert of(timeline(nurse, pid), "screen.hpv")
    other = world.other_patient.id  # male: none by default, on when the team says so
    assert of(timeline(nurse, other), "screen.hpv") == []
    assert nurse.patch(P.format(other), json={"cervical_screening": True}).status_code == 200
    assert of(timeline(nurse, other), "screen.hpv")


def test_male_with_childbearing_potential_and_a_pregnancy_is_accepted(world, client_for):
    """CLINICAL.md 1 (v2): contraception and the pregnancy test follow childbearing potential, not sex."""
    nurse = client_for("nurse")
    pid = world.other_patient.id
    assert of(timeline(nurse, pid), "contraception") == []
    response = nurse.patch(P.format(pid), json={"childbearing_potential": True,
                                                "pregnancies": [{"reported_on": day(-3)}]})
    assert response.status_code == 200, response.json
    body = timeline(nurse, pid)
    assert of(body, "contraception") and of(body, "lab.pregnancy_test")


def test_warnings_are_shown_to_the_care_team_only(world, client_for):
    """CLINICAL.md 2.3: a planned course less than 12 months after the last, with no CD4 result since."""
    nurse = client_for("nurse")
    pid = world.patient.id
    assert nurse.get(P.format(pid)).json["warnings"] == []
    response = nurse.post(P.format(pid) + "/courses", json={"infusions": [day(60), day(61), day(62)],
                                                            "status": "planned"})
    assert response.status_code == 201, response.json
    expected = [("course.too_soon", 2), ("course.cd4_not_recovered", 2)]
    record = nurse.get(P.format(pid)).json
    assert [(w["code"], w["course"]) for w in record["warnings"]] == expected
    assert all(w["text"] for w in record["warnings"])
    assert [(w["code"], w["course"]) for w in timeline(nurse, pid)["warnings"]] == expected
    assert [(w["code"], w["course"]) for w in timeline(client_for("admin"), pid)["warnings"]] == expected
    # the patient and her family never get the key
    assert "warnings" not in client_for("patient").get(P.format(pid)).json
    assert "warnings" not in timeline(client_for("patient"), pid)
    assert "warnings" not in timeline(client_for("family"), pid)


def test_a_given_course_never_warns(world, client_for):
    nurse = client_for("nurse")
    pid = world.patient.id
    response = nurse.post(P.format(pid) + "/courses", json={"infusions": [day(-20), day(-19)], "status": "given"})
    assert response.status_code == 201, response.json
    assert nurse.get(P.format(pid)).json["warnings"] == []


def test_the_site_switches_the_cd4_warning_off(world, client_for):
    nurse = client_for("nurse")
    pid = world.patient.id
    nurse.post(P.format(pid) + "/courses", json={"infusions": [day(400), day(401), day(402)], "status": "planned"})
    assert [w["code"] for w in nurse.get(P.format(pid)).json["warnings"]] == ["course.cd4_not_recovered"]
    response = nurse.put("/api/v1/clinic/settings", json={"settings": {"cd4_before_next_course": False}})
    assert response.status_code == 200, response.json
    assert nurse.get(P.format(pid)).json["warnings"] == []


def test_texts_for_the_nurses_screen(client_for):
    """The PWA shows a warning's short line in the nurse's language, and the drug's words."""
    body = client_for("anonymous").get("/api/v1/content/texts?lang=de").json
    assert set(body["warnings"]) == {"course.too_soon", "course.during_pregnancy", "course.during_breastfeeding",
                                     "course.cd4_not_recovered"}
    assert all(entry["text"] for entry in body["warnings"].values())
    assert "Valaciclovir" in body["items"]["med.aciclovir"]["valaciclovir"]["title"]


def test_family_default_shares_reveal_no_finding():
    """CLINICAL.md 6 (v2, change 13)."""
    assert set(accounts.DEFAULT_FAMILY_SHARES) == {"checklist", "appointment", "task", "medication", "diet",
                                                   "safety"}


def test_family_sees_medication_and_safety_but_no_lab_by_default(world, client_for):
    kinds = {item["kind"] for item in timeline(client_for("family"), world.patient.id)["items"]}
    assert {"medication", "safety", "diet", "checklist", "appointment"} <= kinds
    assert not kinds & {"lab", "screening", "precaution", "vaccine", "imaging"}
