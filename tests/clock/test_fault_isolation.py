"""One bad row never stops the service for others (issue 13, point 1).

Broken rows sit in one tick beside healthy patients: subscriptions whose keys
are garbage or whose endpoints are not push services, push services that
reset the connection, hang, answer 500 or redirect, and patients whose stored
dates would overflow the engine. Each failure is recorded on its row (reason,
attempts); the healthy patients get their pushes, and ``clock --once`` exits 0.
"""

from __future__ import annotations

import subprocess
import sys
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from sqlalchemy import insert, select

from server.clock.process import tick
from server.db import make_engine
from server.engine.content.loading import default_content
from server.models import Clinic, Course, Delivery, Patient, Pregnancy, PushSubscription, Reminder, User
from server.services import flags as flag_service

from .test_exactly_once import ROOT, clock_env
from .test_push import due_reminder

CONTENT = default_content()
# Midday in the world's time zone (Europe/Madrid): a run near 08:00 there fell inside the
# quiet hours, and a patient's push waited for their end.
NOW = datetime.combine(datetime.now(timezone.utc).date(), time(12), ZoneInfo("Europe/Madrid")).astimezone(timezone.utc)


def broken_patient(db, clinic_id: int, name: str, *, course_on: str | None = None,
                   pregnancy_on: date | None = None) -> Patient:
    """A patient whose stored data the engine cannot plan, written as rows (no API accepts it)."""
    patient = Patient(clinic_id=clinic_id, display_name=name, sex="female", childbearing_potential=True,
                      breastfeeding=False, timezone="Europe/Madrid", language="en", baseline={})
    db.add(patient)
    db.flush()
    if course_on is not None:
        db.add(Course(patient_id=patient.id, infusions=[course_on], status="planned", created_at=NOW))
    if pregnancy_on is not None:
        db.add(Pregnancy(patient_id=patient.id, reported_on=pregnancy_on))
    db.commit()
    return patient


def raw_subscription(db, user, endpoint: str, p256dh: str, auth: str) -> int:
    """A subscription as a row: the API refuses these, an older version or another path may have stored them."""
    row = PushSubscription(user_id=user.id, endpoint=endpoint, p256dh=p256dh, auth=auth, created_at=NOW)
    db.add(row)
    db.commit()
    return row.id


def deliveries_of(db, subscription_id: int) -> list[Delivery]:
    return list(db.scalars(select(Delivery).where(Delivery.subscription_id == subscription_id)))


