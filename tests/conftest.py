"""Shared test set-up.

Hypothesis runs without a deadline: a timing limit inside a test is a timed
assertion, which this project keeps out of its suite (bench/ measures speed).

Database tests run on SQLite and, when ALEMTRACK_TEST_POSTGRES_URL is set (as
.ci/run sets it), on PostgreSQL too; a PostgreSQL that cannot be reached then
fails the run instead of skipping. Each test runs inside a transaction that is
rolled back (SQLAlchemy's "joining a session into an external transaction").
"""

from __future__ import annotations

import os
import sys
from datetime import date, datetime, time, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, settings
from sqlalchemy import text

settings.register_profile(
    "alemtrack",
    deadline=None,
    max_examples=150,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
settings.load_profile("alemtrack")

#: under pytest-xdist each worker has a PostgreSQL database of its own, named
#: after the configured one (the fixtures drop and re-create schemas in it)
_WORKER = os.environ.get("PYTEST_XDIST_WORKER")
_CONFIGURED_POSTGRES_URL = os.environ.get("ALEMTRACK_TEST_POSTGRES_URL")
POSTGRES_URL = (f"{_CONFIGURED_POSTGRES_URL.split('?')[0]}_{_WORKER}" if _CONFIGURED_POSTGRES_URL and _WORKER
                else _CONFIGURED_POSTGRES_URL)
BACKENDS = ["sqlite"] + (["postgresql"] if POSTGRES_URL else [])


def pytest_configure(config):
    if POSTGRES_URL and POSTGRES_URL != _CONFIGURED_POSTGRES_URL:
        from server.db import make_engine

        name = POSTGRES_URL.rsplit("/", 1)[1]
        admin = make_engine(_CONFIGURED_POSTGRES_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:  # fails loudly when PostgreSQL is unreachable
            if connection.scalar(text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}) is None:
                connection.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()

#: cheap argon2id for tests (the algorithm is the same; production cost is config)
TEST_CONFIG = {
    "SECRET_KEY": "test-secret",
    "ENV_NAME": "testing",
    "SESSION_COOKIE_SECURE": False,
    "ARGON2_TIME_COST": 1,
    "ARGON2_MEMORY_KIB": 1024,
}


@pytest.fixture(scope="session", params=BACKENDS)
def db_engine(request, tmp_path_factory):
    """A migrated database (Alembic, as init-db does) for the whole session."""
    from server.db import make_engine
    from server.migrations import upgrade

    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite'}"
        engine = make_engine(url)
    else:
        engine = make_engine(POSTGRES_URL)
        with engine.begin() as connection:  # fails loudly when PostgreSQL is unreachable
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
    upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def connection(db_engine):
    connection = db_engine.connect()
    transaction = connection.begin()
    yield connection
    transaction.rollback()
    connection.close()


@pytest.fixture
def app(db_engine, connection, tmp_path):
    """The app with every session joined to the test's transaction (and an empty instance folder)."""
    from server import create_app

    app = create_app({**TEST_CONFIG, "DATABASE_URL": db_engine.url.render_as_string(hide_password=False),
                      "INSTANCE_DIR": str(tmp_path)})
    join_test_transaction(app, connection)
    return app


def join_test_transaction(app, connection) -> None:
    """Every session of ``app`` joins the test's transaction (server.db.Database.join)."""
    from server.db import database

    database(app).join(connection)


@pytest.fixture
def db(app):
    """A session on the test's transaction, for setting up and checking rows."""
    from server.db import database

    session = database(app).sessions()
    yield session
    session.close()


@pytest.fixture
def frozen_time(monkeypatch):
    """``frozen_time(instant_or_date)`` freezes server.timeutil.utcnow everywhere the server imported it.

    A date means 10:00 that day in Europe/Madrid (the test world's time zone).
    Returns the frozen instant, in UTC; call it again to move the clock.
    """
    import server.timeutil as timeutil

    original = timeutil.utcnow
    holders = [module for name, module in list(sys.modules.items())
               if (name == "server" or name.startswith("server.")) and getattr(module, "utcnow", None) is original]
    assert timeutil in holders and len(holders) > 3

    def freeze(when):
        if isinstance(when, date) and not isinstance(when, datetime):
            when = datetime.combine(when, time(10, 0), ZoneInfo("Europe/Madrid"))
        instant = when.astimezone(timezone.utc)
        for module in holders:
            monkeypatch.setattr(module, "utcnow", lambda: instant)
        return instant

    return freeze
