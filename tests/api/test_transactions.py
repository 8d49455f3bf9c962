"""How requests use the database (server/db.py): read-only sessions, the SQLite
writers' lock file, and submissions that read first and write in a short
transaction of their own, with the unique constraints deciding between races.
"""

from __future__ import annotations

import fcntl
import os
import uuid

import pytest
from sqlalchemy import event, func, insert, select
from sqlalchemy.exc import DBAPIError

from server.db import KEEP_AT_MOST, READ_ONLY, Database, make_engine
from server.engine.protocol import default_content
from server.errors import HTTPError
from server.models import Checklist, Clinic, LabSubmission, Patient
from server.services import checklists, labs, patients
from server.timeutil import utcnow

from .conftest import new_client_id, today_madrid

CONTENT = default_content()


def test_a_read_only_session_cannot_write_and_a_writer_beside_it_can(db_engine):
    """Production sessions, not the tests' joined ones: on both backends.

    Reads and writes have pools of their own, so a connection never switches
    between the two (on SQLite that would expire its prepared statements)."""
    database = Database(db_engine.url.render_as_string(hide_password=False))
    clinic = {"name": "Nowhere", "phone": "+34 900", "emergency_number": "112", "settings": {}, "created_at": utcnow()}
    try:
        with database.read_sessions() as reader:
            reader.execute(select(func.count()).select_from(Clinic))
            used = reader.connection().connection.dbapi_connection
            with pytest.raises(DBAPIError):
                reader.execute(insert(Clinic).values(**clinic))
        with database.sessions() as writer:
            assert writer.connection().connection.dbapi_connection is not used
            writer.execute(insert(Clinic).values(**clinic))
            writer.rollback()
        with database.read_sessions() as reader:
            # The read pool hands its connection back, read-only still.
            assert reader.connection().connection.dbapi_connection is used
            with pytest.raises(DBAPIError):
                reader.execute(insert(Clinic).values(**clinic))
    finally:
        database.dispose()


class _Refused(Exception):
    pass


def test_a_submission_reads_on_one_connection_and_ends_that_read_before_writing(db_engine):
    """Production connections, not the tests' joined ones: on both backends.

    The request's ORM session reads on its reading connection; the Core write
    (``write_connection``) ends that read first, commits at the end of its
    block and rolls back on an exception."""
    from server import create_app
    from server.db import database, get_connection, get_session, write_connection

    from ..conftest import TEST_CONFIG

    app = create_app({**TEST_CONFIG, "DATABASE_URL": db_engine.url.render_as_string(hide_password=False)})
    name = f"Clinic {uuid.uuid4()}"
    clinic = {"name": name, "phone": "+34 900", "emergency_number": "112", "settings": {}, "created_at": utcnow()}
    count = select(func.count()).select_from(Clinic).where(Clinic.name == name)
    try:
        with app.test_request_context("/api/v1/patients/1/checklists", method="POST"):
            reading = get_connection()
            assert get_session().connection() is reading
            assert get_session().scalar(count) == 0 and reading.in_transaction()
            with pytest.raises(_Refused), write_connection() as writer:
                assert not reading.in_transaction()  # the snapshot ended before the write began
                assert writer.connection.dbapi_connection is not reading.connection.dbapi_connection
                writer.execute(insert(Clinic).values(**clinic))
                raise _Refused
            assert reading.execute(count).scalar() == 0  # rolled back
            with write_connection() as writer:
                writer.execute(insert(Clinic).values(**clinic))
            assert reading.execute(count).scalar() == 1  # committed, and seen by a new snapshot
            with pytest.raises(DBAPIError):
                reading.execute(insert(Clinic).values(**clinic))  # and it reads only
    finally:
        with database(app).engine.begin() as cleanup:
            cleanup.execute(Clinic.__table__.delete().where(Clinic.name == name))
        database(app).dispose()


