"""History does not grow without end: the clock deletes sent and skipped reminder
rows and finished deliveries once they are older than HISTORY_RETENTION_DAYS
(400 by default), a batch at a time, and keeps everything younger."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import func, select

import server.timeutil as timeutil
from server.clock.process import tick
from server.models import Delivery, Reminder

from .test_push import due_reminder


def counts(db) -> tuple[int, int]:
    db.expire_all()
    return (db.scalar(select(func.count()).select_from(Reminder)),
            db.scalar(select(func.count()).select_from(Delivery)))


def test_history_past_the_retention_period_is_deleted_in_batches(app, db, world, push_service, subscribe, pusher,
                                                                  frozen_time):
    assert app.config["HISTORY_RETENTION_DAYS"] == 400
    app.config["CLOCK_BATCH"] = 2  # several batches in one tick
    push_service.clock = lambda: timeutil.utcnow().timestamp()  # the exp claim is checked at the frozen time
    subscribe(world.users["patient"], "phone")
    subscribe(world.users["patient"], "tablet")

    first = frozen_time(date(2025, 1, 6))
    for step in ("one", "two", "three"):
        due_reminder(db, world.patient, step=step, at=first)
    # Due a day earlier and useful for an hour: skipped as expired.
    due_reminder(db, world.patient, step="late", at=first - timedelta(days=1), useful_hours=1)
    report = tick(app, timeutil.utcnow(), pusher, plan_limit=0)
    assert report.pushes == {"sent": 6}
    assert counts(db) == (4, 6)

    later = frozen_time(first + timedelta(days=399))
    due_reminder(db, world.patient, step="recent", at=later)
    report = tick(app, timeutil.utcnow(), pusher, plan_limit=0)
    assert report.pushes == {"sent": 2}
    assert (report.deleted_deliveries, report.deleted_reminders) == (0, 0)
    assert counts(db) == (5, 8)

    frozen_time(first + timedelta(days=401))
    report = tick(app, timeutil.utcnow(), pusher, plan_limit=0)
    assert (report.deleted_deliveries, report.deleted_reminders) == (6, 4)
    assert "deleted 6 old deliveries and 4 old reminder rows" in str(report)
    # What is younger than 400 days stays: the recent reminder and its two deliveries.
    assert counts(db) == (1, 2)
    assert db.scalar(select(Reminder.step)) == "recent"
    assert push_service.problems == []

    # Nothing left to delete: the next tick deletes nothing.
    report = tick(app, timeutil.utcnow(), pusher, plan_limit=0)
    assert (report.deleted_deliveries, report.deleted_reminders) == (0, 0)


def test_a_reminder_is_kept_while_a_delivery_names_it(app, db, world, push_service, subscribe, pusher, frozen_time):
    """A delivery still pending (a push service asking to retry) keeps its reminder row."""
    push_service.clock = lambda: timeutil.utcnow().timestamp()
    subscribe(world.users["patient"], "phone")
    first = frozen_time(date(2025, 1, 6))
    row = due_reminder(db, world.patient, at=first, useful_hours=24 * 30)
    push_service.script("phone", 503)
    tick(app, timeutil.utcnow(), pusher, plan_limit=0)
    (delivery,) = db.scalars(select(Delivery)).all()
    assert delivery.status == "pending"
    # Still pending 401 days later (as if retried all along): neither is deleted.
    frozen_time(first + timedelta(days=401))
    delivery.next_attempt_at = delivery.expires_at = timeutil.utcnow() + timedelta(days=1)
    db.commit()
    push_service.script("phone", 503)
    report = tick(app, timeutil.utcnow(), pusher, plan_limit=0)
    assert (report.deleted_deliveries, report.deleted_reminders) == (0, 0)
    assert counts(db) == (1, 1)
    assert db.get(Reminder, row.id) is not None
