"""Reminder instants: local time across daylight-saving changes, quiet hours, re-planning."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from server.clock.process import tick
from server.engine.content.loading import default_content
from server.engine.inputs import resolve_settings
from server.engine.reminders import out_of_quiet_hours, plan, to_instant
from server.engine.timeline import Item
from server.models import Reminder
from server.services import patients as patient_service

CONTENT = default_content()
SETTINGS = resolve_settings({}, CONTENT)
UTC = timezone.utc


def checklist(due: date) -> Item:
    return Item(due, "checklist.monthly", "checklist", None, None, due, None, 1, None)


def window(code: str, kind: str, start: date, end: date | None) -> Item:
    return Item(start, code, kind, start, end, None, 1, None, None)


# Daylight-saving changes of 2027: Europe/Madrid on 28 March (CET -> CEST) and
# 31 October (back); America/New_York on 14 March and 7 November.
DST_CASES = [
    ("Europe/Madrid", date(2027, 3, 27), "08:00"),  # the day before: 09:00 CET = 08:00 UTC
    ("Europe/Madrid", date(2027, 3, 28), "07:00"),  # the day of the change: 09:00 CEST
    ("Europe/Madrid", date(2027, 3, 29), "07:00"),
    ("Europe/Madrid", date(2027, 10, 30), "07:00"),
    ("Europe/Madrid", date(2027, 10, 31), "08:00"),  # back to CET that night
    ("America/New_York", date(2027, 3, 13), "14:00"),  # 09:00 EST
    ("America/New_York", date(2027, 3, 14), "13:00"),  # 09:00 EDT
    ("America/New_York", date(2027, 11, 6), "13:00"),
    ("America/New_York", date(2027, 11, 7), "14:00"),  # 09:00 EST again
]


@pytest.mark.parametrize(("zone", "day", "utc_time"), DST_CASES, ids=lambda v: str(v))
def test_a_0900_reminder_is_at_0900_local_on_both_sides_of_a_dst_change(zone, day, utc_time):
    since = datetime.combine(day - timedelta(days=1), time(0), tzinfo=UTC)
    (reminder,) = [r for r in plan([checklist(day)], zone, SETTINGS, CONTENT, since, since + timedelta(days=3))
                   if r.step == "due"]
    assert reminder.at == datetime.combine(day, time.fromisoformat(utc_time), tzinfo=UTC)
    assert reminder.at.astimezone(ZoneInfo(zone)).time() == time(9, 0)


@pytest.mark.parametrize("zone", ["Europe/Madrid", "America/New_York"])
def test_twice_daily_doses_keep_local_time_across_the_change(zone):
    change = date(2027, 3, 28) if zone == "Europe/Madrid" else date(2027, 3, 14)
    item = window("med.aciclovir", "medication", change - timedelta(days=3), change + timedelta(days=3))
    since = datetime.combine(change - timedelta(days=4), time(0), tzinfo=UTC)
    doses = plan([item], zone, SETTINGS, CONTENT, since, since + timedelta(days=9))
    local = [d.at.astimezone(ZoneInfo(zone)) for d in doses]
    assert len(doses) == 14  # 7 days, 08:00 and 20:00
    assert {t.time() for t in local} == {time(8, 0), time(20, 0)}
    assert [t.date() for t in local[::2]] == [change + timedelta(days=k) for k in range(-3, 4)]


def test_a_time_skipped_by_the_change_moves_an_hour_later():
    # 02:30 does not exist in Madrid on 28 March 2027.
    instant = to_instant(date(2027, 3, 28), time(2, 30), ZoneInfo("Europe/Madrid"))
    assert instant.astimezone(ZoneInfo("Europe/Madrid")).time() == time(3, 30)


@pytest.mark.parametrize(
    ("local", "expected"),
    [
        (time(20, 59), time(20, 59)),   # just before the quiet hours
        (time(21, 0), time(8, 0)),      # quiet: to the next morning
        (time(23, 30), time(8, 0)),
        (time(3, 0), time(8, 0)),       # quiet: the same morning
        (time(7, 59), time(8, 0)),
        (time(8, 0), time(8, 0)),
    ],
)
def test_quiet_hours(local, expected):
    zone = ZoneInfo("Europe/Madrid")
    moved = out_of_quiet_hours(datetime.combine(date(2027, 5, 3), local, tzinfo=zone), SETTINGS["quiet_hours"])
    assert moved.time() == expected
    assert moved.date() == (date(2027, 5, 4) if local >= time(21, 0) else date(2027, 5, 3))


@pytest.mark.parametrize("zone", ["Europe/Madrid", "America/New_York", "Asia/Tokyo"])
def test_nothing_goes_to_a_patient_in_quiet_hours(zone):
    """A reminder time inside the quiet hours (a site setting of 22:30) still lands at 08:00."""
    settings = resolve_settings({"reminder_time": "22:30"}, CONTENT)
    start = date(2027, 3, 1)
    items = [checklist(start + timedelta(days=k)) for k in range(0, 60, 3)]
    items.append(window("diet.listeria", "diet", start, start + timedelta(days=40)))
    items.sort(key=lambda item: item.on)  # as the timeline gives them
    since = datetime.combine(start - timedelta(days=1), time(0), tzinfo=UTC)
    planned = plan(items, zone, settings, CONTENT, since, since + timedelta(days=70))
    assert planned
    quiet_start, quiet_end = settings["quiet_hours"]
    for reminder in planned:
        local = reminder.at.astimezone(ZoneInfo(zone)).time()
        if reminder.audience == "patient":
            assert quiet_end <= local < quiet_start, reminder


def test_monthly_labs_on_one_day_make_one_reminder():
    due = date(2027, 6, 5)
    items = [Item(due, code, "lab", None, None, due, None, 5, None)
             for code in ("lab.cbc", "lab.creatinine", "lab.urinalysis", "lab.lft")]
    since = datetime(2027, 6, 1, tzinfo=UTC)
    planned = [r for r in plan(items, "Europe/Madrid", SETTINGS, CONTENT, since, since + timedelta(days=30))
               if r.step == "due"]
    assert len(planned) == 1
    assert set(planned[0].codes) == {"lab.cbc", "lab.creatinine", "lab.urinalysis", "lab.lft"}


# --- re-planning through the clock --------------------------------------------------


def test_a_new_course_replans_pending_rows_and_keeps_sent_ones(app, db, world):
    now = datetime.now(UTC).replace(microsecond=0)
    patient = world.patient
    tick(app, now, pusher=None)
    db.expire_all()  # the tick worked in its own session
    # Rows still to come are pending (earlier ones still useful went out at once: the catch-up rule).
    rows = list(db.scalars(select(Reminder).where(Reminder.patient_id == patient.id, Reminder.due_at > now)))
    assert rows and all(r.status == "pending" for r in rows)
    sent = rows[0]
    sent.status, sent.outcome = "sent", "1 devices"
    db.commit()

    # A planned course in 5 days: work-up, listeria diet and aciclovir reminders appear.
    today = now.date()
    patient_service.add_course(patient, [today + timedelta(days=5 + i) for i in range(3)], "planned",
                               world.users["nurse"], now)
    db.commit()
    assert patient.reminders_until is None  # stale: the clock re-plans
    tick(app, now, pusher=None)
    db.expire_all()
    keys = {r.key: r.status for r in db.scalars(select(Reminder).where(Reminder.patient_id == patient.id))}
    assert any(key.startswith("diet.listeria|") for key in keys)
    assert keys[sent.key] == "sent"


def test_pending_rows_that_no_longer_apply_are_cancelled(app, db, world):
    now = datetime.now(UTC).replace(microsecond=0)
    today = now.date()
    patient = world.patient
    patient_service.add_course(patient, [today + timedelta(days=3 + i) for i in range(3)], "planned",
                               world.users["nurse"], now)
    db.commit()
    tick(app, now, pusher=None)
    db.expire_all()
    listeria = [r for r in db.scalars(select(Reminder).where(Reminder.patient_id == patient.id))
                if r.codes == ["diet.listeria"]]
    assert listeria
    # The site switches the post-infusion antihistamine off and moves reminders to 10:00.
    world.clinic.settings = {"reminder_time": "10:00"}
    from server.services.reminders import mark_stale
    mark_stale(db, clinic_id=world.clinic.id)
    db.commit()
    tick(app, now, pusher=None)
    db.expire_all()
    statuses = {r.key: r.status for r in db.scalars(select(Reminder).where(Reminder.patient_id == patient.id))}
    assert all(statuses[r.key] == "cancelled" for r in listeria if "T09:00" in r.key)
    assert any("T10:00" in key and status == "pending" for key, status in statuses.items())