def test_a_driver_select_on_a_sqlite_reading_connection_reads_alone(db_engine):
    """Production connections: on SQLite a driver SELECT outside a transaction
    begins none, yet cannot write; a Core statement begins the snapshot, which
    later driver statements join. PostgreSQL begins its READ ONLY transaction."""
    from server import create_app
    from server.auth import PRINCIPAL_BY_ID
    from server.db import database, get_connection

    from ..conftest import TEST_CONFIG

    app = create_app({**TEST_CONFIG, "DATABASE_URL": db_engine.url.render_as_string(hide_password=False)})
    try:
        with app.test_request_context("/api/v1/patients/1/checklists", method="POST"):
            reading = get_connection()
            assert PRINCIPAL_BY_ID.rows(reading, {"user_id": 0}) == []
            if db_engine.dialect.name == "sqlite":
                assert not reading.in_transaction()
                driver = reading.connection.dbapi_connection
                assert driver.execute("PRAGMA query_only").fetchone() == (1,) and not driver.in_transaction
            else:
                assert reading.in_transaction()
            reading.execute(select(func.count()).select_from(Clinic))
            assert reading.in_transaction()
            PRINCIPAL_BY_ID.rows(reading, {"user_id": 0})
            assert reading.in_transaction()  # joined the snapshot, did not end it
            with pytest.raises(DBAPIError):
                reading.execute(insert(Clinic).values(name="x", phone="x", emergency_number="112", settings={},
                                                      created_at=utcnow()))
    finally:
        database(app).dispose()


def test_sqlite_keeps_a_requests_connections_for_the_next_only_when_they_ended_cleanly(db_engine):
    """Production connections: SQLite keeps the reading and writing connections
    of a request for the next one; PostgreSQL gives them back to its pool."""
    from server import create_app
    from server.db import database, get_connection, write_connection

    from ..conftest import TEST_CONFIG

    app = create_app({**TEST_CONFIG, "DATABASE_URL": db_engine.url.render_as_string(hide_password=False)})
    db = database(app)
    name = f"Clinic {uuid.uuid4()}"
    clinic = {"name": name, "phone": "+34 900", "emergency_number": "112", "settings": {}, "created_at": utcnow()}
    count = select(func.count()).select_from(Clinic).where(Clinic.name == name)

    def submission(fail: bool = False) -> tuple:
        """One submission's connections (the driver's), as a view would use them."""
        with app.test_request_context("/api/v1/patients/1/checklists", method="POST"):
            reading = get_connection()
            reading.execute(count)
            read_on = reading.connection.dbapi_connection
            try:
                with write_connection() as writer:
                    written_on = writer.connection.dbapi_connection
                    writer.execute(insert(Clinic).values(**clinic))
                    if fail:
                        raise _Refused
            except _Refused:
                pass
            return read_on, written_on

    try:
        first = submission()
        if db_engine.dialect.name == "sqlite":
            assert submission() == first  # kept, not given back to the pool
            assert db.engine.pool.checkedout() == 1 and db.read_engine.pool.checkedout() == 1
            assert submission(fail=True) == first  # a write rolled back still ended cleanly
            with app.test_request_context("/api/v1/health"):
                assert get_connection().execute(count).scalar() == 2  # the failed write left nothing
                get_connection().invalidate()  # as DriverStatement does when the driver's connection is lost
            assert not db._kept_reading  # so it was not kept
            assert db.read_engine.pool.checkedout() == 0
            assert submission()[0] is not first[0] and db.read_engine.pool.checkedout() == 1

            def begun_then_failed(_connection):
                raise RuntimeError("refused")  # after server.db's listener sent BEGIN IMMEDIATE to the driver

            event.listen(db.engine, "begin", begun_then_failed)
            with pytest.raises(RuntimeError, match="refused"):
                submission()
            event.remove(db.engine, "begin", begun_then_failed)
            assert not db._kept_writing and db.engine.pool.checkedout() == 0  # its driver was mid-transaction
            submission()  # and the next write begins afresh

            # Connections left by a burst of threads go back to the pool beyond KEEP_AT_MOST.
            burst = [db.open_reading() for _ in range(KEEP_AT_MOST + 2)]
            for connection in burst:
                db.close_reading(connection)
            assert len(db._kept_reading) == KEEP_AT_MOST
            assert db.read_engine.pool.checkedout() == KEEP_AT_MOST
        else:
            assert db.engine.pool.checkedout() == 0 and db.read_engine.pool.checkedout() == 0
        db.dispose()
        assert db.engine.pool.checkedout() == 0 and db.read_engine.pool.checkedout() == 0
    finally:
        with db.engine.begin() as cleanup:
            cleanup.execute(Clinic.__table__.delete().where(Clinic.name == name))
        db.dispose()


