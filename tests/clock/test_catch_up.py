"""Catch-up at planning (CLINICAL.md section 5; issue 13, point 8): a reminder
whose instant has passed but whose useful time has not is planned and sent,
also when it is planned only after its instant. A course recorded at 10:00
still gets that morning's 09:00 safety reminder (useful for 6 hours,
content/reminders.toml); one recorded after its useful time does not."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from sqlalchemy import select

from server.clock.process import tick
from server.engine.content.loading import default_content
from server.engine.inputs import resolve_settings
from server.engine.reminders import plan
from server.engine.timeline import Item
from server.models import Delivery, Patient, Reminder, User
from server.services import patients as patient_service

CONTENT = default_content()
SETTINGS = resolve_settings({}, CONTENT)
MADRID = ZoneInfo("Europe/Madrid")
UTC = timezone.utc


def at(day: date, hour: int, minute: int = 0) -> datetime:
    """Madrid wall-clock time as the aware UTC instant the clock ticks at."""
    return datetime.combine(day, time(hour, minute), tzinfo=MADRID).astimezone(UTC)


def today_in_madrid() -> date:
    return datetime.now(UTC).astimezone(MADRID).date()


def test_plan_includes_what_is_still_useful_and_not_what_is_over():
    day = date(2027, 5, 3)
    items = [Item(day, "safety.post_infusion", "safety", day, day + timedelta(days=7), None, 1, None, None),
             Item(day, "med.aciclovir", "medication", day, day + timedelta(days=30), None, 1, None, None)]
    since = at(day, 10, 30)
    planned = plan(items, "Europe/Madrid", SETTINGS, CONTENT, since, since + timedelta(days=1))
    today = {(r.codes[0], r.at.astimezone(MADRID).time()) for r in planned if r.at.astimezone(MADRID).date() == day}
    # 09:00 safety reminder: useful until 15:00; 08:00 dose: useful until 10:00, over.
    assert today == {("safety.post_infusion", time(9)), ("med.aciclovir", time(20))}
    safety = next(r for r in planned if r.codes == ("safety.post_infusion",) and r.at < since)
    assert safety.at == at(day, 9) and safety.useful_until == at(day, 15)
    # Planning at the end of its useful time still includes it; a minute later it does not.
    assert any(r.key == safety.key for r in plan(items, "Europe/Madrid", SETTINGS, CONTENT, at(day, 15),
                                                 at(day, 16)))
    assert all(r.key != safety.key for r in plan(items, "Europe/Madrid", SETTINGS, CONTENT, at(day, 15, 1),
                                                 at(day, 16)))


def new_patient(db, world) -> tuple[Patient, User]:
    patient = Patient(clinic_id=world.clinic.id, display_name="Nora New", sex="male", childbearing_potential=False,
                      breastfeeding=False, timezone="Europe/Madrid", language="en", baseline={})
    db.add(patient)
    db.flush()
    user = User(email="nora@a.test", role="patient", clinic_id=world.clinic.id, patient_id=patient.id,
                password_hash="x")
    db.add(user)
    db.commit()
    return patient, user


def safety_rows(db, patient: Patient, day: date) -> list[Reminder]:
    rows = db.scalars(select(Reminder).where(Reminder.patient_id == patient.id))
    return [r for r in rows if r.codes == ["safety.post_infusion"] and r.due_at.astimezone(MADRID).date() == day]


def test_a_course_recorded_at_ten_gets_that_mornings_0900_safety_reminder(app, db, world, push_service, subscribe,
                                                                         pusher):
    day = today_in_madrid()
    patient, user = new_patient(db, world)
    subscribe(user, "phone")
    recorded = at(day, 10)
    patient_service.add_course(patient, [day + timedelta(days=i) for i in range(5)], "planned",
                               world.users["nurse"], recorded)
    db.commit()

    tick(app, recorded + timedelta(minutes=1), pusher)

    db.expire_all()
    (row,) = safety_rows(db, patient, day)
    assert row.due_at == at(day, 9) and row.useful_until == at(day, 15)
    assert (row.status, row.outcome) == ("sent", "1 devices")
    delivery = db.scalar(select(Delivery).where(Delivery.reminder_id == row.id))
    assert delivery.status == "sent"
    assert [m.topic for m in push_service.for_device("phone")].count(delivery.topic) == 1
    assert push_service.problems == []


def test_a_course_recorded_after_the_useful_time_does_not_get_it(app, db, world, push_service, subscribe, pusher):
    day = today_in_madrid()
    patient, user = new_patient(db, world)
    subscribe(user, "phone")
    recorded = at(day, 15, 30)
    patient_service.add_course(patient, [day + timedelta(days=i) for i in range(5)], "planned",
                               world.users["nurse"], recorded)
    db.commit()

    tick(app, recorded + timedelta(minutes=1), pusher)

    db.expire_all()
    assert safety_rows(db, patient, day) == []
    assert [r.status for r in safety_rows(db, patient, day + timedelta(days=1))] == ["pending"]


def test_replanning_keeps_a_caught_up_reminder_sent_once(app, db, world, push_service, subscribe, pusher):
    """The next day's re-planning sees the caught-up row and does not add it again."""
    day = today_in_madrid()
    patient, user = new_patient(db, world)
    subscribe(user, "phone")
    recorded = at(day, 10)
    patient_service.add_course(patient, [day + timedelta(days=i) for i in range(5)], "planned",
                               world.users["nurse"], recorded)
    db.commit()
    tick(app, recorded, pusher)
    db.expire_all()
    db.get(Patient, patient.id).reminders_until = None
    db.commit()
    tick(app, recorded + timedelta(minutes=5), pusher)
    db.expire_all()
    (row,) = safety_rows(db, patient, day)
    (delivery,) = db.scalars(select(Delivery).where(Delivery.reminder_id == row.id))
    assert [m.topic for m in push_service.for_device("phone")].count(delivery.topic) == 1
