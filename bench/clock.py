"""The clock at scale on PostgreSQL: planning, an idle tick and pushes per second, with 1 and 2 processes.

    .venv/bin/python bench/clock.py [--patients 100000] [--pushes N] [--processes 1 2]
                                    [--database-url URL | --sqlite] [--history-days 365] [--explain]

The PostgreSQL database (``--database-url``, or BENCH_DATABASE_URL, default
postgresql://postgres@127.0.0.1:5432/alemtrack_clock_bench) is DROPPED and made
again; ``--sqlite`` uses a new file instead.

1. Builds the database with N patients, each with two to four courses (full
   timelines: every long-term series of content/protocol.toml).
2. For each process count: from no reminder rows at all, times the clock's
   planning step (the horizon of every patient) in that many processes side
   by side. What is due at once (the catch-up: these patients never answered
   a checklist nor had a lab, so about two care-team flags each) is then
   marked skipped, not timed.
3. Adds a year of history (a sent reminder and its delivery per patient and
   week), then times ticks when nothing is due, in each of the processes.
4. Makes P reminders due for P patients with one device each and times the
   tick that sends them to a local push service (a separate process that
   answers 201), printing pushes per second: whole ticks in that many
   processes (server.clock.process.tick_in_processes, as ``clock --once
   --processes``).
5. Times sealing a message (ES256 VAPID signature, ECDH, AES-GCM) in the
   event loop's process and in a pool of processes (docs/scaling.md).

It first measures how much more CPU two busy processes get than one (on a
machine shared with other work, a second process may get little more), and
with ``--explain`` prints EXPLAIN ANALYZE of every statement of an idle tick.

The figures of each process count are printed side by side with the ratio.
Targets (issue 18, PostgreSQL, 100,000 patients, 2 processes): planning at
least 1,500 patients/s; an idle tick under 50 ms; at least 1,000 pushes/s.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import random
import socket
import statistics
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/alemtrack_clock_bench"
IDLE_TICKS = 7


def receiver(port_queue) -> None:
    """The local push service: accepts every message (201), as fast as it can (aiohttp)."""
    from aiohttp import web

    async def accept(request: web.Request) -> web.Response:
        await request.read()
        return web.Response(status=201)

    async def serve() -> None:
        app = web.Application()
        app.router.add_post("/push/{device}", accept)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        listening = socket.create_server(("127.0.0.1", 0))
        await web.SockSite(runner, listening).start()
        port_queue.put(listening.getsockname()[1])
        await asyncio.Event().wait()

    asyncio.run(serve())


def fresh_database(url: str) -> None:
    """Drop and create the PostgreSQL database named in ``url``."""
    from sqlalchemy import text

    from server.db import make_engine

    base, name = url.rsplit("/", 1)
    admin = make_engine(f"{base}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()


def build(url: str, patients: int, now: datetime) -> None:
    from sqlalchemy import insert

    from server.db import make_engine
    from server.engine.dates import add_months
    from server.migrations import upgrade
    from server.models import Clinic, Course, Patient, User

    engine = make_engine(url)
    upgrade(engine)
    rng = random.Random(11)
    today = now.date()
    zones = ["Europe/Madrid", "Europe/Berlin", "Europe/Rome", "Europe/London", "America/New_York"]
    with engine.begin() as db:
        clinic_id = db.execute(insert(Clinic).values(name="Bench", phone="+34 900 000 000", emergency_number="112",
                                                     settings={}, created_at=now)).inserted_primary_key[0]
        for start in range(0, patients, 10_000):
            ids = range(start + 1, min(patients, start + 10_000) + 1)
            db.execute(insert(Patient), [
                {"id": i, "clinic_id": clinic_id, "display_name": f"P{i}", "sex": rng.choice(["female", "male"]),
                 "childbearing_potential": True, "breastfeeding": False, "timezone": rng.choice(zones),
                 "language": rng.choice(["en", "es", "de", "it"]), "baseline": {}, "detailed_notifications": False,
                 "created_at": now} for i in ids])
            db.execute(insert(User), [
                {"id": i, "email": f"p{i}@bench.test", "password_hash": "x", "role": "patient",
                 "clinic_id": clinic_id, "patient_id": i, "session_token": f"t{i}", "active": True,
                 "created_at": now} for i in ids])
            courses = []
            for i in ids:
                # Course 1 between 5 years and 2 months ago; 1-3 more a year or more apart.
                first = today - timedelta(days=rng.randint(60, 5 * 365))
                for k in range(rng.randint(2, 4)):
                    begin = add_months(first, 12 * k + rng.randint(0, 3))
                    days = [begin + timedelta(days=d) for d in range(5 if k == 0 else 3)]
                    courses.append({"patient_id": i, "status": "given" if days[-1] <= today else "planned",
                                    "infusions": [d.isoformat() for d in days], "created_at": now})
            db.execute(insert(Course), courses)
    engine.dispose()


def forget_plans(url: str) -> None:
    """No reminder rows, flags or deliveries: every patient is planned again on the next tick."""
    from sqlalchemy import delete, update

    from server.db import make_engine
    from server.models import Delivery, Flag, Patient, Reminder

    engine = make_engine(url)
    with engine.begin() as db:
        for model in (Delivery, Flag, Reminder):
            db.execute(delete(model))
        db.execute(update(Patient).values(reminders_until=None, plan_error=None, plan_attempts=0))
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as db:
            db.exec_driver_sql("VACUUM ANALYZE reminders, deliveries, flags, patients")
    engine.dispose()


def add_history(url: str, days: int, now: datetime) -> int:
    """A sent reminder and its sent delivery per patient and week, over the last ``days``; returns the rows.

    Written oldest first, as the clock writes them (what the BRIN indexes expect).
    """
    from sqlalchemy import func, select, text

    from server.db import make_engine
    from server.models import Reminder

    engine = make_engine(url)
    weeks = days // 7
    postgres = engine.dialect.name == "postgresql"
    # One INSERT ... SELECT per table: millions of rows without Python in the loop.
    series = ("generate_series(1, :weeks) AS w(n)" if postgres else
              "(WITH RECURSIVE w(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM w WHERE n < :weeks) SELECT n FROM w) AS w")
    instant = ("(CAST(:now AS timestamptz) - w.n * interval '7 days')" if postgres else
               "datetime(:now, '-' || (w.n * 7) || ' days')")
    day = f"CAST({instant} AS date)" if postgres else f"date({instant})"
    now_value = now if postgres else now.replace(tzinfo=None).isoformat(sep=" ")
    with engine.begin() as db:
        db.execute(text(f"""
            INSERT INTO reminders (patient_id, key, codes, kind, occurrence, item_due, step, audience, due_at,
                                   useful_until, status, outcome, handled_at, created_at)
            SELECT p.id, 'history|' || w.n, '["diet.listeria"]', 'diet', {day}, NULL, 'weekly', 'patient',
                   {instant}, {instant}, 'sent', '1 devices', {instant}, {instant}
            FROM patients p CROSS JOIN {series}
            ORDER BY w.n DESC, p.id"""), {"weeks": weeks, "now": now_value})
        db.execute(text("""
            INSERT INTO deliveries (reminder_id, purpose, user_id, patient_id, payload, topic, urgency, ttl_seconds,
                                    status, attempts, next_attempt_at, expires_at, sent_at, last_status, created_at)
            SELECT r.id, 'reminder', r.patient_id, r.patient_id, '{}', 'history', 'normal', 43200, 'sent', 1,
                   r.due_at, r.useful_until, r.due_at, 201, r.due_at
            FROM reminders r WHERE r.key LIKE 'history|%' ORDER BY r.due_at, r.id"""))
        rows = db.scalar(select(func.count()).select_from(Reminder).where(Reminder.key.like("history|%")))
    if postgres:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as db:
            # Where autovacuum would be by then: every patient's row was rewritten by planning.
            db.exec_driver_sql("VACUUM ANALYZE patients, reminders, deliveries")
    engine.dispose()
    return rows


def idle_ticks(url: str, now: datetime, overrides: dict, started_together) -> list[float]:
    """``IDLE_TICKS`` ticks in this process (after one to warm up); their durations in ms."""
    from server import create_app
    from server.clock.process import tick

    app = create_app(overrides)
    with app.app_context():
        tick(app, now)
        started_together.wait()
        durations = []
        for _ in range(IDLE_TICKS):
            started = time.perf_counter()
            tick(app, now)
            durations.append((time.perf_counter() - started) * 1000)
    return durations


def plan_all(url: str, now: datetime, overrides: dict, started_together) -> tuple[float, float, int, int]:
    """The clock's planning step in this process: (started, finished, patients, rows)."""
    from server import create_app
    from server.clock.process import TickReport, plan_patients

    app = create_app(overrides)
    report = TickReport()
    with app.app_context():
        started_together.wait()
        started = time.time()
        plan_patients(app, now, report)
    return started, time.time(), report.planned_patients, report.planned_rows