def test_sqlite_writers_hold_the_lock_file_until_their_transaction_ends(tmp_path):
    path = tmp_path / "writers.sqlite"
    engine = make_engine(f"sqlite:///{path}")
    try:
        with engine.connect() as first:
            first.begin()
            other = os.open(f"{path}-writelock", os.O_RDWR)
            try:
                with pytest.raises(BlockingIOError):
                    fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)
                first.rollback()
                fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)  # let go at the rollback
                fcntl.flock(other, fcntl.LOCK_UN)
                first.begin()
                with pytest.raises(BlockingIOError):
                    fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)
                first.commit()
                fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)  # and at the commit
                fcntl.flock(other, fcntl.LOCK_UN)
            finally:
                os.close(other)
        with engine.connect() as reader:
            reader = reader.execution_options(**{READ_ONLY: True})
            reader.begin()
            other = os.open(f"{path}-writelock", os.O_RDWR)
            try:
                fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)  # a reader takes no lock
                fcntl.flock(other, fcntl.LOCK_UN)
            finally:
                os.close(other)
            reader.rollback()
    finally:
        engine.dispose()


def _checklist(client_id: str) -> dict:
    return {"client_id": uuid.UUID(client_id), "answered_on": today_madrid(),
            "answers": {"bleed.mucosal": True}, "note": None}


def test_racing_checklists_are_stored_once(world, db):
    """Two requests prepare before either stores: the constraints decide."""
    patient, user = patients.load_record(db, world.patient.id), world.users["patient"]
    same = new_client_id()
    first = checklists.prepare(db, patient, user, _checklist(same), today_madrid(), CONTENT)
    replay = checklists.prepare(db, patient, user, _checklist(same), today_madrid(), CONTENT)
    another = checklists.prepare(db, patient, user, _checklist(new_client_id()), today_madrid(), CONTENT)
    answer, created = checklists.store(db.connection(), first, utcnow(), CONTENT)
    db.commit()
    assert created and answer["level"] == "urgent" and answer["flag_id"] is not None

    again, created = checklists.store(db.connection(), replay, utcnow(), CONTENT)
    assert not created and again == answer  # the same client_id: the first answer
    with pytest.raises(HTTPError) as refused:
        checklists.store(db.connection(), another, utcnow(), CONTENT)  # the same month: a conflict
    assert refused.value.status_code == 409
    # Neither conflict left the transaction failed (PostgreSQL aborts one on a unique violation).
    assert db.scalar(select(func.count()).select_from(Checklist).where(Checklist.patient_id == patient.id)) == 1


def test_racing_lab_submissions_are_stored_once(world, db):
    patient, nurse = world.patient, world.users["nurse"]
    body = {"client_id": uuid.UUID(new_client_id()), "taken_on": today_madrid(),
            "results": [{"analyte": "platelets", "value": 40}]}
    first = labs.prepare(db, patient, nurse, body, today_madrid(), CONTENT)
    replay = labs.prepare(db, patient, nurse, body, today_madrid(), CONTENT)
    answer, created = labs.store(db, first, utcnow(), CONTENT)
    db.commit()
    assert created and answer["flag_id"] is not None
    again, created = labs.store(db, replay, utcnow(), CONTENT)
    assert not created and again == answer
    assert db.scalar(select(func.count()).select_from(LabSubmission).where(
        LabSubmission.patient_id == patient.id)) == 1


def test_submissions_leave_the_sqlite_write_ahead_log_short(tmp_path):
    """A reader still open when a submission commits would pin SQLite's log:
    it would grow with every submission, and every commit would attempt a
    checkpoint. ``write_session`` ends the request's read first (server.db)."""
    from sqlalchemy import event

    from server import create_app
    from server.db import database
    from server.migrations import upgrade

    from ..conftest import TEST_CONFIG
    from .conftest import Client, make_world

    path = tmp_path / "wal.sqlite"
    app = create_app({**TEST_CONFIG, "DATABASE_URL": f"sqlite:///{path}", "INSTANCE_DIR": str(tmp_path)})
    engine = database(app).engine
    # Checkpoint (and start the log afresh) past 8 pages rather than 1,000.
    event.listen(engine, "connect", lambda dbapi_connection, _record: dbapi_connection.execute(
        "PRAGMA wal_autocheckpoint=8"))
    upgrade(engine)
    with app.app_context(), database(app).sessions() as session:
        world = make_world(session, app.config)
        page_size = session.connection().exec_driver_sql("PRAGMA page_size").scalar()
    client = Client(app)
    assert client.login(world.users["nurse"].email).status_code == 200
    for n in range(60):
        response = client.post(f"/api/v1/patients/{world.patient.id}/labs", json={
            "client_id": new_client_id(), "taken_on": today_madrid().isoformat(),
            "results": [{"analyte": "platelets", "value": 200 + n}]})
        assert response.status_code == 201, response.json
    # The log file keeps the largest size it reached: sixty submissions of a
    # dozen pages each had it been pinned (730 pages when this test was
    # written), a few submissions' worth when it is not (68).
    wal_pages = (tmp_path / "wal.sqlite-wal").stat().st_size // page_size
    database(app).dispose()
    assert wal_pages < 200


