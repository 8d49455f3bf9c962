"""Exactly once, with real clock processes: the same tick twice, two clocks at
once, and a clock killed with SIGKILL in the middle of a batch. Each run covers
1,200 reminder instants (40 patients x 30 reminders, one device each) and
reports duplicates and missed reminders. On PostgreSQL every clock runs 3
processes (``clock --processes 3``) that share the work; on SQLite, one.

A delivery whose clock died after the push service took it but before the
answer was recorded is sent again (at least once): it carries the same Topic
and tag, so the device replaces the first copy instead of showing a second.
``raw duplicates`` counts such copies at the push service; ``visible
duplicates`` counts what a person would see twice (must be 0), ``missed`` what
never arrived (must be 0).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import insert, select

from server.db import make_engine
from server.models import Clinic, Delivery, Patient, PushSubscription, Reminder, User
from server.services.notify import topic_for

from ..push_service import PushService
from .conftest import SUBJECT

ROOT = Path(__file__).resolve().parents[2]
PATIENTS = 40
PER_PATIENT = 30


@pytest.fixture
def service():
    push = PushService(subject=SUBJECT).start()
    yield push
    push.stop()


def populate(url: str, push: PushService, now: datetime) -> set[tuple[str, str]]:
    """40 patients, one device each, 30 due reminders each; returns the expected (device, topic) pairs."""
    engine = make_engine(url)
    expected = set()
    with engine.begin() as db:
        clinic_id = db.execute(insert(Clinic).values(name="C", phone="1", emergency_number="112", settings={},
                                                     created_at=now)).inserted_primary_key[0]
        for p in range(PATIENTS):
            patient_id = db.execute(insert(Patient).values(
                clinic_id=clinic_id, display_name=f"P{p}", sex="female", childbearing_potential=False,
                breastfeeding=False, timezone="Europe/Madrid", language="en", baseline={},
                detailed_notifications=False, reminders_until=now + timedelta(days=30), created_at=now,
            )).inserted_primary_key[0]
            user_id = db.execute(insert(User).values(
                email=f"p{p}@x.test", password_hash="x", role="patient", clinic_id=clinic_id, patient_id=patient_id,
                session_token=f"t{p}", active=True, created_at=now)).inserted_primary_key[0]
            device = push.device(f"d{p}")
            db.execute(insert(PushSubscription).values(user_id=user_id, endpoint=push.endpoint(f"d{p}"),
                                                       p256dh=device.p256dh, auth=device.auth, created_at=now))
            rows = []
            for k in range(PER_PATIENT):
                occurrence = now.date() - timedelta(days=k)
                due = now - timedelta(minutes=k)  # 1,200 distinct instants in all
                rows.append({"patient_id": patient_id, "key": f"diet.listeria|{occurrence}|weekly|{k}",
                             "codes": ["diet.listeria"], "kind": "diet", "occurrence": occurrence, "item_due": None,
                             "step": "weekly", "audience": "patient", "due_at": due,
                             "useful_until": due + timedelta(hours=12), "unless": None, "flag_level": None,
                             "text_key": None, "status": "pending", "created_at": now})
                expected.add((f"d{p}", topic_for(patient_id, "diet.listeria", occurrence)))
            db.execute(insert(Reminder), rows)
    engine.dispose()
    return expected


def clock_env(url: str, vapid_pem: str, push: PushService, **settings: str) -> dict[str, str]:
    """The environment of a clock process; the local push service is a named one."""
    return {**os.environ, "DATABASE_URL": url, "SECRET_KEY": "test", "ALEMTRACK_VAPID_PRIVATE_KEY": vapid_pem,
            "ALEMTRACK_VAPID_SUBJECT": SUBJECT, "ALEMTRACK_PUSH_ALLOWED_ORIGINS": push.origin, **settings}


def processes_for(url: str) -> int:
    """Clock processes per clock: 3 on PostgreSQL, which lets them share the work; 1 on SQLite (one writer)."""
    return 3 if url.startswith("postgresql") else 1


def clock(url: str, vapid_pem: str, now: datetime, push: PushService, batch: int = 100,
          **settings: str) -> subprocess.Popen:
    """``clock --once`` with processes_for(url) processes, in a process group of its own (killed as one)."""
    env = clock_env(url, vapid_pem, push, ALEMTRACK_CLOCK_BATCH=str(batch), ALEMTRACK_PUSH_IN_FLIGHT="8",
                    ALEMTRACK_PUSH_TIMEOUT_SECONDS="5", **settings)
    return subprocess.Popen([sys.executable, "-m", "flask", "--app", "server", "clock", "--once", "--now",
                             now.isoformat(), "--processes", str(processes_for(url))], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)


def finish(process: subprocess.Popen) -> str:
    out, _ = process.communicate(timeout=300)
    assert process.returncode in (0, -signal.SIGTERM), out  # one process: SIGTERM ends it
    return out


def finish_all(*processes: subprocess.Popen) -> list[str]:
    """``finish`` each, every one waited for before any is judged (none is left running)."""
    outs = [process.communicate(timeout=300)[0] for process in processes]
    for process, out in zip(processes, outs):
        assert process.returncode in (0, -signal.SIGTERM), out
    return outs


def tally(push: PushService, expected: set[tuple[str, str]]) -> dict[str, int]:
    seen: dict[tuple[str, str], int] = {}
    for message in push.received:
        seen[(message.device, message.topic)] = seen.get((message.device, message.topic), 0) + 1
    figures = {
        "instants": len(expected),
        "received": len(push.received),
        "raw_duplicates": sum(count - 1 for count in seen.values()),
        "visible_duplicates": len(push.received) - len(push.visible()) - sum(count - 1 for count in seen.values()),
        "missed": len(expected - set(seen)),
        "unexpected": len(set(seen) - expected),
    }
    print(f"\n{figures}")
    return figures


def statuses(url: str) -> dict[str, int]:
    engine = make_engine(url)
    with engine.connect() as db:
        rows = db.execute(select(Delivery.status)).scalars().all()
    engine.dispose()
    return {s: rows.count(s) for s in set(rows)}


def test_the_same_tick_twice(database_url, service, vapid_pem):
    now = datetime.now(timezone.utc)
    expected = populate(database_url, service, now)
    finish(clock(database_url, vapid_pem, now, service))
    finish(clock(database_url, vapid_pem, now, service))
    figures = tally(service, expected)
    assert service.problems == []
    assert figures["instants"] >= 1000
    assert figures["raw_duplicates"] == 0 and figures["missed"] == 0 and figures["unexpected"] == 0


def test_two_clocks_at_once(database_url, service, vapid_pem):
    now = datetime.now(timezone.utc)
    expected = populate(database_url, service, now)
    # Every process is busy for a while: all of them are at work at the same time.
    service.delay_seconds = 0.02 if processes_for(database_url) > 1 else 0.002
    first = clock(database_url, vapid_pem, now, service, batch=40)
    second = clock(database_url, vapid_pem, now, service, batch=40)
    outputs = finish_all(first, second)
    figures = tally(service, expected)
    assert service.problems == []
    assert figures["raw_duplicates"] == 0 and figures["missed"] == 0
    assert statuses(database_url) == {"sent": len(expected)}
    # Both did part of the work (they really ran side by side).
    assert all("pushes: sent" in out for out in outputs), outputs
    if processes_for(database_url) > 1:
        # Several of the six processes sent messages: they shared the batches.
        assert sum(line.count("pushes: sent") for out in outputs for line in out.splitlines()) >= 3, outputs


def test_a_clock_killed_mid_batch_loses_nothing(database_url, service, vapid_pem):
    now = datetime.now(timezone.utc)
    expected = populate(database_url, service, now)
    service.delay_seconds = 0.02
    victim = clock(database_url, vapid_pem, now, service, batch=200)
    deadline = time.monotonic() + 120
    while len(service.received) < 300 and time.monotonic() < deadline:
        time.sleep(0.01)
    os.killpg(victim.pid, signal.SIGKILL)  # the clock and all its processes, at once
    victim.communicate()
    assert 0 < len(service.received) < len(expected), "the kill must land in the middle of the work"
    in_flight = statuses(database_url).get("sending", 0)
    # The next clock, more than the stale-claim delay later, takes up the interrupted batch.
    service.delay_seconds = 0
    finish(clock(database_url, vapid_pem, now + timedelta(minutes=6), service))
    figures = tally(service, expected)
    print(f"deliveries left 'sending' by the kill: {in_flight}")
    assert service.problems == []
    assert figures["missed"] == 0
    assert figures["visible_duplicates"] == 0
    # Only what was in flight at the kill can have gone out twice: per process, at most
    # 2 x PUSH_IN_FLIGHT (8) messages are sent and not yet recorded.
    assert figures["raw_duplicates"] <= in_flight
    assert figures["raw_duplicates"] <= processes_for(database_url) * 2 * 8
    assert statuses(database_url) == {"sent": len(expected)}


def test_the_running_clock_sends_what_is_due(database_url, service, vapid_pem):
    """The clock as the Procfile runs it (no --once): the first tick of each of
    its processes, in the scheduler's own thread, sends every due reminder once;
    SIGTERM stops them all."""
    now = datetime.now(timezone.utc).replace(microsecond=0)
    expected = populate(database_url, service, now)
    process = subprocess.Popen([sys.executable, "-m", "flask", "--app", "server", "clock", "--processes",
                                str(processes_for(database_url))], cwd=ROOT,
                               env=clock_env(database_url, vapid_pem, service),
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        # Waiting for another process, not timing it: the deadline only ends a failed run.
        deadline = time.monotonic() + 60
        while len(service.received) < len(expected) and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.2)
    finally:
        process.send_signal(signal.SIGTERM)
        out, _ = process.communicate(timeout=30)
    assert "tick failed" not in out, out
    assert process.returncode in (0, -signal.SIGTERM), out  # one process: SIGTERM ends it
    figures = tally(service, expected)
    assert service.problems == []
    assert figures["missed"] == 0 and figures["raw_duplicates"] == 0 and figures["unexpected"] == 0, out