def in_processes(function, processes: int, *args) -> list:
    """``function(*args, barrier)`` in ``processes`` new processes at once; their results.

    Each waits at the barrier once its app is made, so that process start-up is not timed.
    """
    context = multiprocessing.get_context("spawn")
    manager = context.Manager()
    barrier = manager.Barrier(processes)
    with ProcessPoolExecutor(processes, mp_context=context) as pool:
        futures = [pool.submit(function, *args, barrier) for _ in range(processes)]
        results = [future.result() for future in futures]
    manager.shutdown()
    return results


def skip_catch_up(url: str, now: datetime) -> int:
    """Mark the rows due at ``now`` skipped, as a first tick would have handled them; returns how many.

    These patients never answered a checklist nor had a lab, so their first
    tick raises about two care-team flags each: the bench times planning and
    the steady state, not that.
    """
    from sqlalchemy import update

    from server.db import make_engine
    from server.models import Reminder

    engine = make_engine(url)
    with engine.begin() as db:
        count = db.execute(update(Reminder).where(Reminder.status == "pending", Reminder.due_at <= now)
                           .values(status="skipped", outcome="bench", handled_at=now)).rowcount
    engine.dispose()
    return count


def add_due(url: str, port: int, pushes: int, due: datetime, run: int, now: datetime) -> None:
    """``pushes`` patients get a device (once) and a reminder due at ``due``."""
    from sqlalchemy import func, insert, select

    from server.db import make_engine
    from server.models import PushSubscription, Reminder
    from tests.push_service import Device

    device = Device("bench")  # one key pair for all devices: encryption costs the same
    engine = make_engine(url)
    with engine.begin() as db:
        if not db.scalar(select(func.count()).select_from(PushSubscription)):
            db.execute(insert(PushSubscription), [
                {"user_id": i, "endpoint": f"http://127.0.0.1:{port}/push/{i}", "p256dh": device.p256dh,
                 "auth": device.auth, "created_at": now} for i in range(1, pushes + 1)])
        db.execute(insert(Reminder), [
            {"patient_id": i, "key": f"bench{run}|{i}", "codes": ["checklist.monthly"], "kind": "checklist",
             "occurrence": due.date(), "item_due": due.date(), "step": "due", "audience": "patient",
             "due_at": due, "useful_until": due + timedelta(hours=12), "unless": None, "flag_level": None,
             "text_key": None, "status": "pending", "created_at": now} for i in range(1, pushes + 1)])
    engine.dispose()