def test_a_patients_plain_record_is_what_the_orm_loads(world, db):
    """The checklist reads the patient with plain statements (services.patients.
    load_record): the same record as through the ORM, JSON, dates and order
    included, on both backends."""
    from datetime import timedelta

    from server.models import Pregnancy

    patient = world.patient
    today = today_madrid()
    patients.add_course(patient, [today - timedelta(days=d) for d in (12, 11, 10)], "given", world.users["nurse"],
                        utcnow())
    patient.pregnancies.extend([Pregnancy(reported_on=today - timedelta(days=60), ended_on=today - timedelta(days=9)),
                                Pregnancy(reported_on=today - timedelta(days=3), ended_on=None)])
    patient.baseline = {"platelets": 231, "creatinine": 64.5}
    db.commit()
    db.expire_all()
    loaded = patients.load_record(db, patient.id)
    assert loaded == patients.record_of(db.get(Patient, patient.id))
    assert len(loaded.courses) == 2 and len(loaded.person.pregnancies) == 2
    assert loaded.person.baseline == {"platelets": 231, "creatinine": 64.5}
    assert (loaded.clinic_phone, loaded.emergency_number) == (world.clinic.phone, world.clinic.emergency_number)
    assert patients.load_record(db, world.foreign_patient.id).clinic_id == world.other_clinic.id
    assert patients.load_record(db, 2**31 - 1) is None


def test_a_replay_that_no_longer_passes_still_gets_its_first_answer(world, db):
    """An offline phone may send a stored checklist again weeks later, when its
    date is past the 60 days a late checklist may have: the first answer still."""
    from datetime import timedelta

    record, user = patients.load_record(db, world.patient.id), world.users["patient"]
    body = _checklist(new_client_id())
    first = checklists.prepare(db, record, user, body, today_madrid(), CONTENT)
    answer, created = checklists.store(db.connection(), first, utcnow(), CONTENT)
    db.commit()
    weeks_later = today_madrid() + timedelta(days=checklists.MAX_LATE_DAYS + 1)
    assert created
    assert checklists.prepare(db, record, user, body, weeks_later, CONTENT) == answer
    with pytest.raises(HTTPError) as refused:  # another client_id with that date is refused
        checklists.prepare(db, record, user, {**body, "client_id": uuid.UUID(new_client_id())}, weeks_later, CONTENT)
    assert refused.value.status_code == 400


def test_a_driver_statement_gives_what_sqlalchemy_gives(world, db):
    """server.db.DriverStatement runs a Core statement on the driver's cursor:
    the same SQL and value conversions as SQLAlchemy's execute, on both
    backends (aware instants, JSON, dates, booleans, NULLs)."""
    from datetime import date, datetime, timedelta, timezone

    from server.auth import PRINCIPAL_BY_ID
    from server.db import DriverStatement
    from server.models import User

    table = Checklist.__table__
    columns = ["patient_id", "client_id", "answered_on", "period", "answers", "note", "level", "reasons",
               "response", "submitted_by_id", "created_at"]
    created = datetime(2026, 3, 29, 0, 30, tzinfo=timezone(timedelta(hours=1)))  # Madrid's DST night
    values = {"patient_id": world.patient.id, "client_id": new_client_id(), "answered_on": date(2026, 2, 28),
              "period": 7, "answers": {"bleed.mucosal": True, "thyroid.weight": False}, "note": None,
              "level": "urgent", "reasons": ["bleed.mucosal"], "response": {"level": "urgent", "flag_id": None},
              "submitted_by_id": world.users["patient"].id, "created_at": created}
    (inserted_id,) = DriverStatement(insert(table).returning(table.c.id), column_keys=columns).first(db, values)

    read = select(*(table.c[name] for name in ["id", *columns])).where(table.c.id == inserted_id)
    by_driver = DriverStatement(read).first(db, {})
    by_sqlalchemy = db.connection().execute(read).one()
    assert tuple(by_driver) == tuple(by_sqlalchemy)
    assert by_driver._asdict() == {"id": inserted_id, **values, "created_at": created.astimezone(timezone.utc)}
    assert by_driver.created_at.tzinfo is timezone.utc

    nurse = world.users["nurse"]
    principal = PRINCIPAL_BY_ID.first(db, {"user_id": nurse.id})
    assert principal._asdict() == {"id": nurse.id, "email": nurse.email, "role": "nurse", "clinic_id": nurse.clinic_id,
                                   "patient_id": None, "session_token": nurse.session_token, "active": True}
    assert PRINCIPAL_BY_ID.first(db, {"user_id": 2**31 - 1}) is None
    assert PRINCIPAL_BY_ID.rows(db, {"user_id": world.users["patient"].id})[0].patient_id == world.patient.id
    assert db.get(User, nurse.id).email == principal.email


