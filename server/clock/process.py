"""The clock process: one short job a minute (APScheduler), in one or more processes.

A tick, as of an instant ``now``:

1. plans reminder rows for patients whose plan is stale or runs out within a day;
2. handles due reminder rows (skip, flag, or make push deliveries);
3. pushes urgent flags still unacknowledged after urgent_ack_hours again;
4. sends due deliveries, several at a time, recording each answer as it comes;
5. deletes history older than HISTORY_RETENTION_DAYS, a few batches a tick.

Each step works in batches, each batch its own transaction, so a crash loses
at most the batch in hand, and that batch is taken up again (rows stay pending,
or "sending" rows are retried after a while). Nothing here runs in the web
workers.

Several clock processes, on one machine (``clock --processes N``) or several,
share the work: each runs its own tick, and every batch is claimed with
``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so two processes never take the same
row (SQLite has one writer: they take turns). Old history is deleted in
batches by the same tick (``reminders.delete_history``).

One bad row never stops the service for others (docs/decisions.md): a
patient that cannot be planned, a reminder that cannot be handled and a
message that cannot go are each recorded on their row, and the tick goes on.
A step that fails as a whole (the database, a bug in every row) is logged and
the other steps still run, so urgent flags go out whatever planning does;
then the tick raises TickFailed, and ``clock --once`` exits non-zero.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import multiprocessing.connection
import signal
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Mapping

from flask import Flask

from ..db import database
from ..engine.content.model import Content
from ..errors import log_unexpected
from ..services import reminders
from .push import PushClient, Pusher, PushResult, load_private_key

log = logging.getLogger(__name__)
TICK_SECONDS = 60
#: batches of old history deleted per tick at most: a backlog goes over many ticks, never delaying one
HISTORY_BATCHES_PER_TICK = 10


@dataclass
class TickReport:
    planned_patients: int = 0
    planned_rows: int = 0
    #: patients whose planning failed this tick (the reason is on their rows)
    plan_failures: int = 0
    reminders_handled: int = 0
    escalations: int = 0
    pushes: dict[str, int] = field(default_factory=dict)
    #: old deliveries and reminder rows deleted (HISTORY_RETENTION_DAYS)
    deleted_deliveries: int = 0
    deleted_reminders: int = 0
    #: steps that failed as a whole ("planning", "reminders", "escalations", "sending", "history")
    failed_steps: list[str] = field(default_factory=list)
    #: seconds each step took, by name (for the log and bench/clock.py)
    seconds: dict[str, float] = field(default_factory=dict)

    def __str__(self) -> str:
        pushes = ", ".join(f"{k} {v}" for k, v in sorted(self.pushes.items())) or "none"
        text = (f"planned {self.planned_rows} reminders for {self.planned_patients} patients; "
                f"handled {self.reminders_handled} due reminders; {self.escalations} escalations; pushes: {pushes}")
        if self.deleted_deliveries or self.deleted_reminders:
            text += (f"; deleted {self.deleted_deliveries} old deliveries and "
                     f"{self.deleted_reminders} old reminder rows")
        if self.plan_failures:
            text += f"; {self.plan_failures} patients could not be planned"
        if self.failed_steps:
            text += f"; failed: {', '.join(self.failed_steps)}"
        return text


class TickFailed(RuntimeError):
    """A step of the tick failed as a whole; the other steps ran (``report``)."""

    def __init__(self, report: TickReport):
        super().__init__(f"tick steps failed: {', '.join(report.failed_steps)} ({report})")
        self.report = report


def make_pusher(app: Flask) -> Pusher | None:
    key = load_private_key(app.config)
    if key is None:
        log.error("no VAPID key: run 'flask --app server vapid-keys'; pushes wait until then")
        return None
    return Pusher(key, app.config["VAPID_SUBJECT"], app.config["PUSH_TIMEOUT_SECONDS"],
                  app.config["PUSH_ALLOWED_ORIGINS"])


def tick(app: Flask, now: datetime, pusher: Pusher | None = None, plan_limit: int | None = None) -> TickReport:
    """One tick as of ``now`` (aware UTC). ``plan_limit`` caps patients planned (None: all due).

    Raises TickFailed after running every step when one of them failed as a
    whole; failures of single rows are recorded on them and counted in the report.
    """
    content: Content = app.extensions["alemtrack_content"]
    sessions = database(app).sessions
    batch = app.config["CLOCK_BATCH"]
    report = TickReport()

    def plan() -> None:
        plan_patients(app, now, report, plan_limit)

    def handle_reminders() -> None:
        while True:
            with sessions() as session:
                handled = reminders.handle_due_reminders(session, now, content, batch)
                session.commit()
            report.reminders_handled += handled
            if handled < batch:
                break

    def escalate() -> None:
        with sessions() as session:
            report.escalations = reminders.escalate_unacknowledged(session, now, content)
            session.commit()

    def send() -> None:
        nonlocal pusher
        pusher = pusher if pusher is not None else make_pusher(app)
        if pusher is not None:
            send_due(app, pusher, now, report)

    def delete_history() -> None:
        before = now - timedelta(days=app.config["HISTORY_RETENTION_DAYS"])
        for _ in range(HISTORY_BATCHES_PER_TICK):
            with sessions() as session:
                deleted = reminders.delete_history(session, before, batch)
                session.commit()
            report.deleted_deliveries += deleted.deliveries
            report.deleted_reminders += deleted.reminders
            if deleted.deliveries < batch and deleted.reminders < batch:
                break

    for name, step in (("planning", plan), ("reminders", handle_reminders), ("escalations", escalate),
                       ("sending", send), ("history", delete_history)):
        started = time.perf_counter()
        try:
            step()
        except Exception as error:  # a step that fails as a whole: the others still run
            log_unexpected(log, f"tick {now.isoformat(timespec='seconds')}: {name} failed", error)
            report.failed_steps.append(name)
        report.seconds[name] = time.perf_counter() - started
    if report.failed_steps:
        raise TickFailed(report)
    return report


def plan_patients(app: Flask, now: datetime, report: TickReport, limit: int | None = None) -> None:
    """The tick's first step: plan the patients whose plan is stale or runs out
    within a day, a batch per transaction, at most ``limit`` (None: all due)."""
    content: Content = app.extensions["alemtrack_content"]
    sessions = database(app).sessions
    batch = app.config["CLOCK_BATCH"]
    horizon = timedelta(days=app.config["REMINDER_HORIZON_DAYS"])
    while limit is None or report.planned_patients < limit:
        with sessions() as session:
            size = batch if limit is None else min(batch, limit - report.planned_patients)
            patients = reminders.patients_to_plan(session, now, horizon, size)
            planned = reminders.sync_patients(session, patients, now, content, horizon)
            session.commit()
        report.planned_rows += planned.rows
        report.plan_failures += planned.failed
        report.planned_patients += len(patients)
        if len(patients) < size:
            break


def send_due(app: Flask, pusher: Pusher, now: datetime, report: TickReport) -> None:
    """Send claimed deliveries, at most PUSH_IN_FLIGHT at a time."""
    asyncio.run(_send_claimed(app, pusher, now, report))


async def _send_claimed(app: Flask, pusher: Pusher, now: datetime, report: TickReport) -> None:
    """Claim deliveries in batches and send them."""
    sessions = database(app).sessions
    batch = app.config["CLOCK_BATCH"]
    width = app.config["PUSH_IN_FLIGHT"]
    async with pusher.client(width) as http:
        while True:
            with sessions() as session:
                outgoing = reminders.claim_deliveries(session, now, batch)
                session.commit()  # claimed before the first byte leaves
            if not outgoing:
                return
            with sessions() as session:
                await _send_batch(session, http, pusher, outgoing, now, width, report)
            if len(outgoing) < batch:
                return


async def _send_one(client: PushClient, pusher: Pusher, item: reminders.Outgoing, now: datetime) -> PushResult:
    """One message's result, whatever happens to it: an error nobody expected is
    this message's failure (logged), not the batch's."""
    try:
        return await pusher.send(client, item.subscription, item.payload, ttl=item.ttl, urgency=item.urgency,
                                 topic=item.topic, now=now)
    except Exception as error:  # noqa: BLE001 - recorded on the delivery; the batch goes on
        log_unexpected(log, f"delivery {item.delivery_id} could not be sent", error)
        return PushResult("failed", reason=f"unexpected error ({type(error).__name__})"[:80])


async def _send_batch(session, http: PushClient, pusher: Pusher, outgoing: list[reminders.Outgoing],
                      now: datetime, width: int, report: TickReport) -> None:
    """Send claimed deliveries, at most ``width`` at a time, recording the answers as they come.

    Answers are written in a thread of their own while further messages go:
    one transaction for all the answers that came in while the previous one
    was being written. A message starts only while fewer than 2 x ``width``
    are in flight or answered and not yet recorded, so a clock killed
    mid-batch leaves at most that many messages sent but not recorded (they
    go out again, with the same Topic and tag, which devices collapse into
    one notification).
    """
    waiting = iter(outgoing)
    running: dict[asyncio.Task, reminders.Outgoing] = {}
    answered: list[tuple[reminders.Outgoing, PushResult]] = []
    recording: asyncio.Future | None = None
    being_recorded: list[tuple[reminders.Outgoing, PushResult]] = []
    loop = asyncio.get_running_loop()

    def record(answers: list[tuple[reminders.Outgoing, PushResult]]) -> None:
        reminders.record_results(session, answers, now)
        session.commit()

    def start_more() -> None:
        while len(running) < width and len(running) + len(answered) + len(being_recorded) < 2 * width:
            item = next(waiting, None)
            if item is None:
                return
            running[asyncio.create_task(_send_one(http, pusher, item, now))] = item

    # One thread for the batch: the session's connection stays in the thread that opened it.
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="clock-record") as recorder:
        try:
            start_more()
            while running or answered or recording is not None:
                done, _ = await asyncio.wait({*running, *([recording] if recording else [])},
                                             return_when=asyncio.FIRST_COMPLETED)
                if recording in done:
                    recording.result()  # a database error ends the step
                    for _, result in being_recorded:
                        report.pushes[result.outcome] = report.pushes.get(result.outcome, 0) + 1
                    recording, being_recorded = None, []
                answered += [(running.pop(task), task.result()) for task in done if task in running]
                if recording is None and answered:
                    being_recorded, answered = answered, []
                    recording = loop.run_in_executor(recorder, record, being_recorded)
                start_more()
        finally:
            if recording is not None:
                await asyncio.wait([recording])
            await loop.run_in_executor(recorder, session.close)  # where its connection was opened


def run(app: Flask) -> None:
    """Run forever: a tick now and then every minute (BlockingScheduler)."""
    from apscheduler.schedulers.blocking import BlockingScheduler

    from ..timeutil import utcnow

    pusher = make_pusher(app)

    def job() -> None:
        now = utcnow()
        try:
            with app.app_context():  # the scheduler's own thread
                report = tick(app, now, pusher)
            log.info("tick %s: %s", now.isoformat(timespec="seconds"), report)
        except TickFailed as failed:  # its steps are logged already
            log.error("tick %s: %s", now.isoformat(timespec="seconds"), failed.report)
        except Exception as error:  # a failed tick must not stop the next one
            log_unexpected(log, "tick failed", error)

    scheduler = BlockingScheduler(timezone="UTC")
    # One job with a stable id; a tick that overruns is not doubled (max_instances)
    # and missed runs collapse into one (coalesce).
    scheduler.add_job(job, "interval", seconds=TICK_SECONDS, id="tick", replace_existing=True,
                      max_instances=1, coalesce=True, next_run_time=utcnow())
    scheduler.start()


# --- several processes ---------------------------------------------------------------


@dataclass
class ProcessTick:
    """One process's tick: its report, whether a step failed, and when it ran (time.time())."""

    report: TickReport
    failed: bool
    started: float
    finished: float


