"""A wrong entry is never permanent, and one broken record never fails a list (issue 13, points 1 and 3).

* The care team of the patient's clinic corrects or removes a course or a
  pregnancy (PATCH and DELETE), each change is in the audit log (the action,
  no dates), and the patient's reminders are planned again. Who else may
  call these routes is tests/api/test_authorization.py's table.
* A record the engine cannot use (rows written around the API's checks: a
  course on 9999-12-31, a pregnancy in year 9999, a time zone that does not
  exist) shows in the clinic's list with null figures and ``status_error``,
  beside healthy patients listed as always; the patient's own pages answer
  (the record with ``status_error``, the timeline 409), and removing or
  correcting the broken entry through the API repairs the record.
"""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, insert, select, update

from server.engine.content.loading import default_content
from server.models import AuditEvent, Course, Patient, Pregnancy, Reminder
from server.services import reminders
from server.services.patients import NO_ADHERENCE, RECORD_NEEDS_CORRECTION
from server.timeutil import utcnow

from .conftest import today_madrid

P = "/api/v1/patients/{}"
MADRID = ZoneInfo("Europe/Madrid")


def days(*offsets: int) -> list[str]:
    return [(today_madrid() + timedelta(days=n)).isoformat() for n in offsets]


def actions(db, patient_id: int) -> list[str]:
    return list(db.scalars(select(AuditEvent.action).where(AuditEvent.patient_id == patient_id)
                           .order_by(AuditEvent.id)))


def stored_courses(db, patient_id: int) -> list[tuple]:
    db.expire_all()
    return [(c.infusions, c.status) for c in db.scalars(select(Course).where(Course.patient_id == patient_id)
                                                         .order_by(Course.id))]


# --- courses ---------------------------------------------------------------------------


def test_a_nurse_corrects_a_course_and_the_clock_plans_again(world, db, client_for):
    pid = world.patient.id
    course = world.patient.courses[0]
    db.execute(update(Patient).where(Patient.id == pid).values(reminders_until=utcnow() + timedelta(days=8)))
    db.commit()
    nurse = client_for("nurse")
    # An interrupted course: three infusions were given, not five.
    corrected = days(-120, -119, -118)
    response = nurse.patch(P.format(pid) + f"/courses/{course.id}", json={"infusions": corrected})
    assert response.status_code == 200, response.json
    assert response.json == {"id": course.id, "infusions": corrected, "status": "given"}
    assert stored_courses(db, pid) == [(corrected, "given")]
    assert db.scalar(select(Patient.reminders_until).where(Patient.id == pid)) is None
    assert nurse.get(P.format(pid)).json["courses"] == [response.json]
    assert "course.update" in actions(db, pid)


def test_a_planned_course_becomes_given_once_it_has_happened(world, db, client_for):
    pid = world.patient.id
    nurse = client_for("nurse")
    planned = nurse.post(P.format(pid) + "/courses", json={"infusions": days(300, 301, 302), "status": "planned"})
    assert planned.status_code == 201
    too_soon = nurse.patch(P.format(pid) + f"/courses/{planned.json['id']}", json={"status": "given"})
    assert too_soon.status_code == 400 and too_soon.json["error"]["field"] == "status", too_soon.json
    assert stored_courses(db, pid)[1] == (days(300, 301, 302), "planned")
    given = nurse.patch(P.format(pid) + f"/courses/{planned.json['id']}",
                        json={"infusions": days(-3, -2, -1), "status": "given"})
    assert given.status_code == 200, given.json
    assert stored_courses(db, pid)[1] == (days(-3, -2, -1), "given")


