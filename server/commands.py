"""Server commands of API.md section 3: ``flask --app server <command>`` or ``alemtrack <command>``."""

from __future__ import annotations

import sys

import click
from flask import Flask, current_app
from sqlalchemy import select

from .db import database, get_session
from .models import Clinic, User
from .services import accounts

ROLES = ("nurse", "admin")


def register_commands(app: Flask) -> None:
    for command in (init_db, seed_demo, create_clinic, create_user):
        app.cli.add_command(command)


@click.command("init-db")
def init_db() -> None:
    """Create the database, or migrate it to the latest schema."""
    from .migrations import upgrade
    db = database()
    if db.engine.url.get_backend_name() == "sqlite" and db.engine.url.database:
        from pathlib import Path
        Path(db.engine.url.database).parent.mkdir(parents=True, exist_ok=True)
    upgrade(db.engine)
    click.echo(f"database ready: {db.engine.url.render_as_string(hide_password=True)}")


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
    from .demo import seed
    logins = seed(get_session(), current_app.config)
    get_session().commit()
    click.echo("Demo clinic ready. Logins (password for all: %s):" % logins.pop("password"))
    for role, email in logins.items():
        click.echo(f"  {role:<28} {email}")
