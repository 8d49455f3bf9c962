"""Server commands (README, "The server"): ``flask --app server <command>`` or ``alemtrack <command>``."""

from __future__ import annotations

import sys

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from sqlalchemy import select

from .db import database, get_session
from .models import Clinic, User
from .services import accounts

ROLES = ("nurse", "admin")


def register_commands(app: Flask) -> None:
    for command in (init_db, seed_demo, create_clinic, create_user, clock, vapid_keys, refresh_figures):
        app.cli.add_command(command)


@click.command("init-db")
def init_db() -> None:
    """Create the database, or migrate it to the latest schema."""
    from .migrations import upgrade
    db = database()
    if db.engine.url.get_backend_name() == "sqlite" and db.engine.url.database:
        _upgrade_private_file(db.engine, upgrade)
    else:
        upgrade(db.engine)
    click.echo(f"database ready: {db.engine.url.render_as_string(hide_password=True)}")


def _upgrade_private_file(engine, upgrade) -> None:
    """Migrate a SQLite database whose file only its owner may read or write (0600,
    its folder 0700 when made here): it holds patients' health data. SQLite gives
    the WAL and SHM files it makes later the database file's own mode."""
    import os
    from pathlib import Path

    path = Path(engine.url.database)
    if not path.parent.exists():
        path.parent.mkdir(mode=0o700, parents=True)
    previous = os.umask(0o077)  # a command, one thread: the files made while migrating are private
    try:
        upgrade(engine)
    finally:
        os.umask(previous)
    for suffix in ("", "-wal", "-shm", "-journal"):  # a file made before this rule
        made = path.with_name(path.name + suffix)
        if made.exists():
            made.chmod(0o600)


@click.command("create-clinic")
@click.option("--name", required=True)
@click.option("--phone", required=True, help="shown with every piece of advice")
@click.option("--emergency-number", required=True, help="the country's emergency number, e.g. 112")
def create_clinic(name: str, phone: str, emergency_number: str) -> None:
    """Create a clinic; prints its id."""
    session = get_session()
    clinic = Clinic(name=name.strip(), phone=phone.strip(), emergency_number=emergency_number.strip(), settings={})
    session.add(clinic)
    session.commit()
    click.echo(clinic.id)


@click.command("create-user")
@click.option("--clinic", "clinic_id", required=True, type=int)
@click.option("--role", required=True, type=click.Choice(ROLES))
@click.option("--email", required=True)
@click.option("--password", help="read from standard input when not given")
def create_user(clinic_id: int, role: str, email: str, password: str | None) -> None:
    """Create a nurse or clinic admin account."""
    session = get_session()
    if session.get(Clinic, clinic_id) is None:
        raise click.UsageError(f"no clinic with id {clinic_id}")
    if password is None:
        password = sys.stdin.readline().rstrip("\n")
    if len(password) < accounts.MIN_PASSWORD:
        raise click.UsageError(f"the password needs at least {accounts.MIN_PASSWORD} characters")
    email = accounts.normalise_email(email)
    if session.scalar(select(User.id).where(User.email == email)) is not None:
        raise click.UsageError(f"{email} already has an account")
    user = User(email=email, role=role, clinic_id=clinic_id,
                password_hash=accounts.hasher(current_app.config).hash(password))
    session.add(user)
    session.commit()
    click.echo(user.id)


@click.command("seed-demo")
def seed_demo() -> None:
    """A demo clinic with staff, a dozen patients and a family member; prints the logins."""
    from .services.demo import seed
    logins = seed(get_session(), current_app.config)
    get_session().commit()
    click.echo("Demo clinic ready. Logins (password for all: %s):" % logins.pop("password"))
    for role, email in logins.items():
        click.echo(f"  {role:<28} {email}")


@click.command("clock")
@click.option("--once", is_flag=True, help="run a single tick and exit")
@click.option("--now", "now_text", metavar="INSTANT",
              help="with --once: tick as if it were this ISO 8601 instant with offset")
@click.option("--processes", type=click.IntRange(1, 64), default=1, show_default=True,
              help="clock processes side by side, sharing the work (docs/scaling.md)")
def clock(once: bool, now_text: str | None, processes: int) -> None:
    """Run the clock (the Procfile's clock line): one tick a minute in each of its processes."""
    import logging

    from .clock import process as clock_process
    from .timeutil import utcnow

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if now_text is not None and not once:
        raise click.UsageError("--now goes with --once")
    if not once:
        if processes > 1:
            clock_process.run_processes(processes)
            return
        # The app itself, not the proxy: the scheduler runs its job in a thread of
        # its own, where current_app is unbound.
        clock_process.run(current_app._get_current_object())
        return
    now = utcnow()
    if now_text is not None:
        from datetime import datetime
        try:
            now = datetime.fromisoformat(now_text)
        except ValueError:
            raise click.UsageError(f"--now: {now_text!r} is not an ISO 8601 instant") from None
        if now.tzinfo is None:
            raise click.UsageError("--now needs an offset, e.g. 2026-05-01T09:05:00+02:00")
        from datetime import timezone
        now = now.astimezone(timezone.utc)
    if processes == 1:
        report = clock_process.tick(current_app, now)
        click.echo(f"tick {now.isoformat(timespec='seconds')}: {report}")
        return
    # Each process builds its app from the environment, as this command did.
    results = clock_process.tick_in_processes(now, processes)
    for number, result in enumerate(results, 1):
        click.echo(f"tick {now.isoformat(timespec='seconds')} process {number}: {result.report}")
    if any(result.failed for result in results):
        raise click.ClickException("a step failed in at least one clock process")


@click.command("vapid-keys")
@click.option("--force", is_flag=True, help="replace an existing key pair (every device must subscribe again)")
def vapid_keys(force: bool) -> None:
    """Generate the VAPID key pair for Web Push into the instance folder."""
    from pathlib import Path

    from .clock.push import application_server_key, generate_keys
    folder = Path(current_app.config["INSTANCE_DIR"])
    existing = folder / "vapid_private.pem"
    if existing.exists() and not force:
        click.echo(f"keeping the existing key pair ({existing}); public key:")
        click.echo(application_server_key(existing.read_text()))
        return
    click.echo(generate_keys(folder))


@click.command("refresh-figures")
@with_appcontext
def refresh_figures() -> None:
    """Compute the patient list's adherence figures that are missing or out of date,
    every clinic's (after a deploy, and each night: a listing computes only a few)."""
    from .services import patient_list
    from .timeutil import utcnow

    session = get_session()
    for clinic_id in session.scalars(select(Clinic.id).order_by(Clinic.id)).all():
        computed, _ = patient_list.refresh_figures(session, clinic_id, utcnow(), current_app.extensions[
            "alemtrack_content"])
        session.commit()
        click.echo(f"clinic {clinic_id}: {computed} patients' figures computed")
