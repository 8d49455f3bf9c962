"""Database engine and sessions.

SQLite is the embedded default: every connection gets WAL, foreign keys and a
busy timeout. PostgreSQL comes through DATABASE_URL. A request gets one session
(``get_session``); the caller - view, command or job - commits.

Reads and writes are kept apart so that SQLite's single writer is held only
while something is written:

- A GET (or HEAD, OPTIONS) request reads in a read-only transaction: a
  snapshot that never waits for a writer nor makes one wait. Writing in it
  fails (SQLite ``query_only``, PostgreSQL ``READ ONLY``), so a GET that writes
  is found by the tests rather than by a locked database in production.
  (On SQLite the driver statements before its first ORM or Core statement,
  such as the user loader's, read alone: :class:`DriverStatement`.)
- Any other request writes in one transaction that takes the write lock at its
  start (SQLite ``BEGIN IMMEDIATE``): what it read stays true until it commits.
- A view marked :func:`writes_separately` reads in a read-only transaction and
  writes in a short transaction of its own (:func:`write_session`, or
  :func:`write_connection` for Core statements), relying on unique constraints
  for what must not happen twice. The patients' checklist and lab submissions
  do this: they are the most frequent writes, and their reads and rules would
  otherwise hold the single writer.

A reading request reads on one Core connection (:func:`get_connection`); its
ORM session, if it needs one, is bound to that connection. The checklist
submission, the most frequent request, runs on connections alone: an ORM
session's life (begin, commit, close) costs about three times a connection's.
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
import time
from collections import namedtuple
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import Any, Callable, Iterator, Mapping, Sequence

from flask import Flask, current_app, g, has_request_context, request
from sqlalchemy import JSON, DateTime, create_engine, event, exc
from sqlalchemy.engine import Connection, Dialect, Engine, make_url
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.sql.expression import Executable, Select
from sqlalchemy.types import TypeDecorator

SQLITE_BUSY_TIMEOUT_MS = 5000
#: the connection execution option of read-only transactions
READ_ONLY = "alemtrack_read_only"
READING_METHODS = {"GET", "HEAD", "OPTIONS"}
#: connections of each kind (reading, writing) a process keeps between requests
#: (SQLite, :class:`Database`): a sync worker needs one; more would hold pool
#: slots that a burst of threads left behind, which ORM sessions then wait for
KEEP_AT_MOST = 2


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


def make_engine(url: str, **kwargs: Any) -> Engine:
    url = normalise_url(url)
    parsed = make_url(url)
    # A database error's message leaves out the statement's values: it goes to
    # the log, and the values are patients' answers and results.
    kwargs.setdefault("hide_parameters", True)
    if parsed.get_backend_name() == "sqlite":
        path = parsed.database
        lock_path = f"{path}-writelock" if path and path != ":memory:" and not path.startswith("file:") else None
        engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000,
                                                  "factory": SQLiteConnection}, **kwargs)
        event.listen(engine, "connect", lambda dbapi_connection, _record: _sqlite_pragmas(dbapi_connection,
                                                                                          lock_path))
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    return create_engine(url, pool_pre_ping=True, **kwargs)


def read_only(engine: Engine) -> Engine:
    """The same engine (and pool) whose transactions are read-only.

    :class:`Database` gives its reads an engine and pool of their own: on
    SQLite, turning a connection's ``query_only`` on and off expires every
    statement it has prepared, so each one would be compiled again.
    """
    options = {READ_ONLY: True}
    if engine.dialect.name == "postgresql":
        options["postgresql_readonly"] = True
    return engine.execution_options(**options)


class SQLiteConnection(sqlite3.Connection):
    """A pysqlite connection that queues for SQLite's write lock on a file lock.

    SQLite's own busy handler waits for the write lock by sleeping 1, 2, 5 ...
    up to 100 ms between tries, so two processes taking turns at short writes
    spend most of their time asleep (the long tails bench/api.py showed). The
    writers of one database file first take an exclusive ``flock`` on a lock
    file beside it, polling at most a millisecond apart, then ``BEGIN
    IMMEDIATE``; the lock is let go when the transaction ends. SQLite's lock
    stays the real one: a writer that skips the file lock (the sqlite3 shell)
    is still kept out, it is just served by the busy handler.
    """

    lock_path: str | None = None
    _lock_fd: int | None = None
    _holding = False
    _query_only = False

    def take_write_lock(self) -> None:
        if self.lock_path is None:
            return
        if self._lock_fd is None:
            self._lock_fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT_MS / 1000
        pause = 0.00005
        while True:
            try:
                fcntl.flock(self._lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                self._holding = True
                return
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise sqlite3.OperationalError("database is locked (waited for the write lock)") from None
                time.sleep(pause)
                pause = min(pause * 2, 0.001)

    def release_write_lock(self) -> None:
        if self._holding:
            self._holding = False
            fcntl.flock(self._lock_fd, fcntl.LOCK_UN)

    def set_query_only(self, value: bool) -> None:
        if value != self._query_only:
            self.execute(f"PRAGMA query_only={int(value)}")
            self._query_only = value

    def commit(self) -> None:
        try:
            super().commit()
        finally:
            self.release_write_lock()

    def rollback(self) -> None:
        try:
            super().rollback()
        finally:
            self.release_write_lock()

    def close(self) -> None:
        self.release_write_lock()
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None
        super().close()


def _sqlite_pragmas(dbapi_connection: SQLiteConnection, lock_path: str | None) -> None:
    # pysqlite's own transaction handling breaks SAVEPOINTs (SQLAlchemy docs,
    # "Serializable isolation / Savepoints / Transactional DDL"): turn it off and
    # emit BEGIN ourselves.
    dbapi_connection.isolation_level = None
    dbapi_connection.lock_path = lock_path
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _sqlite_begin(connection) -> None:
    # Straight to the driver: a BEGIN needs none of SQLAlchemy's statement handling,
    # and every request begins one or two transactions.
    dbapi_connection: SQLiteConnection = connection.connection.dbapi_connection
    if connection.get_execution_options().get(READ_ONLY):
        # A snapshot (WAL): reads never wait for the writer.
        dbapi_connection.set_query_only(True)
        dbapi_connection.execute("BEGIN")
        return
    # IMMEDIATE takes the write lock at the start: a transaction that read first
    # and then writes could otherwise fail at once with SQLITE_BUSY (its
    # snapshot is stale) instead of waiting its turn.
    dbapi_connection.set_query_only(False)
    dbapi_connection.take_write_lock()
    try:
        dbapi_connection.execute("BEGIN IMMEDIATE")
    except BaseException:
        dbapi_connection.release_write_lock()
        raise


class DriverStatement:
    """A Core statement built once and run straight on the driver's cursor.

    SQLAlchemy spends about 27 µs of bookkeeping on each execution (its
    execution context, result and row objects), where running the same
    statement on the sqlite3 cursor takes 4 µs. The requests that every
    patient makes (the user loader, the checklist submission) run a handful of
    statements each, and that bookkeeping was about a fifth of their cost.

    The SQL and the conversions of every value stay SQLAlchemy's: the
    statement is compiled once per dialect, and each parameter and column goes
    through its type's own bind and result processors (an aware instant, JSON,
    a date on SQLite). It runs inside the transaction of the connection it is
    given (beginning one, as ``execute`` would), or of the session's connection
    after the session's autoflush, and raises SQLAlchemy's exceptions. An
    INSERT names its columns (``column_keys``), since Python-side column
    defaults are not computed here.

    One exception: a SELECT on a SQLite reading connection that is not in a
    transaction reads alone, as its own snapshot, and begins none. The user
    loader of every request and the patient's record of a checklist read
    this way, without the BEGIN and ROLLBACK around them and SQLAlchemy's
    transaction bookkeeping (with the checklist's pydantic schema, a
    checklist's CPU under gunicorn went from 1.05 to 1.00 ms). Nothing they
    need is lost: a view that writes (``writes_separately``) writes in a
    transaction of its own anyway, so what it read may change before it
    writes, and unique constraints decide. An ORM or Core statement of the
    request begins a snapshot as before, and later driver statements join it.
    """

    def __init__(self, statement: Executable, column_keys: Sequence[str] | None = None):
        self.statement = statement
        self.column_keys = list(column_keys) if column_keys is not None else None
        self.columns = list(statement.exported_columns)
        self.row_type = namedtuple("Row", [column.key for column in self.columns]) if self.columns else None
        self.reads = isinstance(statement, Select)
        self._by_dialect: dict[tuple[str, str], _CompiledForDriver] = {}

    def rows(self, on: Session | Connection, params: Mapping[str, Any]) -> list[tuple]:
        """Every row, as named tuples of converted values (none for a statement without columns)."""
        if isinstance(on, Session):
            if on.autoflush:
                on.flush()  # as the ORM's execute would; nothing to do when nothing is pending
            connection = on.connection()
        else:
            connection = on
            if not connection.in_transaction():
                if self.reads and connection.dialect.name == "sqlite" and \
                        connection.get_execution_options().get(READ_ONLY):
                    # Reads alone (class docstring), and read-only as a BEGIN would have made it.
                    connection.connection.dbapi_connection.set_query_only(True)
                else:
                    connection.begin()  # as execute would: BEGIN (IMMEDIATE), a read-only snapshot
        dialect = connection.dialect
        compiled = self._by_dialect.get((dialect.name, dialect.driver))
        if compiled is None:
            compiled = self._by_dialect[dialect.name, dialect.driver] = _CompiledForDriver(self, dialect)
        parameters = compiled.parameters(params)
        cursor = connection.connection.dbapi_connection.cursor()
        try:
            cursor.execute(compiled.sql, parameters)
            if self.row_type is None:
                return []
            processors = compiled.result_processors(cursor.description)
            found = cursor.fetchall()
        except dialect.loaded_dbapi.Error as error:
            # The driver's error as SQLAlchemy raises it (IntegrityError for a
            # unique constraint, and so on), and a lost connection is not reused.
            invalidated = dialect.is_disconnect(error, connection.connection, cursor)
            if invalidated:
                connection.invalidate(error)
            raise exc.DBAPIError.instance(compiled.sql, parameters, error, dialect.loaded_dbapi.Error,
                                          hide_parameters=connection.engine.hide_parameters,
                                          connection_invalidated=invalidated, dialect=dialect) from error
        finally:
            cursor.close()
        make = self.row_type._make
        return [make([value if convert is None else convert(value) for convert, value in zip(processors, row)])
                for row in found]

    def first(self, on: Session | Connection, params: Mapping[str, Any]) -> tuple | None:
        found = self.rows(on, params)
        return found[0] if found else None


class _CompiledForDriver:
    """One dialect's SQL, parameter order and processors of a :class:`DriverStatement`."""

    def __init__(self, owner: DriverStatement, dialect: Dialect):
        compiled = owner.statement.compile(dialect=dialect, column_keys=owner.column_keys)
        if compiled.post_compile_params:
            raise ValueError("a DriverStatement cannot expand parameters at run time (IN lists)")
        self.sql = compiled.string
        self.names = list(compiled.positiontup) if dialect.positional else list(compiled.binds)
        self.positional = dialect.positional
        self.binds = {name: compiled.binds[name] for name in self.names}
        self.bind_processors = {name: bind.type.dialect_impl(dialect).bind_processor(dialect)
                                for name, bind in self.binds.items()}
        self.dialect = dialect
        self.columns = owner.columns
        self._result_processors: list | None = None

    def parameters(self, params: Mapping[str, Any]) -> Sequence[Any] | dict[str, Any]:
        values = []
        for name in self.names:
            if name in params:
                value = params[name]
            elif not self.binds[name].required:
                value = self.binds[name].effective_value
            else:
                raise KeyError(f"the statement needs a value for {name!r}")
            convert = self.bind_processors[name]
            values.append(value if convert is None else convert(value))
        return values if self.positional else dict(zip(self.names, values))

    def result_processors(self, description) -> list:
        # Built on the first run: a processor may depend on the type the driver
        # reports for the column (PostgreSQL's numeric types).
        if self._result_processors is None:
            self._result_processors = [
                column.type.dialect_impl(self.dialect).result_processor(self.dialect, described[1])
                for column, described in zip(self.columns, description)
            ]
        return self._result_processors


class Database:
    """The engines and session factories of one app. Nothing connects until first use.

    ``sessions`` write; ``read_sessions`` only read. A read session's
    ``info["database"]`` leads back here, for the audit log.

    Reads have a pool of their own, whose connections stay read-only for life.
    Sharing one pool, a connection went read-only and back with nearly every
    request, and on SQLite each ``PRAGMA query_only`` expires the connection's
    prepared statements: every statement was compiled anew. The five
    statements of a checklist submission took 170 µs instead of 64.

    Requests take their connections through :meth:`open_reading`,
    :meth:`end_reading`, :meth:`close_reading` and :meth:`writing`, which the
    tests replace to join every connection to the test's transaction.

    On SQLite a request's connections are kept for the next request of the
    process rather than given back to the pool: taking a Core connection from
    the pool and giving it back (checkout, reset, checkin) cost 10-16 µs each,
    about 8% of a checklist submission's CPU under gunicorn. Only a connection
    that ended cleanly is kept (no transaction open, not invalidated, not
    closed), and at most :data:`KEEP_AT_MOST` of each kind. PostgreSQL
    connections go back to the pool, whose pre-ping finds one the server
    dropped; a SQLite file has no server to drop it.
    """

    def __init__(self, url: str):
        self.url = normalise_url(url)
        self.engine = make_engine(self.url)
        self.read_engine = read_only(make_engine(self.url))
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)
        # Connections kept between requests (SQLite only, see above); None: none kept.
        keeps = self.engine.dialect.name == "sqlite"
        self._kept_reading: list[Connection] | None = [] if keeps else None
        self._kept_writing: list[Connection] | None = [] if keeps else None
        # Bound to the request's reading connection (get_session): the request
        # opens and ends that connection's transaction, and only a rollback of
        # the session reaches it.
        self.read_sessions = sessionmaker(self.read_engine, expire_on_commit=False,
                                          join_transaction_mode="rollback_only",
                                          info={"read_only": True, "database": self})

    def dispose(self) -> None:
        """Close every kept and pooled connection (of both pools)."""
        for kept in (self._kept_reading, self._kept_writing):
            while kept:
                kept.pop().close()
        self.read_engine.dispose()
        self.engine.dispose()

    @staticmethod
    def _take(kept: list[Connection] | None, engine: Engine) -> Connection:
        if kept:
            try:
                return kept.pop()
            except IndexError:  # another thread took the last one meanwhile
                pass
        return engine.connect()

    @staticmethod
    def _give_back(kept: list[Connection] | None, connection: Connection) -> None:
        # The driver is asked too: a failure halfway through a BEGIN can leave
        # its transaction open where SQLAlchemy's is not.
        if (kept is None or len(kept) >= KEEP_AT_MOST or connection.closed or connection.invalidated
                or connection.in_transaction() or connection.connection.dbapi_connection.in_transaction):
            connection.close()  # the pool resets it, or finds it gone
        else:
            kept.append(connection)

    def open_reading(self) -> Connection:
        """A connection whose transactions only read (each a snapshot, begun on first use)."""
        return self._take(self._kept_reading, self.read_engine)

    def end_reading(self, connection: Connection) -> None:
        """End the reading connection's snapshot; its next statement begins a new one."""
        if connection.in_transaction():
            connection.rollback()

    def close_reading(self, connection: Connection) -> None:
        try:
            self.end_reading(connection)
        finally:
            self._give_back(self._kept_reading, connection)

    @contextmanager
    def writing(self) -> Iterator[Connection]:
        """A writing transaction: committed at the end of the block, rolled back on an exception."""
        connection = self._take(self._kept_writing, self.engine)
        try:
            with connection.begin():
                yield connection
        finally:
            self._give_back(self._kept_writing, connection)

    def end_read(self, session: Session | None, connection: Connection | None = None) -> None:
        """End a read before a write begins beside it: the read session's
        transaction and its reading connection's snapshot (``connection``, or
        the one the session is bound to).

        On SQLite a reader still open when a write commits pins the write-ahead
        log: the checkpoint cannot copy the new pages back nor start the log
        afresh, so the log grows without end and every later commit attempts a
        checkpoint (and its fsync). What was read stays loaded
        (``expire_on_commit=False``); a later read begins a new snapshot.
        """
        if session is not None:
            session.commit()
            if connection is None and isinstance(session.bind, Connection):
                connection = session.bind
        if connection is not None:
            self.end_reading(connection)

    def writer_beside(self, reading: Session | None) -> Session:
        """A new writing session beside the read-only ``reading``, whose read
        ends first (:meth:`end_read`)."""
        self.end_read(reading)
        return self.sessions()

    def init_app(self, app: Flask) -> None:
        app.extensions["alemtrack_db"] = self
        app.teardown_appcontext(_close_session)


