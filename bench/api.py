"""API throughput and latency under gunicorn (2 workers) with load from wrk.

Builds a clinic of 10,000 patients with 100,000 checklists and 50,000 lab
results, starts gunicorn with 2 sync workers on 127.0.0.1 (each with a pool of
4 PostgreSQL connections), warms them up with a run of the floor (not
counted), and drives each endpoint with wrk for a few seconds:

    GET  /api/v1/health                         the floor: a trivial JSON answer
    POST /api/v1/patients/{id}/checklists       checklist submission (patients)
    GET  /api/v1/flags?status=open              the nurse's open-flag queue
    GET  /api/v1/patients/{id}/timeline         a patient's timeline
    GET  /api/v1/patients?...                   the clinic's list (issue 17): a page by name, a
                                                search, labs overdue sorted by most overdue

Before the runs, every patient's list figures are computed as the command
refresh-figures does (services.patient_list); that time is printed apart, and
the runs measure the list with the figures kept.

The database is PostgreSQL, the production one, by default: the database
alemtrack_bench on the local server (--postgres names another server), dropped
and made anew at each run and left behind for a look afterwards. --sqlite runs
on a SQLite file in a temporary folder instead; --both runs PostgreSQL, then
SQLite, and prints them in one table.

Prints requests per second, p50 and p99 latency and the non-2xx answers of
each endpoint, then each target of issue 15 with its figure: on PostgreSQL,
checklist submission at least 25% of the floor's throughput and the flag queue
and timeline p99 under 30 ms; on SQLite, p99 under 50 ms for each.

    .venv/bin/python bench/api.py [--sqlite | --both] [--seconds 10] [--connections 4]
                                  [--patients 10000] [--postgres URL]

Needs wrk (Debian package "wrk"). Session cookies are minted with the app's own
secret so that 10,000 patients need not each log in.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SECRET = "bench-secret"
#: the local PostgreSQL server (trust authentication) and the one database on it that the bench
#: drops and makes: never a database someone else uses
POSTGRES_SERVER = "postgresql://postgres@127.0.0.1:5432"
BENCH_DATABASE = "alemtrack_bench"
#: connections in each worker's PostgreSQL pool (ALEMTRACK_DB_POOL_SIZE)
POOL_SIZE = 4
WORKERS = 2
#: the checklist run is this short at most: each patient sends this month's checklist once, and a
#: run that came round to her again would measure 409s (refused as not valid below)
CHECKLIST_SECONDS = 5
#: a run of the floor before measuring, not counted: the workers load the app and open connections
WARM_UP_SECONDS = 2
#: the tables whose ids the bulk load writes itself: PostgreSQL's sequences are moved past them
EXPLICIT_IDS = ("patients", "users", "lab_submissions")
LEVELS = ["none", "routine", "soon", "urgent", "emergency"]
FLOOR = "floor: GET /health"
CHECKLIST = "POST checklist"
FLAGS = "GET open-flag queue (nurse)"
TIMELINE = "GET patient timeline"
LIST = "GET patient list, page 1"
LIST_SEARCH = "GET patient list, search"
LIST_FILTER = "GET list: overdue labs, sorted"
#: database -> seconds to compute every patient's list figures (refresh-figures)
FIGURES_SECONDS: dict[str, float] = {}

LUA = r"""
local lines = {}
for line in io.lines(os.getenv("BENCH_SESSIONS")) do lines[#lines + 1] = line end
local method = os.getenv("BENCH_METHOD")
local template = os.getenv("BENCH_PATH")
local body = os.getenv("BENCH_BODY")
local counter = 0
local threads = {}
bad, total = 0, 0

function setup(thread)
  thread:set("offset", math.random(1, #lines))
  table.insert(threads, thread)
end

local function uuid4()
  local t = "xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx"
  return (string.gsub(t, "[xy]", function(c)
    local v = (c == "x") and math.random(0, 15) or math.random(8, 11)
    return string.format("%x", v)
  end))
end

function init(args)
  math.randomseed(os.time() + (offset or 0))
  counter = offset or 0
end

function request()
  counter = counter + 1
  local cookie, csrf, patient = lines[(counter % #lines) + 1]:match("([^\t]+)\t([^\t]+)\t([^\t]+)")
  local path = string.gsub(template, "{patient}", patient)
  local headers = {["Cookie"] = "alemtrack_session=" .. cookie, ["X-CSRF-Token"] = csrf,
                   ["Content-Type"] = "application/json"}
  local payload = nil
  if body ~= nil and body ~= "" then payload = string.gsub(body, "{uuid}", uuid4()) end
  return wrk.format(method, path, headers, payload)
end

-- Each wrk thread has its own Lua state: count there, sum in done().
function response(status, headers, body)
  total = total + 1
  if status >= 300 then bad = bad + 1 end
end

function done(summary, latency, requests)
  local all_bad, all = 0, 0
  for _, thread in ipairs(threads) do
    all_bad = all_bad + thread:get("bad")
    all = all + thread:get("total")
  end
  io.write(string.format("BENCH p50=%.3f p99=%.3f rps=%.1f bad=%d total=%d\n",
    latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    summary.requests / (summary.duration / 1e6), all_bad, all))
end
"""


def build_database(url: str, patients: int) -> dict:
    """Bulk-load the clinic; returns ids needed to build sessions."""
    from sqlalchemy import insert

    from server.db import make_engine
    from server.engine.dates import add_months
    from server.migrations import upgrade
    from server.models import (
        Checklist,
        Clinic,
        Course,
        Flag,
        LabResult,
        LabSubmission,
        Patient,
        User,
    )
    from server.services.accounts import hasher
    from server.services.demo import PASSWORD
    from server.timeutil import local_today, utcnow

    engine = make_engine(url)
    upgrade(engine)
    now = utcnow()
    today = local_today("Europe/Madrid", now)
    rng = random.Random(3)
    password_hash = hasher({"ARGON2_TIME_COST": 1, "ARGON2_MEMORY_KIB": 8192}).hash(PASSWORD)
    with engine.begin() as db:
        clinic = insert(Clinic).values(name="Bench clinic", phone="+34 900 000 000",
                                       emergency_number="112", settings={}, created_at=now)
        clinic_id = db.execute(clinic).inserted_primary_key[0]
        nurse = insert(User).values(email="nurse@bench.test", role="nurse", clinic_id=clinic_id,
                                    password_hash=password_hash, session_token="bench-nurse",
                                    active=True, created_at=now)
        nurse_id = db.execute(nurse).inserted_primary_key[0]
        db.execute(insert(Patient), [
            {"id": i, "clinic_id": clinic_id, "display_name": f"Patient {i}", "hospital_number": f"H{i:06d}",
             "sex": rng.choice(["female", "male"]), "childbearing_potential": False,
             "breastfeeding": False, "timezone": "Europe/Madrid",
             "language": rng.choice(["en", "es", "de", "it"]),
             "baseline": {"platelets": 250, "creatinine": 70}, "created_at": now}
            for i in range(1, patients + 1)
        ])
        db.execute(insert(User), [
            {"id": nurse_id + i, "email": f"p{i}@bench.test", "role": "patient",
             "clinic_id": clinic_id, "patient_id": i, "password_hash": password_hash,
             "session_token": f"bench-{i}", "active": True, "created_at": now}
            for i in range(1, patients + 1)
        ])
        courses, checklists, submissions, results, flags = [], [], [], [], []
        submission_id = 0
        for i in range(1, patients + 1):
            # Eleven months after course 1: ten past checklists (this month's still
            # to answer) and five lab samples each.
            first = add_months(today, -11) - timedelta(days=rng.randint(8, 20))
            infusions = [(first + timedelta(days=d)).isoformat() for d in range(5)]
            courses.append({"patient_id": i, "status": "given", "created_at": now,
                            "infusions": infusions})
            for n in range(1, 11):
                checklists.append({"patient_id": i, "client_id": str(uuid.uuid4()),
                                   "answered_on": add_months(first, n), "period": n,
                                   "answers": {}, "level": "none", "reasons": [],
                                   "response": {}, "created_at": now})
            for n in range(2, 11, 2):
                submission_id += 1
                taken = add_months(first, n)
                submissions.append({"id": submission_id, "patient_id": i,
                                    "client_id": str(uuid.uuid4()), "taken_on": taken,
                                    "patient_reported": False, "response": {}, "created_at": now})
                results.append({"submission_id": submission_id, "patient_id": i,
                                "analyte": "platelets", "value_num": float(rng.randint(160, 320)),
                                "taken_on": taken, "patient_reported": False})
            if i % 30 == 0:
                level = rng.choice(["soon", "urgent", "emergency"])
                flags.append({"clinic_id": clinic_id, "patient_id": i, "level": level,
                              "level_rank": LEVELS.index(level), "source": "checklist",
                              "source_id": 0, "reasons": ["bleed.mucosal"], "status": "open",
                              "created_at": now - timedelta(minutes=rng.randint(1, 10000))})
        db.execute(insert(Course), courses)
        db.execute(insert(Checklist), checklists)
        db.execute(insert(LabSubmission), submissions)
        db.execute(insert(LabResult), results)
        db.execute(insert(Flag), flags)
        if engine.dialect.name == "postgresql":
            for table in EXPLICIT_IDS:
                db.exec_driver_sql(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                   f"(SELECT max(id) FROM {table}))")
    # The planner's statistics, as autovacuum (or a day of use) would have made them: without
    # them PostgreSQL guesses a handful of patients and joins the list's 10,000 row by row.
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as db:
        db.exec_driver_sql("ANALYZE")
    engine.dispose()
    counts = {"checklists": len(checklists), "lab_results": len(results), "open_flags": len(flags)}
    return {"nurse_id": nurse_id, "patients": patients, "today": today.isoformat(),
            "counts": counts}


def mint_sessions(app, user_ids: list[int], path: Path) -> None:
    """Signed session cookies and CSRF tokens, as a login would have made them
    (Flask-Login's login_user, whose signal also stamps the session's limits)."""
    from flask_login import login_user

    from server.db import get_session
    from server.models import User
    from server.web.csrf import token as csrf_token

    serializer = app.session_interface.get_signing_serializer(app)
    with app.app_context():
        users = {u.id: u for u in get_session().query(User).filter(User.id.in_(user_ids))}
        with path.open("w") as out:
            for user_id in user_ids:
                with app.test_request_context() as context:
                    login_user(users[user_id])
                    csrf = csrf_token()
                    cookie = serializer.dumps(dict(context.session))
                    out.write(f"{cookie}\t{csrf}\t{users[user_id].patient_id or 0}\n")


def wait_for(port: int, seconds: float = 60) -> None:
    """Until the app answers (a worker has loaded it), not just the port."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/health", timeout=5):
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("gunicorn did not start")


def run_wrk(port, sessions, method, path, body, seconds, connections, lua) -> dict:
    env = {**os.environ, "BENCH_SESSIONS": str(sessions), "BENCH_METHOD": method,
           "BENCH_PATH": path, "BENCH_BODY": body or ""}
    command = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "-s", str(lua),
               f"http://127.0.0.1:{port}"]
    out = subprocess.run(command, capture_output=True, text=True, env=env, check=True)
    match = re.search(r"BENCH p50=([\d.]+) p99=([\d.]+) rps=([\d.]+) bad=(\d+) total=(\d+)",
                      out.stdout)
    if not match:
        raise SystemExit(out.stdout + out.stderr)
    p50, p99, rps, bad, total = match.groups()
    return {"p50_ms": float(p50), "p99_ms": float(p99), "rps": float(rps), "bad": int(bad),
            "total": int(total)}


def compute_figures(app) -> float:
    """Seconds to compute every patient's list figures, as ``refresh-figures`` does."""
    from sqlalchemy import select

    from server.db import get_session
    from server.models import Clinic
    from server.services import patient_list
    from server.timeutil import utcnow

    with app.app_context():
        session = get_session()
        started = time.perf_counter()
        for clinic_id in session.scalars(select(Clinic.id)).all():
            patient_list.refresh_figures(session, clinic_id, utcnow(), app.extensions["alemtrack_content"])
        session.commit()
        return time.perf_counter() - started


def fresh_postgres(server: str) -> str:
    """Drop and make the bench's database on ``server``; returns its URL."""
    from sqlalchemy import text

    from server.db import make_engine

    admin = make_engine(f"{server}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f"DROP DATABASE IF EXISTS {BENCH_DATABASE} WITH (FORCE)"))
        connection.execute(text(f"CREATE DATABASE {BENCH_DATABASE}"))
    admin.dispose()
    return f"{server}/{BENCH_DATABASE}"


def bench(database: str, args, work: Path) -> dict:
    """Build one database, serve it with gunicorn and measure each endpoint;
    returns {endpoint: wrk's figures}."""
    if database == "PostgreSQL":
        url = fresh_postgres(args.postgres)
    else:
        url = f"sqlite:///{work / 'bench.sqlite'}"
    started = time.perf_counter()
    info = build_database(url, args.patients)
    counts = info["counts"]
    print(f"{database}: {url.split('@')[-1]}: {args.patients:,} patients, "
          f"{counts['checklists']:,} checklists, {counts['lab_results']:,} lab results, "
          f"{counts['open_flags']} open flags, built in {time.perf_counter() - started:.0f} s",
          file=sys.stderr)

    environ = {"DATABASE_URL": url, "SECRET_KEY": SECRET, "ALEMTRACK_ENV": "production",
               "ALEMTRACK_DB_POOL_SIZE": str(POOL_SIZE), "ALEMTRACK_INSTANCE": str(work)}
    from server import create_app
    app = create_app({"SESSION_COOKIE_SECURE": False}, environ=environ)
    patients = work / "patients.tsv"
    nurse = work / "nurse.tsv"
    mint_sessions(app, [info["nurse_id"] + i for i in range(1, args.patients + 1)], patients)
    mint_sessions(app, [info["nurse_id"]], nurse)
    cold = compute_figures(app)
    print(f"{database}: every patient's list figures computed in {cold:.1f} s", file=sys.stderr)
    app.extensions["alemtrack_db"].dispose()
    lua = work / "bench.lua"
    lua.write_text(LUA)

    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--workers", str(WORKERS),
         "--bind", f"127.0.0.1:{args.port}", "--log-level", "warning", "server:create_app()"],
        cwd=ROOT, env={**os.environ, **environ, "GUNICORN_CMD_ARGS": ""},
    )
    try:
        wait_for(args.port)
        # The second worker may still be loading the app, and the first requests
        # pay for connections and caches: the floor, measured first, would count
        # that and flatter every share of it.
        run_wrk(args.port, nurse, "GET", "/api/v1/health", None, WARM_UP_SECONDS,
                args.connections, lua)
        checklist = json.dumps({"client_id": "{uuid}", "answered_on": info["today"], "note": None,
                                "answers": {"bleed.mucosal": False, "thyroid.weight": True}})
        runs = [
            (FLOOR, nurse, "GET", "/api/v1/health", None),
            # Before the checklists: each one sent makes that patient's figures be computed again.
            (LIST, nurse, "GET", "/api/v1/patients?per_page=50", None),
            (LIST_SEARCH, nurse, "GET", "/api/v1/patients?q=patient%2012&per_page=50", None),
            (LIST_FILTER, nurse, "GET", "/api/v1/patients?only=overdue_labs&sort=overdue_labs&order=desc"
                                        "&per_page=50&page=3", None),
            (CHECKLIST, patients, "POST", "/api/v1/patients/{patient}/checklists", checklist),
            (FLAGS, nurse, "GET", "/api/v1/flags?status=open", None),
            (TIMELINE, patients, "GET", "/api/v1/patients/{patient}/timeline", None),
        ]
        results = {}
        for name, sessions, method, path, body in runs:
            if args.only not in name and name != FLOOR:
                continue
            seconds = min(args.seconds, CHECKLIST_SECONDS) if method == "POST" else args.seconds
            result = run_wrk(args.port, sessions, method, path, body, seconds, args.connections,
                             lua)
            if not result["total"]:
                raise SystemExit(f"{database}, {name}: no answer in {seconds} s")
            if method == "POST" and result["bad"]:
                raise SystemExit(f"{database}, {name}: {result['bad']} answers were not 2xx "
                                 "(more requests than patients?): the figure is not valid")
            results[name] = result
        FIGURES_SECONDS[database] = cold
        return results
    finally:
        server.terminate()
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def targets(database: str, results: dict) -> list[tuple[str, str, str, bool]]:
    """(what, figure, target, met) for each target of issue 15 that was measured."""
    rows = []
    if database == "PostgreSQL":
        if CHECKLIST in results:
            share = results[CHECKLIST]["rps"] / results[FLOOR]["rps"]
            rows.append(("checklist share of the floor", f"{share:.0%}", ">= 25%", share >= 0.25))
        measured, limit = [FLAGS, TIMELINE], 30
    else:
        measured, limit = [CHECKLIST, FLAGS, TIMELINE], 50
    for name in measured:
        if name in results:
            p99 = results[name]["p99_ms"]
            rows.append((f"{name} p99", f"{p99:.1f} ms", f"< {limit} ms", p99 < limit))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--sqlite", action="store_true", help="SQLite instead of PostgreSQL")
    which.add_argument("--both", action="store_true", help="PostgreSQL, then SQLite, one table")
    parser.add_argument("--postgres", default=POSTGRES_SERVER,
                        help=f"the PostgreSQL server (its database {BENCH_DATABASE} is remade)")
    parser.add_argument("--patients", type=int, default=10_000)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--port", type=int, default=5077)
    parser.add_argument("--only", default="",
                        help="only the endpoints whose name contains this (and the floor)")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("bench/api.py needs wrk: apt-get install wrk")
    if args.both:
        databases = ["PostgreSQL", "SQLite"]
    else:
        databases = ["SQLite"] if args.sqlite else ["PostgreSQL"]

    measured, load = {}, {}
    for database in databases:
        work = Path(tempfile.mkdtemp(prefix="alemtrack-bench-"))
        try:
            load[database] = os.getloadavg()[0]
            measured[database] = bench(database, args, work)
        finally:
            shutil.rmtree(work, ignore_errors=True)

    checklist_seconds = min(args.seconds, CHECKLIST_SECONDS)
    loads = ", ".join(f"{database} {value:.1f}" for database, value in load.items())
    print(f"\ngunicorn {WORKERS} sync workers, PostgreSQL pool {POOL_SIZE} connections each; "
          f"wrk 1 thread, {args.connections} connections, {args.seconds} s an endpoint "
          f"(checklists {checklist_seconds} s)\n{os.cpu_count()} cores, load average (1 min) "
          f"before each database: {loads}\n")
    print(f"{'database':<12}{'endpoint':<30}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'non-2xx':>9}")
    for database, results in measured.items():
        for name, r in results.items():
            print(f"{database:<12}{name:<30}{r['rps']:>9.0f}{r['p50_ms']:>9.1f}{r['p99_ms']:>9.1f}"
                  f"{r['bad']:>9}")
    for database, seconds in FIGURES_SECONDS.items():
        print(f"{database:<12}{'every list figure computed (once)':<39}{seconds:>8.1f} s")
    print(f"\n{'database':<12}{'target (issue 15)':<39}{'figure':>9}{'target':>9}")
    for database, results in measured.items():
        for what, figure, target, met in targets(database, results):
            print(f"{database:<12}{what:<39}{figure:>9}{target:>9}  {'met' if met else 'MISSED'}")


if __name__ == "__main__":
    main()