@pytest.mark.parametrize("body, field", [
    pytest.param(lambda: {"infusions": days(-121, -120)}, "infusions", id="overlaps-the-other-course"),
    pytest.param(lambda: {"infusions": days(10, 11), "status": "given"}, "infusions", id="given-in-the-future"),
    pytest.param(lambda: {"infusions": []}, "infusions", id="no-infusions"),
    pytest.param(lambda: {"infusions": ["2101-01-01"]}, "infusions", id="after-2100"),
    pytest.param(lambda: {"status": "maybe"}, "status", id="unknown-status"),
    pytest.param(lambda: {"infusions": days(300), "bogus": 1}, "bogus", id="unknown-field"),
])
def test_a_wrong_correction_is_refused_and_changes_nothing(world, db, client_for, body, field):
    pid = world.patient.id
    nurse = client_for("nurse")
    planned = nurse.post(P.format(pid) + "/courses", json={"infusions": days(300, 301, 302), "status": "planned"})
    assert planned.status_code == 201
    before = stored_courses(db, pid)
    response = nurse.patch(P.format(pid) + f"/courses/{planned.json['id']}", json=body())
    assert response.status_code == 400, response.json
    assert response.json["error"]["field"].split("[")[0] == field, response.json
    assert stored_courses(db, pid) == before


COURSE_CODES = {"safety.post_infusion", "med.aciclovir", "diet.bland", "med.antihistamine", "lab.pregnancy_test"}


def _course_reminders(db, pid: int) -> set[tuple[str, str, str]]:
    """Pending reminders of the course's own items: (code, step, Madrid date of due_at)."""
    rows = db.execute(select(Reminder.codes, Reminder.step, Reminder.due_at).where(
        Reminder.patient_id == pid, Reminder.status == "pending")).all()
    return {(code, step, due_at.astimezone(MADRID).date().isoformat())
            for codes, step, due_at in rows for code in codes if code in COURSE_CODES}


def test_a_corrected_course_moves_every_reminder_it_had_planned(world, db, client_for):
    """CLINICAL.md 6 (v2): a corrected course is recomputed; every reminder of its
    items moves with it, and none stays at the old dates."""
    pid = world.patient.id
    nurse = client_for("nurse")
    planned = nurse.post(P.format(pid) + "/courses", json={"infusions": days(5, 6, 7), "status": "planned"})
    assert planned.status_code == 201
    now = utcnow()
    reminders.sync_patients(db, [db.get(Patient, pid)], now, default_content(), timedelta(days=40))
    db.commit()
    before = _course_reminders(db, pid)
    assert {code for code, _, _ in before} >= {"safety.post_infusion", "med.aciclovir"}

    moved = nurse.patch(P.format(pid) + f"/courses/{planned.json['id']}", json={"infusions": days(12, 13, 14)})
    assert moved.status_code == 200, moved.json
    db.expire_all()
    reminders.sync_patients(db, [db.get(Patient, pid)], now, default_content(), timedelta(days=40))
    db.commit()
    after = _course_reminders(db, pid)

    def shifted(day: str) -> str:
        return (date.fromisoformat(day) + timedelta(days=7)).isoformat()

    # Compared where both plans reach (planning looks 40 days ahead): each reminder
    # of the course is now 7 days later ...
    first, last = days(1, 32)
    assert {(code, step, shifted(day)) for code, step, day in before if first <= day <= last} == \
        {(code, step, day) for code, step, day in after if shifted(first) <= day <= shifted(last)}
    # ... and none is left on the old infusion days (the pregnancy test's
    # "a week before" reminder of the new first day falls on one of them).
    old_days = set(days(5, 6, 7))
    assert {r for r in after if r[2] in old_days} == {("lab.pregnancy_test", "week_before", days(5)[0])}


def test_removing_a_course_cancels_the_reminders_it_had_planned(app, world, db, client_for):
    pid = world.patient.id
    nurse = client_for("nurse")
    planned = nurse.post(P.format(pid) + "/courses", json={"infusions": days(5, 6, 7), "status": "planned"})
    assert planned.status_code == 201
    now = utcnow()
    patient = db.get(Patient, pid)
    reminders.sync_patients(db, [patient], now, default_content(), timedelta(days=30))
    db.commit()
    pending = set(db.scalars(select(Reminder.key).where(Reminder.patient_id == pid, Reminder.status == "pending")))
    assert db.scalar(select(Patient.reminders_until).where(Patient.id == pid)) is not None

    removed = nurse.delete(P.format(pid) + f"/courses/{planned.json['id']}")
    assert removed.status_code == 204
    assert [c for c in nurse.get(P.format(pid)).json["courses"] if c["id"] == planned.json["id"]] == []
    db.expire_all()
    assert db.scalar(select(Patient.reminders_until).where(Patient.id == pid)) is None
    assert "course.delete" in actions(db, pid)

    # What the clock does next: the course's reminders are no longer planned.
    reminders.sync_patients(db, [db.get(Patient, pid)], now, default_content(), timedelta(days=30))
    db.commit()
    still = set(db.scalars(select(Reminder.key).where(Reminder.patient_id == pid, Reminder.status == "pending")))
    cancelled = pending - still
    assert cancelled, "the planned course had reminders of its own within 30 days"
    assert set(db.scalars(select(Reminder.status).where(Reminder.key.in_(cancelled)))) == {"cancelled"}