def _tick_in_child(conn, now: datetime, overrides: Mapping[str, Any] | None) -> None:
    from .. import create_app

    app = create_app(overrides)
    started = time.time()
    try:
        with app.app_context():
            report, failed = tick(app, now), False
    except TickFailed as error:  # its steps are logged already
        report, failed = error.report, True
    conn.send(ProcessTick(report, failed, started, time.time()))
    conn.close()


def tick_in_processes(now: datetime, processes: int,
                      overrides: Mapping[str, Any] | None = None) -> list[ProcessTick]:
    """``processes`` ticks as of ``now`` side by side, each in a new process with
    an app of its own (``create_app(overrides)``); returns their results.

    Raises RuntimeError if a process ended without a result (killed, crashed).
    """
    context = multiprocessing.get_context("spawn")  # a fresh interpreter: no inherited connections
    children, pipes = [], []
    for _ in range(processes):
        receiving, sending = context.Pipe(duplex=False)
        child = context.Process(target=_tick_in_child, args=(sending, now, overrides))
        child.start()
        sending.close()
        children.append(child)
        pipes.append(receiving)
    try:
        results = []
        for receiving in pipes:
            try:
                results.append(receiving.recv())
            except EOFError:
                raise RuntimeError("a clock process ended without finishing its tick") from None
        return results
    finally:
        for child in children:
            child.join()


def _run_in_child(overrides: Mapping[str, Any] | None) -> None:
    from .. import create_app

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the parent, which stops every child
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(process)d %(levelname)s %(name)s: %(message)s")
    run(create_app(overrides))


def run_processes(processes: int, overrides: Mapping[str, Any] | None = None) -> None:
    """Run ``processes`` clocks (``run``) side by side until SIGTERM or SIGINT, which stop them all.

    If one of them stops on its own, the others are stopped too and this
    raises RuntimeError, so that the supervisor (systemd, a Procfile runner)
    restarts the whole set.
    """
    context = multiprocessing.get_context("spawn")
    children = [context.Process(target=_run_in_child, args=(overrides,), name=f"clock-{k + 1}")
                for k in range(processes)]

    def stop(*_: Any) -> None:
        for child in children:
            if child.is_alive():
                child.terminate()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    for child in children:
        child.start()
    try:
        while all(child.is_alive() for child in children):
            multiprocessing.connection.wait([child.sentinel for child in children])
    finally:
        stop()
        for child in children:
            child.join()
    if any(child.exitcode not in (0, -signal.SIGTERM) for child in children):
        raise RuntimeError("a clock process stopped: " + ", ".join(
            f"{child.name} exit code {child.exitcode}" for child in children))