def seal(count: int) -> int:
    """Encrypt ``count`` messages and sign a VAPID token, as one batch of Pusher.send does; returns ``count``."""
    from py_vapid import Vapid02
    from pywebpush import WebPusher

    from tests.push_service import Device

    device = Device("seal")
    subscription = {"endpoint": "https://push.example.net/x", "keys": {"p256dh": device.p256dh, "auth": device.auth}}
    vapid = Vapid02()
    vapid.generate_keys()
    data = b'{"title":"Alemtrack","body":"You have something to do today.","url":"/#/today","tag":"abc"}'
    vapid.sign({"sub": "mailto:a@example.org", "aud": "https://push.example.net", "exp": 2_000_000_000})
    for _ in range(count):
        WebPusher(subscription).encode(data, content_encoding="aes128gcm")
    return count


def seal_rates(count: int, workers: int) -> tuple[float, float]:
    """Messages sealed per second in this process and in a pool of ``workers`` processes."""
    started = time.perf_counter()
    seal(count)
    inline = count / (time.perf_counter() - started)
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(workers, mp_context=context) as pool:
        list(pool.map(seal, [10] * workers))  # started and warm
        started = time.perf_counter()
        done = sum(pool.map(seal, [count // (4 * workers)] * (4 * workers)))
        pooled = done / (time.perf_counter() - started)
    return inline, pooled


def explain_idle_tick(url: str, now: datetime, overrides: dict) -> None:
    """Print EXPLAIN ANALYZE of every statement of an idle tick (each rolled back)."""
    from sqlalchemy import event

    from server import create_app
    from server.clock.process import tick
    from server.db import database

    app = create_app(overrides)
    engine = database(app).engine
    statements = []

    def remember(conn, cursor, statement, parameters, context, executemany) -> None:
        statements.append((statement, parameters))

    with app.app_context():
        tick(app, now)
        event.listen(engine, "before_cursor_execute", remember)
        tick(app, now)
        event.remove(engine, "before_cursor_execute", remember)
    connection = engine.raw_connection()
    cursor = connection.cursor()
    for statement, parameters in statements:
        cursor.execute("EXPLAIN (ANALYZE, COSTS OFF) " + statement, parameters)
        print("--", " ".join(statement.split())[:110])
        for (line,) in cursor.fetchall():
            print("  ", line)
        connection.rollback()
    connection.close()


def spin(seconds: float) -> int:
    """Count to what this process reaches in ``seconds`` of wall time."""
    count, until = 0, time.perf_counter() + seconds
    while time.perf_counter() < until:
        count += 1
    return count


def cpu_share() -> float:
    """How much more CPU two busy processes get than one, now (2.0 on an idle 2-core machine)."""
    alone = spin(2)
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(2, mp_context=context) as pool:
        list(pool.map(spin, [0.1, 0.1]))  # started
        together = sum(pool.map(spin, [2, 2]))
    return together / alone


def span(results) -> float:
    return max(r.finished for r in results) - min(r.started for r in results)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=100_000)
    parser.add_argument("--pushes", type=int, help="due reminders to send (default: one per patient)")
    parser.add_argument("--processes", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--sqlite", action="store_true", help="a new SQLite file instead of PostgreSQL")
    parser.add_argument("--history-days", type=int, default=365)
    parser.add_argument("--explain", action="store_true",
                        help="print EXPLAIN ANALYZE of each statement of an idle tick (PostgreSQL)")
    args = parser.parse_args()
    pushes = min(args.pushes or args.patients, args.patients)

    from server.clock.process import tick_in_processes
    from server.clock.push import generate_keys

    work = Path(tempfile.mkdtemp(prefix="alemtrack-clock-"))
    url = f"sqlite:///{work / 'clock.sqlite'}" if args.sqlite else args.database_url
    if not args.sqlite:
        fresh_database(url)
    now = datetime.now(timezone.utc).replace(second=0, microsecond=0)
    # On a shared machine a second process may get no more CPU than the first: this says how much more.
    share = cpu_share()
    print(f"CPU: two busy processes get {share:.2f} x what one gets (2.00 on an idle 2-core machine)", flush=True)
    started = time.perf_counter()
    build(url, args.patients, now)
    print(f"database: {url.split('@')[-1]} with {args.patients:,} patients (built in "
          f"{time.perf_counter() - started:.1f} s); load average {os.getloadavg()[0]:.2f}", flush=True)
    generate_keys(work)  # the deployment's VAPID key pair, as `vapid-keys` makes it
    overrides = {"DATABASE_URL": url, "SECRET_KEY": "bench", "INSTANCE_DIR": str(work)}
    figures: dict[str, dict[int, float]] = {}

    for n in args.processes:
        forget_plans(url)
        results = in_processes(plan_all, n, url, now, overrides)
        seconds = max(r[1] for r in results) - min(r[0] for r in results)
        planned = sum(r[2] for r in results)
        rows = sum(r[3] for r in results)
        figures.setdefault("plan: patients/s", {})[n] = planned / seconds
        figures.setdefault("plan: seconds", {})[n] = seconds
        print(f"plan, {n} process(es): {rows:,} reminder rows for {planned:,} patients in {seconds:.1f} s "
              f"({planned / seconds:,.0f} patients/s; per process {[r[2] for r in results]}); "
              f"load average {os.getloadavg()[0]:.2f}", flush=True)
    print(f"catch-up: {skip_catch_up(url, now):,} rows due at once marked skipped (not timed)", flush=True)

    started = time.perf_counter()
    history = add_history(url, args.history_days, now)
    print(f"history: {history:,} sent reminders and as many deliveries ({args.history_days} days) in "
          f"{time.perf_counter() - started:.1f} s", flush=True)

    for n in args.processes:
        durations = [d for ticks in in_processes(idle_ticks, n, url, now, overrides) for d in ticks]
        figures.setdefault("idle tick: median ms", {})[n] = statistics.median(durations)
        figures.setdefault("idle tick: max ms", {})[n] = max(durations)
        print(f"idle tick, {n} process(es): median {statistics.median(durations):.1f} ms, "
              f"max {max(durations):.1f} ms", flush=True)

    if args.explain and not args.sqlite:
        explain_idle_tick(url, now, overrides)

    ports = multiprocessing.Queue()
    service = multiprocessing.Process(target=receiver, args=(ports,), daemon=True)
    service.start()
    port = ports.get(timeout=30)
    # The local receiver is a push service named by the operator (ALEMTRACK_PUSH_ALLOWED_ORIGINS).
    push_overrides = {**overrides, "PUSH_ALLOWED_ORIGINS": (f"http://127.0.0.1:{port}",)}
    for run, n in enumerate(args.processes, 1):
        due = now + timedelta(minutes=run)
        add_due(url, port, pushes, due, run, now)
        results = tick_in_processes(due, n, push_overrides)
        seconds = span(results)
        outcomes: dict[str, int] = {}
        for result in results:
            for outcome, count in result.report.pushes.items():
                outcomes[outcome] = outcomes.get(outcome, 0) + count
        sent = outcomes.get("sent", 0)
        figures.setdefault("pushes/s", {})[n] = sent / seconds
        print(f"pushes, {n} process(es): {sent:,} sent of {pushes:,} due in {seconds:.1f} s = "
              f"{sent / seconds:,.0f} pushes/s; outcomes {outcomes}; load average {os.getloadavg()[0]:.2f}",
              flush=True)
    service.terminate()

    inline, pooled = seal_rates(2000, 2)
    print(f"sealing (ECDH + AES-GCM a message, ES256 a batch): {inline:,.0f} messages/s in one process, "
          f"{pooled:,.0f}/s in a pool of 2", flush=True)

    counts = args.processes
    print()
    print(f"{'PostgreSQL' if not args.sqlite else 'SQLite'}, {args.patients:,} patients, {pushes:,} pushes; "
          f"load average now {' '.join(f'{x:.2f}' for x in os.getloadavg())}; two processes got {share:.2f} x "
          f"the CPU of one")
    header = f"{'figure':<24}" + "".join(f"{f'{n} process(es)':>16}" for n in counts)
    if len(counts) > 1:
        header += f"{f'ratio {counts[-1]}/{counts[0]}':>14}"
    print(header)
    for name, values in figures.items():
        line = f"{name:<24}" + "".join(f"{values[n]:>16,.1f}" for n in counts)
        if len(counts) > 1:
            line += f"{values[counts[-1]] / values[counts[0]]:>14.2f}"
        print(line)
    print("targets (PostgreSQL, 100,000 patients, 2 processes): plan >= 1,500 patients/s; "
          "idle tick < 50 ms; pushes >= 1,000/s")


if __name__ == "__main__":
    main()
