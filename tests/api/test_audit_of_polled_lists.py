"""The audit log is not flooded by polling (tidy, task 1), on both databases: a nurse's
clinic-wide list read (the queue, the checklists to read, the patient list) polled
every 15 s is written once per 10 minutes per person and list; a read of one
patient's record is written every time, however often."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from server.models import AuditEvent
from server.timeutil import utcnow


def count(db, actor_id: int, action: str, patient_id: int | None = None) -> int:
    query = select(func.count()).select_from(AuditEvent).where(AuditEvent.actor_id == actor_id,
                                                              AuditEvent.action == action)
    query = query.where(AuditEvent.patient_id.is_(None) if patient_id is None else AuditEvent.patient_id == patient_id)
    return db.scalar(query)


def test_a_polled_queue_is_written_once_per_ten_minutes(world, db, client_for, frozen_time):
    nurse_id = world.users["nurse"].id
    t0 = frozen_time(utcnow())
    nurse = client_for("nurse")
    for seconds in (0, 15, 30, 45, 60):  # the queue open for a minute: five polls
        frozen_time(t0 + timedelta(seconds=seconds))
        for path in ("/api/v1/flags/queue", "/api/v1/flags/resolved", "/api/v1/checklists/to-read"):
            assert nurse.get(path).status_code == 200
    assert count(db, nurse_id, "flags.list") == 1  # the queue and the resolved view: one action name
    assert count(db, nurse_id, "checklists.list") == 1
    frozen_time(t0 + timedelta(minutes=9, seconds=59))
    nurse.get("/api/v1/flags/queue")
    assert count(db, nurse_id, "flags.list") == 1
    frozen_time(t0 + timedelta(minutes=10))  # still open ten minutes on: one more row says so
    nurse.get("/api/v1/flags/queue")
    assert count(db, nurse_id, "flags.list") == 2
    assert count(db, nurse_id, "checklists.list") == 1
    written = list(db.scalars(select(AuditEvent.at).where(AuditEvent.actor_id == nurse_id,
                                                         AuditEvent.action == "flags.list").order_by(AuditEvent.id)))
    assert [w.replace(tzinfo=None) for w in written] == [t0.replace(tzinfo=None),
                                                         (t0 + timedelta(minutes=10)).replace(tzinfo=None)]


def test_each_person_and_each_list_has_its_own_row(world, db, client_for, frozen_time):
    frozen_time(utcnow())
    nurse, admin = client_for("nurse"), client_for("admin")
    for client in (nurse, admin, nurse, admin):
        assert client.get("/api/v1/flags/queue").status_code == 200
        assert client.get("/api/v1/patients").status_code == 200
    for role in ("nurse", "admin"):
        assert count(db, world.users[role].id, "flags.list") == 1
        assert count(db, world.users[role].id, "patients.list") == 1


def test_every_read_of_one_patients_record_is_written(world, db, client_for, frozen_time):
    frozen_time(utcnow())
    nurse, pid = client_for("nurse"), world.patient.id
    for _ in range(4):
        assert nurse.get(f"/api/v1/patients/{pid}").status_code == 200
        assert nurse.get(f"/api/v1/flags/resolved?patient_id={pid}").status_code == 200
    assert count(db, world.users["nurse"].id, "patient.read", pid) == 4
    assert count(db, world.users["nurse"].id, "flags.read", pid) == 4


def test_a_clinic_wide_change_is_never_folded(world, db, client_for, frozen_time):
    frozen_time(utcnow())
    admin = client_for("admin")
    for n in range(2):
        response = admin.post("/api/v1/clinic/api-keys", json={"name": f"lab {n}"})
        assert response.status_code == 201, response.json
    assert count(db, world.users["admin"].id, "api_key.create") == 2