def test_another_patients_course_answers_as_a_missing_one(world, db, client_for):
    """Under this patient's URL, a course of another patient of the same clinic is absent (404), as an id
    that does not exist; another clinic's patient is tests/api/test_authorization.py's."""
    nurse = client_for("nurse")
    theirs = world.other_patient.courses[0].id
    kept = stored_courses(db, world.other_patient.id)
    path = P.format(world.patient.id) + "/courses/{}"
    for method, body in (("PATCH", {"status": "given"}), ("DELETE", None)):
        other = nurse.open(method, path.format(theirs), **({"json": body} if body else {}))
        absent = nurse.open(method, path.format(987654), **({"json": body} if body else {}))
        assert other.status_code == absent.status_code == 404
        assert other.json == absent.json
    assert stored_courses(db, world.other_patient.id) == kept


# --- pregnancies -------------------------------------------------------------------------


def _pregnancy(client, pid: int, reported: int = -200) -> int:
    response = client.patch(P.format(pid), json={"pregnancies": [{"reported_on": days(reported)[0]}]})
    assert response.status_code == 200, response.json
    return response.json["pregnancies"][0]["id"]


def test_a_nurse_corrects_and_removes_a_pregnancy(world, db, client_for):
    pid = world.patient.id
    nurse = client_for("nurse")
    pregnancy_id = _pregnancy(nurse, pid)
    db.execute(update(Patient).where(Patient.id == pid).values(reminders_until=utcnow()))
    db.commit()

    ended = nurse.patch(P.format(pid) + f"/pregnancies/{pregnancy_id}", json={"ended_on": days(-10)[0]})
    assert ended.status_code == 200, ended.json
    assert ended.json == {"id": pregnancy_id, "reported_on": days(-200)[0], "ended_on": days(-10)[0]}
    db.expire_all()
    assert db.scalar(select(Patient.reminders_until).where(Patient.id == pid)) is None

    before_report = nurse.patch(P.format(pid) + f"/pregnancies/{pregnancy_id}", json={"reported_on": days(-5)[0]})
    assert before_report.status_code == 400 and before_report.json["error"]["field"] == "reported_on"
    both_wrong = nurse.patch(P.format(pid) + f"/pregnancies/{pregnancy_id}",
                             json={"reported_on": days(-5)[0], "ended_on": days(-50)[0]})
    assert both_wrong.status_code == 400 and both_wrong.json["error"]["field"] == "ended_on"
    not_ended = nurse.patch(P.format(pid) + f"/pregnancies/{pregnancy_id}", json={"ended_on": None})
    assert not_ended.status_code == 200 and not_ended.json["ended_on"] is None
    assert nurse.get(P.format(pid)).json["pregnancies"] == [not_ended.json]

    removed = nurse.delete(P.format(pid) + f"/pregnancies/{pregnancy_id}")
    assert removed.status_code == 204
    assert nurse.get(P.format(pid)).json["pregnancies"] == []
    assert db.scalar(select(func.count()).select_from(Pregnancy).where(Pregnancy.patient_id == pid)) == 0
    # the refused changes wrote nothing, their audit event included
    assert [a for a in actions(db, pid) if a.startswith("pregnancy.")] == [
        "pregnancy.update", "pregnancy.update", "pregnancy.delete"]
    assert nurse.delete(P.format(pid) + f"/pregnancies/{pregnancy_id}").status_code == 404