def database(app: Flask | None = None) -> Database:
    return (app or current_app).extensions["alemtrack_db"]


def writes_separately(view: Callable) -> Callable:
    """Mark a state-changing view that reads in a read-only session and writes
    in a short :func:`write_session` of its own (module docstring)."""
    view.alemtrack_writes_separately = True
    return view


def _request_reads_only() -> bool:
    if not has_request_context():
        return False  # commands and clock jobs
    reads_only = g.get("db_reads_only")
    if reads_only is None:  # decided once per request: every statement's connection asks
        view = current_app.view_functions.get(request.endpoint) if request.endpoint else None
        reads_only = g.db_reads_only = (request.method in READING_METHODS
                                        or getattr(view, "alemtrack_writes_separately", False))
    return reads_only


def get_connection() -> Connection:
    """The connection the request's (or command's) Core and driver statements run on.

    The read-only connection of a reading request (a GET, or a view marked
    :func:`writes_separately`), opened on first use; otherwise the writing
    session's connection, after a flush of what that session has pending.
    """
    if not _request_reads_only():
        session = get_session()
        session.flush()
        return session.connection()
    if "db_reading" not in g:
        g.db_reading = database().open_reading()
    return g.db_reading


def get_session() -> Session:
    """The request's (or command's) session, opened on first use: read-only for
    GET requests and views marked :func:`writes_separately`, on the request's
    reading connection (:func:`get_connection`)."""
    if "db_session" not in g:
        db = database()
        g.db_session = db.read_sessions(bind=get_connection()) if _request_reads_only() else db.sessions()
    return g.db_session


def _end_request_read() -> None:
    database().end_read(g.get("db_session"), g.get("db_reading"))


def write_session() -> Session:
    """A new writing session beside the request's read, whose read ends first
    (why: :meth:`Database.end_read`; a context manager)."""
    _end_request_read()
    return database().sessions()


@contextmanager
def write_connection() -> Iterator[Connection]:
    """:func:`write_session` for Core statements: a writing transaction beside
    the request's read, whose read ends first. The block owns the transaction:
    it commits when the block ends and rolls back on an exception."""
    _end_request_read()
    with database().writing() as connection:
        yield connection


def _close_session(_exc: BaseException | None) -> None:
    session = g.pop("db_session", None)
    if session is not None:
        session.close()  # rolls back whatever the caller did not commit
    reading = g.pop("db_reading", None)
    if reading is not None:
        database().close_reading(reading)