def test_broken_rows_beside_healthy_patients_in_one_tick(app, db, world, push_service, subscribe, pusher, dns):
    patient_user, nurse = world.users["patient"], world.users["nurse"]
    subscribe(patient_user, "phone")
    subscribe(world.users["other_patient"], "other")
    subscribe(nurse, "nurse-phone")
    for name, answer in (("reset", "reset"), ("hang", "stall"), ("error", 500),
                         ("moved", ("redirect", 307, f"{push_service.origin}/push/trap")),
                         ("moved-inside", ("redirect", 307, "https://169.254.169.254/latest/meta-data/"))):
        subscribe(patient_user, name)
        push_service.script(name, answer)
    push_service.device("trap")
    good = push_service.devices["phone"]
    dns.names["loopback.example.net"] = ["127.0.0.1"]
    port = push_service.origin.rsplit(":", 1)[1]
    broken = {
        "garbage-key": raw_subscription(db, patient_user, push_service.endpoint("garbage"), "garbage", "garbage"),
        "garbage-nurse": raw_subscription(db, nurse, push_service.endpoint("garbage-nurse"), "x" * 87, "y" * 22),
        "loopback-name": raw_subscription(db, patient_user, f"https://loopback.example.net:{port}/push/x",
                                          good.p256dh, good.auth),
        "loopback-literal": raw_subscription(db, patient_user, f"https://[::1]:{port}/push/x", good.p256dh,
                                             good.auth),
        "user-info": raw_subscription(db, patient_user, f"http://user:pw@127.0.0.1:{port}/push/phone",
                                      good.p256dh, good.auth),
        "long-label": raw_subscription(db, patient_user, "https://" + "a" * 64 + ".example.net/push/x",
                                       good.p256dh, good.auth),
    }
    far_future = broken_patient(db, world.clinic.id, "Far Future", course_on="9999-12-31")
    far_past = broken_patient(db, world.clinic.id, "Far Past", course_on="0001-01-01")
    pregnant = broken_patient(db, world.clinic.id, "Year 9999",
                              course_on=(NOW.date() - timedelta(days=200)).isoformat(),
                              pregnancy_on=date(9999, 12, 31))
    # The patients with devices are planned already: each device gets the one reminder made below.
    # The foreign patient is healthy and due for planning.
    world.patient.reminders_until = world.other_patient.reminders_until = NOW + timedelta(days=30)
    reminder = due_reminder(db, world.patient, at=NOW).id
    due_reminder(db, world.other_patient, at=NOW)
    world.flag.status = "resolved"
    flag_service.raise_flag(db, world.patient.id, world.clinic.id, "urgent", "checklist", 0, ["bleed.mucosal"], NOW,
                            CONTENT)
    db.commit()

    report = tick(app, NOW, pusher)  # plans the patients due for it too

    assert push_service.problems == []
    arrived = {m.device for m in push_service.received}
    assert {"phone", "other", "nurse-phone"} <= arrived
    assert "trap" not in push_service.hits  # redirects are not followed
    db.expire_all()

    def delivery_to(endpoint: str) -> Delivery:
        return db.scalar(select(Delivery).join(PushSubscription).where(PushSubscription.endpoint == endpoint))

    for name, subscription_id in broken.items():
        (delivery,) = deliveries_of(db, subscription_id)
        assert (delivery.status, delivery.attempts) == ("failed", 1), name
        assert delivery.last_error, name
    assert "key" in deliveries_of(db, broken["garbage-key"])[0].last_error
    assert "refused" in deliveries_of(db, broken["loopback-name"])[0].last_error
    for name in ("reset", "hang", "error"):
        delivery = delivery_to(push_service.endpoint(name))
        assert delivery.reminder_id == reminder
        assert (delivery.status, delivery.attempts) == ("pending", 1), name  # retried later
        assert delivery.last_error and delivery.next_attempt_at > NOW, name
    for name in ("moved", "moved-inside"):
        delivery = delivery_to(push_service.endpoint(name))
        assert (delivery.status, delivery.last_status) == ("failed", 307), name
    # Subscriptions are deleted only on 404/410.
    assert all(db.get(PushSubscription, sid) is not None for sid in broken.values())

    for patient in (far_future, far_past, pregnant):
        db.refresh(patient)
        assert patient.plan_error and patient.plan_attempts == 1, patient.display_name
        assert "10003" not in patient.plan_error  # the reason names the failure, not the stored values
    healthy = db.get(Patient, world.foreign_patient.id)
    assert healthy.reminders_until is not None and healthy.plan_error is None
    assert db.scalar(select(Reminder.id).where(Reminder.patient_id == world.foreign_patient.id).limit(1)) \
        is not None
    assert report.plan_failures == 3

    # The next tick does not spin on them: they wait for their retry.
    tick(app, NOW + timedelta(minutes=1), pusher)
    db.refresh(far_future)
    assert far_future.plan_attempts == 1
    tick(app, NOW + timedelta(hours=2), pusher)
    db.refresh(far_future)
    assert far_future.plan_attempts == 2


def test_a_patient_fixed_after_a_failure_is_planned_again(app, db, world, pusher):
    patient = broken_patient(db, world.clinic.id, "Far Future", course_on="9999-12-31")
    tick(app, NOW, pusher, plan_limit=None)
    db.refresh(patient)
    assert patient.plan_attempts == 1
    course = db.scalar(select(Course).where(Course.patient_id == patient.id))
    course.infusions = [(NOW.date() + timedelta(days=10)).isoformat()]
    patient.reminders_until = None  # what correcting a course does (services.reminders.mark_stale)
    db.commit()
    tick(app, NOW + timedelta(minutes=1), pusher)
    db.refresh(patient)
    assert (patient.plan_error, patient.plan_attempts) == (None, 0)
    assert db.scalar(select(Reminder.id).where(Reminder.patient_id == patient.id).limit(1)) is not None


def test_a_reminder_that_cannot_be_handled_is_recorded_and_the_others_go_out(app, db, world, subscribe, pusher,
                                                                           push_service):
    subscribe(world.users["patient"], "phone")
    subscribe(world.users["other_patient"], "other")
    world.other_patient.timezone = "Not/AZone"  # stored by an older version: ZoneInfo refuses it
    db.commit()
    bad = due_reminder(db, world.other_patient, unless="done", item_due=NOW.date(), at=NOW).id
    due_reminder(db, world.patient, at=NOW)
    report = tick(app, NOW, pusher, plan_limit=0)
    assert [m.device for m in push_service.received] == ["phone"]
    db.expire_all()
    row = db.get(Reminder, bad)
    assert row.status == "failed" and row.outcome
    assert report.reminders_handled == 2


