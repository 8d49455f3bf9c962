"""The clock at scale: planning reminder rows, an idle tick, and pushes per second.

    .venv/bin/python bench/clock.py [--patients 100000] [--pushes 10000]

1. Builds a fresh SQLite database (or DATABASE_URL) with N patients, each with
   two to four courses (full timelines: every long-term series of content/protocol.toml).
2. Materializes every patient's reminder rows for the planning horizon with
   clock ticks, and prints the time and the rows made.
3. Times ticks when nothing is due (the clock's every-minute cost).
4. Makes P reminders due for P patients with one device each and times the
   tick that sends them to a local push service (a separate process that
   answers 201), printing pushes per second.

Targets (issue 4): an idle tick under 200 ms at 100,000 patients; at least 500
pushes per second.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def receiver(port_queue) -> None:
    """The local push service: accepts every message (201), as fast as it can."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def do_POST(self):
            self.rfile.read(int(self.headers.get("Content-Length", "0")))
            self.send_response(201)
            self.send_header("Content-Length", "0")
            self.end_headers()

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    port_queue.put(server.server_address[1])
    server.serve_forever()


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=100_000)
    parser.add_argument("--pushes", type=int, default=10_000)
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="alemtrack-clock-"))
    url = os.environ.get("DATABASE_URL") or f"sqlite:///{work / 'clock.sqlite'}"
    now = datetime.now(timezone.utc).replace(second=0, microsecond=0)

    started = time.perf_counter()
    build(url, args.patients, now)
    print(f"database: {url.split('@')[-1]} with {args.patients:,} patients (built in "
          f"{time.perf_counter() - started:.1f} s)")

    from sqlalchemy import func, insert, select

    from server import create_app
    from server.clock.process import tick
    from server.clock.push import Pusher, generate_keys
    from server.db import database
    from server.models import PushSubscription, Reminder

    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench", "INSTANCE_DIR": str(work)})
    sessions = database(app).sessions
    generate_keys(work)  # the deployment's VAPID key pair, as `vapid-keys` makes it
    pusher = Pusher((work / "vapid_private.pem").read_text(), "mailto:bench@example.org", timeout=10)

    started = time.perf_counter()
    report = tick(app, now, pusher)
    elapsed = time.perf_counter() - started
    with sessions() as session:
        rows = session.scalar(select(func.count()).select_from(Reminder))
    print(f"materialize: {rows:,} reminder rows for {report.planned_patients:,} patients "
          f"({app.config['REMINDER_HORIZON_DAYS']}-day horizon) in {elapsed:.1f} s "
          f"({report.planned_patients / elapsed:,.0f} patients/s)")

    idle = []
    for _ in range(7):
        started = time.perf_counter()
        tick(app, now, pusher)
        idle.append((time.perf_counter() - started) * 1000)
    print(f"idle tick (nothing due): median {statistics.median(idle):.1f} ms, max {max(idle):.1f} ms "
          f"(target < 200 ms)")

    ports = multiprocessing.Queue()
    service = multiprocessing.Process(target=receiver, args=(ports,), daemon=True)
    service.start()
    port = ports.get(timeout=10)
    # The local receiver is a push service named by the operator (ALEMTRACK_PUSH_ALLOWED_ORIGINS).
    pusher = Pusher((work / "vapid_private.pem").read_text(), "mailto:bench@example.org", timeout=10,
                    allowed_origins=(f"http://127.0.0.1:{port}",))
    from tests.push_service import Device

    device = Device("bench")  # one key pair for all devices: encryption costs the same
    due = now + timedelta(minutes=1)
    with sessions() as session:
        session.execute(insert(PushSubscription), [
            {"user_id": i, "endpoint": f"http://127.0.0.1:{port}/push/{i}", "p256dh": device.p256dh,
             "auth": device.auth, "created_at": now} for i in range(1, args.pushes + 1)])
        session.execute(insert(Reminder), [
            {"patient_id": i, "key": f"bench|{i}", "codes": ["checklist.monthly"], "kind": "checklist",
             "occurrence": due.date(), "item_due": due.date(), "step": "due", "audience": "patient",
             "due_at": due, "useful_until": due + timedelta(hours=12), "unless": None, "flag_level": None,
             "text_key": None, "status": "pending", "created_at": now} for i in range(1, args.pushes + 1)])
        session.commit()
    started = time.perf_counter()
    report = tick(app, due, pusher)
    elapsed = time.perf_counter() - started
    sent = report.pushes.get("sent", 0)
    print(f"pushes: {sent:,} sent of {args.pushes:,} due in {elapsed:.1f} s = {sent / elapsed:,.0f} pushes/s "
          f"({app.config['PUSH_IN_FLIGHT']} in flight; target >= 500/s); outcomes {report.pushes}")
    service.terminate()


if __name__ == "__main__":
    main()