def test_another_patients_pregnancy_answers_as_a_missing_one(world, db, client_for):
    nurse = client_for("nurse")
    theirs = Pregnancy(patient_id=world.other_patient.id, reported_on=today_madrid() - timedelta(days=30))
    db.add(theirs)
    db.commit()
    path = P.format(world.patient.id) + "/pregnancies/{}"
    for method, body in (("PATCH", {"ended_on": days(0)[0]}), ("DELETE", None)):
        other = nurse.open(method, path.format(theirs.id), **({"json": body} if body else {}))
        absent = nurse.open(method, path.format(987654), **({"json": body} if body else {}))
        assert other.status_code == absent.status_code == 404
        assert other.json == absent.json
    db.expire_all()
    assert db.get(Pregnancy, theirs.id).ended_on is None


def test_corrections_are_audited_without_values(world, db, client_for):
    pid = world.patient.id
    nurse = client_for("nurse")
    course = world.patient.courses[0]
    assert nurse.patch(P.format(pid) + f"/courses/{course.id}", json={"status": "given"}).status_code == 200
    assert nurse.delete(P.format(pid) + f"/courses/{course.id}").status_code == 204
    rows = db.execute(select(AuditEvent).where(AuditEvent.patient_id == pid)).scalars().all()
    assert {"course.update", "course.delete"} <= {row.action for row in rows}
    assert {row.actor_id for row in rows if row.action.startswith("course.")} == {world.users["nurse"].id}
    # the log holds ids, an action name and an instant: no column for a value
    assert set(AuditEvent.__table__.columns.keys()) == {"id", "clinic_id", "actor_id", "action", "patient_id", "at"}


# --- one broken record -------------------------------------------------------------------


@pytest.fixture
def broken(world, db) -> dict[str, int]:
    """Three broken records beside healthy ones, written as rows (around the API's checks): the world's
    patient with a course on 9999-12-31, the other patient (made female) with a pregnancy in year 9999,
    and a new patient whose time zone does not exist. Returns the broken course's and pregnancy's ids."""
    course_id = db.execute(insert(Course).values(patient_id=world.patient.id, infusions=["9999-12-31"],
                                                 status="planned", created_at=utcnow()).returning(Course.id)
                           ).scalar_one()
    db.execute(update(Patient).where(Patient.id == world.other_patient.id).values(sex="female"))
    pregnancy_id = db.execute(insert(Pregnancy).values(patient_id=world.other_patient.id,
                                                       reported_on=date(9999, 6, 1))
                              .returning(Pregnancy.id)).scalar_one()
    nowhere = Patient(clinic_id=world.clinic.id, display_name="Nadia Nowhere", sex="female",
                      childbearing_potential=False, breastfeeding=False, timezone="Nowhere/Atlantis", language="en",
                      baseline={})
    healthy = Patient(clinic_id=world.clinic.id, display_name="Hana Healthy", sex="female",
                      childbearing_potential=False, breastfeeding=False, timezone="Europe/Madrid", language="en",
                      baseline={})
    db.add_all([nowhere, healthy])
    db.flush()
    db.add(Course(patient_id=healthy.id, infusions=days(-60, -59, -58, -57, -56), status="given"))
    db.commit()
    db.expire_all()
    return {"course": course_id, "pregnancy": pregnancy_id, "nowhere": nowhere.id, "healthy": healthy.id}


def _listed(nurse) -> dict[int, dict]:
    response = nurse.get("/api/v1/patients")
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    return {item["id"]: item for item in response.json["items"]}


def test_the_clinics_list_shows_broken_records_with_an_error_and_the_rest_as_always(world, broken, client_for):
    listed = _listed(client_for("nurse"))
    assert set(listed) == {world.patient.id, world.other_patient.id, broken["nowhere"], broken["healthy"]}
    for pid in (world.patient.id, world.other_patient.id, broken["nowhere"]):
        assert listed[pid]["status_error"] == RECORD_NEEDS_CORRECTION, listed[pid]
        assert listed[pid]["adherence"] == NO_ADHERENCE
    healthy = listed[broken["healthy"]]
    assert "status_error" not in healthy
    assert healthy["adherence"]["due_so_far"] > 0 and healthy["adherence"]["done_on_time"] is not None
    assert listed[world.patient.id]["open_flags"] == 1  # what needs no engine still shows