# --- the clock process -----------------------------------------------------------------


def populate_broken(url: str, push, now: datetime) -> dict[str, int]:
    """Two healthy patients with a device and a due reminder each, beside broken rows."""
    engine = make_engine(url)
    ids: dict[str, int] = {}
    with engine.begin() as db:
        clinic_id = db.execute(insert(Clinic).values(name="C", phone="1", emergency_number="112", settings={},
                                                     created_at=now)).inserted_primary_key[0]

        def patient(name: str, **values) -> int:
            patient_id = db.execute(insert(Patient).values(
                clinic_id=clinic_id, display_name=name, sex="female", childbearing_potential=False,
                breastfeeding=False, timezone="Europe/Madrid", language="en", baseline={},
                detailed_notifications=False, created_at=now, **values)).inserted_primary_key[0]
            ids[name] = patient_id
            return patient_id

        def user(name: str, patient_id: int) -> int:
            return db.execute(insert(User).values(
                email=f"{name}@x.test", password_hash="x", role="patient", clinic_id=clinic_id,
                patient_id=patient_id, session_token=f"t-{name}", active=True, created_at=now)
            ).inserted_primary_key[0]

        def device(user_id: int, name: str, endpoint: str | None = None, keys: tuple[str, str] | None = None):
            made = push.device(name)
            p256dh, auth = keys or (made.p256dh, made.auth)
            db.execute(insert(PushSubscription).values(user_id=user_id, endpoint=endpoint or push.endpoint(name),
                                                       p256dh=p256dh, auth=auth, created_at=now))

        def due(patient_id: int, key: str):
            db.execute(insert(Reminder).values(
                patient_id=patient_id, key=key, codes=["diet.listeria"], kind="diet", occurrence=now.date(),
                item_due=None, step="weekly", audience="patient", due_at=now - timedelta(minutes=1),
                useful_until=now + timedelta(hours=6), unless=None, flag_level=None, text_key=None,
                status="pending", created_at=now))

        port = push.origin.rsplit(":", 1)[1]
        for name in ("healthy-a", "healthy-b"):
            # Planned far ahead: the broken ones below are the only patients to plan.
            pid = patient(name, reminders_until=now + timedelta(days=30))
            uid = user(name, pid)
            device(uid, name)
            due(pid, f"{name}|due")
        # The broken: devices on healthy-a's account, and patients of their own.
        uid_a = db.execute(select(User.id).where(User.email == "healthy-a@x.test")).scalar_one()
        device(uid_a, "garbage", keys=("garbage", "garbage"))
        for name, answer in (("reset", "reset"), ("hang", "stall"), ("error", 500),
                             ("moved", ("redirect", 307, f"{push.origin}/push/trap"))):
            device(uid_a, name)
            push.script(name, answer)
        device(uid_a, "loopback", endpoint=f"https://[::1]:{port}/push/loopback")
        device(uid_a, "long", endpoint="https://" + "a" * 64 + ".example.net/push/long")
        for name, course in (("far-future", "9999-12-31"), ("far-past", "0001-01-01")):
            pid = patient(name)
            db.execute(insert(Course).values(patient_id=pid, infusions=[course], status="planned", created_at=now))
    engine.dispose()
    return ids


def test_clock_once_exits_0_and_the_healthy_get_their_pushes(database_url, push_service, vapid_pem):
    now = datetime.now(timezone.utc).replace(microsecond=0)
    ids = populate_broken(database_url, push_service, now)
    env = clock_env(database_url, vapid_pem, push_service, ALEMTRACK_PUSH_TIMEOUT_SECONDS="3")
    done = subprocess.run([sys.executable, "-m", "flask", "--app", "server", "clock", "--once", "--now",
                           now.isoformat()], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert push_service.problems == []
    assert {m.device for m in push_service.received} == {"healthy-a", "healthy-b"}
    assert "trap" not in push_service.hits
    assert "2 patients could not be planned" in done.stdout, done.stdout
    engine = make_engine(database_url)
    with engine.connect() as db:
        planned = dict(db.execute(select(Patient.id, Patient.plan_attempts)).all())
        statuses = sorted(db.execute(select(Delivery.status)).scalars())
    engine.dispose()
    assert planned[ids["far-future"]] == planned[ids["far-past"]] == 1
    assert planned[ids["healthy-a"]] == 0
    assert statuses == sorted(["sent", "sent", "failed", "failed", "failed", "failed", "pending", "pending",
                               "pending"])
