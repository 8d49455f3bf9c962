"""Every change of a patient's timeline re-plans her reminders and forgets her kept list
figures (services.figures.record_changed), on both databases: a course added, corrected
and removed, a pregnancy corrected and removed, results sent, corrected and withdrawn."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from server.models import Patient, PatientFigures, Pregnancy
from server.timeutil import utcnow

from .conftest import new_client_id, today_madrid

P = "/api/v1/patients/{}"


def day(offset: int) -> str:
    return (today_madrid() + timedelta(days=offset)).isoformat()


def lab(nurse, pid):
    response = nurse.post(P.format(pid) + "/labs", json={"client_id": new_client_id(), "taken_on": day(-1),
                                                         "results": [{"analyte": "platelets", "value": 240}]})
    assert response.status_code == 201, response.json
    return nurse.get(P.format(pid) + "/labs").json["items"][0]["id"]


def course(nurse, pid):
    response = nurse.post(P.format(pid) + "/courses",
                          json={"infusions": [day(300 + i) for i in range(3)], "status": "planned"})
    assert response.status_code == 201, response.json
    return response.json["id"]


def pregnancy(db, world):
    row = Pregnancy(reported_on=today_madrid() - timedelta(days=200))
    world.patient.pregnancies.append(row)
    db.commit()
    return row.id


def send(method, path, body=None):
    """The change itself: ``method`` on the patient's ``path`` (formatted with the set-up's id)."""
    return lambda c, pid, ident: c.open(method, P.format(pid) + path.format(ident),
                                        **({"json": body} if body is not None else {}))


NOTHING = lambda c, db, w, pid: None  # noqa: E731

#: change -> (its set-up, returning an id; the change)
CHANGES = {
    "course added": (NOTHING, lambda c, pid, _: c.post(P.format(pid) + "/courses", json={
        "infusions": [day(300 + i) for i in range(3)], "status": "planned"})),
    "course corrected": (lambda c, db, w, pid: course(c, pid),
                         send("PATCH", "/courses/{}", {"infusions": [day(310 + i) for i in range(3)]})),
    "course removed": (lambda c, db, w, pid: course(c, pid), send("DELETE", "/courses/{}")),
    "pregnancy corrected": (lambda c, db, w, pid: pregnancy(db, w), send("PATCH", "/pregnancies/{}",
                                                                         {"ended_on": day(0)})),
    "pregnancy removed": (lambda c, db, w, pid: pregnancy(db, w), send("DELETE", "/pregnancies/{}")),
    "results sent": (NOTHING, lambda c, pid, _: c.post(P.format(pid) + "/labs", json={
        "client_id": new_client_id(), "taken_on": day(-1), "results": [{"analyte": "platelets", "value": 240}]})),
    "result corrected": (lambda c, db, w, pid: lab(c, pid),
                         send("PATCH", "/labs/{}", {"value": 250, "reason": "typo"})),
    "result withdrawn": (lambda c, db, w, pid: lab(c, pid), send("DELETE", "/labs/{}", {"reason": "entered twice"})),
}


@pytest.mark.parametrize("change", list(CHANGES))
def test_a_change_replans_her_reminders_and_forgets_her_figures(world, db, client_for, change):
    nurse, pid = client_for("nurse"), world.patient.id
    set_up, act = CHANGES[change]
    ident = set_up(nurse, db, world, pid)
    db.execute(Patient.__table__.update().where(Patient.id == pid).values(reminders_until=utcnow()))
    db.commit()
    assert nurse.get("/api/v1/patients").status_code == 200  # the list keeps her figures
    assert db.get(PatientFigures, pid) is not None
    response = act(nurse, pid, ident)
    assert response.status_code in (200, 201, 204), response.json
    db.expire_all()
    assert db.scalar(select(Patient.reminders_until).where(Patient.id == pid)) is None
    assert db.get(PatientFigures, pid) is None