@pytest.mark.parametrize("role", ["nurse", "patient"])
def test_the_broken_patients_own_pages_answer(world, broken, client_for, role):
    client = client_for(role)
    pid = world.patient.id
    record = client.get(P.format(pid))
    assert record.status_code == 200, record.get_data(as_text=True)[:300]
    assert record.json["status_error"] == RECORD_NEEDS_CORRECTION and record.json["monitoring_ends"] is None
    assert ["9999-12-31"] in [c["infusions"] for c in record.json["courses"]]  # the care team sees what to fix
    timeline = client.get(P.format(pid) + "/timeline")
    assert timeline.status_code == 409, timeline.get_data(as_text=True)[:300]
    assert timeline.json["error"]["code"] == RECORD_NEEDS_CORRECTION
    if role == "patient":
        export = client.get(P.format(pid) + "/export")
        assert export.status_code == 200, export.get_data(as_text=True)[:300]
        assert export.json["patient"]["status_error"] == RECORD_NEEDS_CORRECTION
        # Her checklist cannot be placed in a month: a 409 that says who can repair it, not a 500.
        current = client.get(P.format(pid) + "/checklist")
        assert current.status_code == 409 and current.json["error"]["code"] == RECORD_NEEDS_CORRECTION
        sent = client.post(P.format(pid) + "/checklists", json={
            "client_id": str(uuid.uuid4()), "answered_on": today_madrid().isoformat(),
            "answers": {"bleed.mucosal": True}})
        assert sent.status_code == 409 and sent.json["error"]["code"] == RECORD_NEEDS_CORRECTION
        unknown = client.post(P.format(pid) + "/checklists", json={
            "client_id": str(uuid.uuid4()), "answered_on": today_madrid().isoformat(), "answers": {"no.such": True}})
        assert unknown.status_code == 400  # her own bad input is still hers to fix


def test_removing_or_correcting_the_broken_entry_repairs_the_record(world, broken, client_for):
    nurse = client_for("nurse")
    pid, other = world.patient.id, world.other_patient.id
    assert nurse.delete(P.format(pid) + f"/courses/{broken['course']}").status_code == 204
    # a stored pregnancy out of range is refused as it stands: it is corrected with a date in range
    kept = nurse.patch(P.format(other) + f"/pregnancies/{broken['pregnancy']}", json={"ended_on": None})
    assert kept.status_code == 400 and kept.json["error"]["field"] == "reported_on", kept.json
    fixed = nurse.patch(P.format(other) + f"/pregnancies/{broken['pregnancy']}",
                        json={"reported_on": days(-30)[0]})
    assert fixed.status_code == 200, fixed.json
    assert nurse.patch(P.format(broken["nowhere"]), json={"timezone": "Europe/Madrid"}).status_code == 200

    listed = _listed(nurse)
    for patient_id in (pid, other, broken["nowhere"]):
        assert "status_error" not in listed[patient_id], listed[patient_id]
    assert listed[pid]["adherence"]["due_so_far"] > 0
    assert nurse.get(P.format(pid) + "/timeline").status_code == 200
    assert "status_error" not in nurse.get(P.format(pid)).json


def test_a_broken_course_is_corrected_in_place(world, broken, client_for):
    nurse = client_for("nurse")
    pid = world.patient.id
    status_only = nurse.patch(P.format(pid) + f"/courses/{broken['course']}", json={"status": "planned"})
    assert status_only.status_code == 400 and status_only.json["error"]["field"] == "infusions"
    fixed = nurse.patch(P.format(pid) + f"/courses/{broken['course']}", json={"infusions": days(300, 301, 302)})
    assert fixed.status_code == 200, fixed.json
    assert nurse.get(P.format(pid) + "/timeline").status_code == 200