def test_a_driver_statement_fails_as_sqlalchemy_would(world, db):
    """A broken unique constraint is SQLAlchemy's IntegrityError (what the
    checklist's store relies on to find a replay); a missing value is named."""
    from sqlalchemy.exc import IntegrityError

    from server.db import DriverStatement

    table = Checklist.__table__
    statement = DriverStatement(insert(table), column_keys=["patient_id", "client_id", "answered_on", "period",
                                                            "answers", "level", "reasons", "response", "created_at"])
    row = {"patient_id": world.patient.id, "client_id": new_client_id(), "answered_on": today_madrid(),
           "period": 3, "answers": {}, "level": "none", "reasons": [], "response": {}, "created_at": utcnow()}
    assert statement.rows(db, row) == []
    with pytest.raises(IntegrityError) as refused:
        statement.rows(db, {**row, "period": 4, "answers": {"bleed.mucosal": True}})  # the same client_id
    db.rollback()
    # The statement's values stay out of the message (the engine hides them).
    assert "INSERT INTO checklists" in str(refused.value) and "bleed.mucosal" not in str(refused.value)
    with pytest.raises(KeyError, match="'created_at'"):
        statement.rows(db, {name: value for name, value in row.items() if name != "created_at"})


def test_a_database_error_leaves_the_values_out_of_its_message(world, db):
    """SQLAlchemy's own execution too (the engine hides parameters): an error
    that reaches the log names no patient's answer."""
    from sqlalchemy.exc import IntegrityError

    answers = {"bleed.mucosal": True, "infection.fever": True}
    row = {"patient_id": world.patient.id, "client_id": new_client_id(), "answered_on": today_madrid(),
           "period": 5, "answers": answers, "level": "urgent", "reasons": ["bleed.mucosal"], "response": {},
           "note": "nosebleed since Sunday", "created_at": utcnow()}
    db.execute(insert(Checklist).values(**row))
    with pytest.raises(IntegrityError) as refused:
        db.execute(insert(Checklist).values(**{**row, "period": 6}))
    db.rollback()
    message = str(refused.value)
    assert "INSERT INTO checklists" in message
    # (PostgreSQL's own DETAIL names the broken key: the patient's id and the
    # random client_id, no health value.)
    assert "nosebleed" not in message and "infection.fever" not in message


def test_an_unexpected_database_error_is_logged_without_the_drivers_message(app, caplog):
    """A driver's message may quote the row it refused (PostgreSQL: "Failing
    row contains ..."): the log gets the statement and the error class only."""
    import logging

    from sqlalchemy.exc import IntegrityError

    class DriverError(Exception):
        pass

    def broken():
        raise IntegrityError("INSERT INTO checklists (note) VALUES (%(note)s)", None,
                             DriverError('null value in column "level"\nDETAIL: Failing row contains '
                                         '(nosebleed since Sunday)'))

    app.add_url_rule("/broken-for-the-test", view_func=broken)
    with caplog.at_level(logging.ERROR, logger="server.errors"):
        response = app.test_client().get("/broken-for-the-test")
    assert response.status_code == 500 and response.json["error"]["code"] == "internal_error"
    assert "DriverError" in caplog.text and "INSERT INTO checklists" in caplog.text and "broken" in caplog.text
    assert "nosebleed" not in caplog.text and "Failing row" not in caplog.text


def test_a_driver_statement_sees_what_the_session_has_pending(world, db):
    """It flushes first, as the ORM's own execute does (autoflush)."""
    from server.db import DriverStatement

    clinics = Clinic.__table__
    db.add(Clinic(name="Pending clinic", phone="+39 06 000", emergency_number="112", settings={}))
    names = DriverStatement(select(clinics.c.name).order_by(clinics.c.id)).rows(db, {})
    assert names[-1].name == "Pending clinic"
