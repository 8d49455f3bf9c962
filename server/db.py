"""The database: one engine, one session per request, the models' Base.

The rules:

- A request (or command, or clock job) gets one session on first use,
  :func:`get_session`; the caller commits, and the session is closed (rolled
  back if uncommitted) when the request ends.
- A GET, HEAD or OPTIONS request reads only: its session refuses to flush or
  execute anything but a SELECT, and the database transaction is read-only
  too on PostgreSQL.
- A write that a reading request must make (the audit of who read a record,
  a calendar feed's last fetch) goes through :func:`separate_transaction`,
  the one helper for a transaction of its own: it commits when its block ends
  and rolls back when the block raises.
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import Any, Iterator

from flask import Flask, current_app, g, has_request_context, request
from sqlalchemy import JSON, DateTime, create_engine, event
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.orm import DeclarativeBase, ORMExecuteState, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

SQLITE_BUSY_TIMEOUT_MS = 5000
READING_METHODS = {"GET", "HEAD", "OPTIONS"}
#: execution option of a read-only engine (SQLite has no READ ONLY transaction of its own)
READ_ONLY = "alemtrack_read_only"


class UTCDateTime(TypeDecorator):
    """An aware UTC instant on every backend (SQLite keeps no zone of its own)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: instants must be aware (server.timeutil.utcnow)")
        value = value.astimezone(timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UTCDateTime, dict[str, Any]: JSON, list[Any]: JSON}


def normalise_url(url: str) -> str:
    """postgresql:// URLs use psycopg 3 (the driver the project installs)."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://"):]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return url


def make_engine(url: str, pool_size: int = 5, **kwargs: Any) -> Engine:
    url = normalise_url(url)
    # A database error's message leaves out the statement's values: it goes to
    # the log, and the values are patients' answers and results.
    kwargs.setdefault("hide_parameters", True)
    if make_url(url).get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True, pool_size=pool_size, **kwargs)
    engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}, **kwargs)
    event.listen(engine, "do_connect", _sqlite_private_file)
    event.listen(engine, "connect", _sqlite_connect)
    event.listen(engine, "begin", _sqlite_begin)
    return engine


# SQLite as a good embedded default. pysqlite's own transaction handling breaks
# SAVEPOINTs, so it is turned off and BEGIN is emitted here (SQLAlchemy's
# documented workaround, "Serializable isolation / Savepoints / Transactional DDL").

def _sqlite_private_file(_dialect, _record, cargs, _cparams) -> None:
    # Health data: a new database file is the owner's alone; SQLite gives its
    # WAL and shared-memory files the database file's mode.
    path = cargs[0] if cargs else ""
    if path not in ("", ":memory:") and not path.startswith("file:") and not os.path.exists(path):
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))


def _sqlite_connect(sqlite_connection, _record) -> None:
    sqlite_connection.isolation_level = None
    cursor = sqlite_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")  # readers never wait for the writer
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA synchronous=NORMAL")  # durable at checkpoints; WAL keeps it consistent
    cursor.close()


def _sqlite_begin(connection: Connection) -> None:
    # A writer takes the write lock at its start (IMMEDIATE): a transaction that
    # read first would otherwise fail with SQLITE_BUSY when it comes to write,
    # instead of waiting its turn.
    reads_only = connection.get_execution_options().get(READ_ONLY, False)
    connection.exec_driver_sql("BEGIN" if reads_only else "BEGIN IMMEDIATE")


def _refuse_writes(state: ORMExecuteState) -> None:
    if not state.is_select:
        raise ReadOnlySessionError("a reading request (GET, HEAD, OPTIONS) executed a write")


def _refuse_flush(session: Session, _context, _instances) -> None:
    if session.new or session.dirty or session.deleted:
        raise ReadOnlySessionError("a reading request (GET, HEAD, OPTIONS) tried to write")


class ReadOnlySessionError(RuntimeError):
    """A reading request tried to write: a bug, which the tests find."""


class Database:
    """One app's engine and session factories. Nothing connects until first use."""

    def __init__(self, url: str, pool_size: int = 5):
        self.engine = make_engine(url, pool_size)
        reading = self.engine.execution_options(
            **{READ_ONLY: True}, **({"postgresql_readonly": True} if self.engine.dialect.name == "postgresql"
                                   else {}))
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)
        self.read_sessions = sessionmaker(reading, expire_on_commit=False, info={"read_only": True})
        event.listen(self.read_sessions, "do_orm_execute", _refuse_writes)
        event.listen(self.read_sessions, "before_flush", _refuse_flush)

    def join(self, connection: Connection) -> None:
        """Bind every session to ``connection`` and its transaction (the tests'
        per-test rollback, SQLAlchemy's "Joining a Session into an External
        Transaction"): a writing session works in a savepoint of its own; a
        reading one neither commits nor releases anything."""
        self.sessions.configure(bind=connection, join_transaction_mode="create_savepoint")
        self.read_sessions.configure(bind=connection, join_transaction_mode="rollback_only")

    def dispose(self) -> None:
        self.engine.dispose()

    def init_app(self, app: Flask) -> None:
        app.extensions["alemtrack_db"] = self
        app.teardown_appcontext(_close_session)


def database(app: Flask | None = None) -> Database:
    return (app or current_app).extensions["alemtrack_db"]


def get_session() -> Session:
    """The request's (or command's) session, opened on first use; read-only
    for GET, HEAD and OPTIONS requests. The caller commits."""
    if "db_session" not in g:
        db = database()
        reads_only = has_request_context() and request.method in READING_METHODS
        g.db_session = db.read_sessions() if reads_only else db.sessions()
    return g.db_session


@contextmanager
def separate_transaction() -> Iterator[Session]:
    """A writing session of its own, beside the request's: committed when the
    block ends, rolled back if it raises. For the few writes a reading request
    makes, which must not wait for the request's own outcome."""
    with database().sessions() as session, session.begin():
        yield session


def _close_session(_exc: BaseException | None) -> None:
    session = g.pop("db_session", None)
    if session is not None:
        session.close()  # rolls back whatever the caller did not commit
