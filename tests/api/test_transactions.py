"""How requests use the database (server/db.py): read-only sessions for
reading requests, one helper for a transaction of its own, and submissions
stored once with the unique constraints deciding between races.
"""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import func, insert, select, text
from sqlalchemy.exc import DBAPIError

from server.db import Database, ReadOnlySessionError, get_session, separate_transaction
from server.engine.content.loading import default_content
from server.models import AuditEvent, Checklist, Clinic, LabSubmission
from server.services import checklists, labs
from server.services.errors import Conflict, InvalidInput
from server.timeutil import utcnow

from .conftest import new_client_id, today_madrid

CONTENT = default_content()


def _clinic_row() -> dict:
    return {"name": "Nowhere", "phone": "+34 900", "emergency_number": "112", "settings": {}, "created_at": utcnow()}


def test_a_production_read_session_cannot_write_and_a_writing_one_can(db_engine):
    """Production sessions, not the tests' joined ones, on both backends: the
    session refuses a write, and on PostgreSQL the transaction itself is READ ONLY."""
    db = Database(db_engine.url.render_as_string(hide_password=False))
    try:
        with db.read_sessions() as reader:
            assert reader.scalar(select(func.count()).select_from(Clinic)) >= 0
            with pytest.raises(ReadOnlySessionError):
                reader.execute(insert(Clinic).values(**_clinic_row()))
            reader.add(Clinic(**_clinic_row()))
            with pytest.raises(ReadOnlySessionError):
                reader.flush()
            reader.rollback()
            if db_engine.dialect.name == "postgresql":
                with pytest.raises(DBAPIError, match="read-only transaction"):
                    reader.connection().execute(insert(Clinic).values(**_clinic_row()))
        with db.sessions() as writer:
            writer.execute(insert(Clinic).values(**_clinic_row()))
            writer.rollback()
    finally:
        db.dispose()


def test_a_sqlite_writer_takes_the_write_lock_when_it_begins(tmp_path):
    """BEGIN IMMEDIATE: a second writer cannot begin while the first is open
    (it would otherwise read, then fail with SQLITE_BUSY when it writes)."""
    from sqlalchemy.exc import OperationalError

    from server.db import make_engine

    engine = make_engine(f"sqlite:///{tmp_path / 'lock.sqlite'}")
    try:
        with engine.connect() as first, engine.connect() as second:
            second.exec_driver_sql("PRAGMA busy_timeout=0")  # refuse at once instead of waiting
            second.commit()
            first.begin()
            first.execute(text("CREATE TABLE t (x INTEGER)"))
            with pytest.raises(OperationalError, match="locked"):
                second.begin()
            first.commit()
            with second.begin():
                second.execute(text("INSERT INTO t VALUES (1)"))
    finally:
        engine.dispose()


def test_a_reading_request_gets_a_read_only_session_and_a_writing_one_does_not(app, world):
    with app.test_request_context("/api/v1/me", method="GET"):
        session = get_session()
        assert session.info.get("read_only") is True
        session.add(Clinic(**_clinic_row()))
        with pytest.raises(ReadOnlySessionError):
            session.flush()
    with app.test_request_context("/api/v1/patients", method="POST"):
        session = get_session()
        assert not session.info.get("read_only")
        session.add(Clinic(**_clinic_row()))
        session.flush()
        session.rollback()


def test_separate_transaction_commits_at_the_end_of_its_block_and_rolls_back_on_error(app, world, db):
    def audited() -> int:
        return db.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "test.audit"))

    row = {"clinic_id": world.clinic.id, "actor_id": world.users["nurse"].id, "action": "test.audit",
           "patient_id": world.patient.id}
    with app.test_request_context("/api/v1/me", method="GET"):
        get_session().scalar(select(func.count()).select_from(Clinic))  # the request reads first
        with separate_transaction() as writer:
            writer.add(AuditEvent(**row))
        with pytest.raises(RuntimeError), separate_transaction() as writer:
            writer.add(AuditEvent(**row))
            writer.flush()
            raise RuntimeError("the block failed")
        assert get_session().scalar(select(func.count()).select_from(Clinic)) >= 2
    assert audited() == 1


def test_a_staff_read_is_audited_although_the_request_only_reads(world, db, client_for):
    response = client_for("nurse").get(f"/api/v1/patients/{world.patient.id}/timeline")
    assert response.status_code == 200
    assert db.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.patient_id == world.patient.id, AuditEvent.actor_id == world.users["nurse"].id)) >= 1


def _checklist(client_id: str) -> dict:
    return {"client_id": uuid.UUID(client_id), "answered_on": today_madrid(),
            "answers": {"bleed.mucosal": True}, "note": None}


def test_racing_checklists_are_stored_once(world, db, monkeypatch):
    """Two requests look for their client_id before either has stored: the
    unique constraints decide, and neither conflict leaves the transaction failed."""
    patient, user = world.patient, world.users["patient"]
    same = new_client_id()
    answer, created = checklists.submit(db, patient, user, _checklist(same), today_madrid(), utcnow(), CONTENT)
    db.commit()
    assert created and answer["level"] == "urgent" and answer["flag_id"] is not None

    looked_up = []
    real = checklists.first_answer

    def not_yet_stored(session, patient_id, client_id):  # the race: the other request had not committed
        looked_up.append(client_id)
        return None if len(looked_up) == 1 else real(session, patient_id, client_id)

    monkeypatch.setattr(checklists, "first_answer", not_yet_stored)
    again, created = checklists.submit(db, patient, user, _checklist(same), today_madrid(), utcnow(), CONTENT)
    assert not created and again == answer  # the same client_id: the first answer
    looked_up.clear()
    with pytest.raises(Conflict) as refused:  # another client_id, the same month
        checklists.submit(db, patient, user, _checklist(new_client_id()), today_madrid(), utcnow(), CONTENT)
    assert refused.value.code == "checklist_already_submitted"
    assert db.scalar(select(func.count()).select_from(Checklist).where(Checklist.patient_id == patient.id)) == 1


def test_racing_lab_submissions_are_stored_once(world, db, monkeypatch):
    patient, nurse = world.patient, world.users["nurse"]
    body = {"client_id": uuid.UUID(new_client_id()), "taken_on": today_madrid(),
            "results": [{"analyte": "platelets", "value": 40}]}
    answer, created = labs.submit(db, patient, nurse, body, today_madrid(), utcnow(), CONTENT)
    db.commit()
    assert created and answer["flag_id"] is not None
    real, calls = labs.first_answer, []

    def not_yet_stored(session, patient_id, client_id):
        calls.append(client_id)
        return None if len(calls) == 1 else real(session, patient_id, client_id)

    monkeypatch.setattr(labs, "first_answer", not_yet_stored)
    again, created = labs.submit(db, patient, nurse, body, today_madrid(), utcnow(), CONTENT)
    assert not created and again == answer and len(calls) == 2
    assert db.scalar(select(func.count()).select_from(LabSubmission).where(
        LabSubmission.patient_id == patient.id)) == 1


def test_a_replay_that_no_longer_passes_still_gets_its_first_answer(world, db):
    """An offline phone may send a stored checklist again weeks later, when its
    date is past the 60 days a late checklist may have: the first answer still."""
    from datetime import timedelta

    patient, user = world.patient, world.users["patient"]
    body = _checklist(new_client_id())
    answer, created = checklists.submit(db, patient, user, body, today_madrid(), utcnow(), CONTENT)
    db.commit()
    weeks_later = today_madrid() + timedelta(days=checklists.MAX_LATE_DAYS + 1)
    assert created
    assert checklists.submit(db, patient, user, body, weeks_later, utcnow(), CONTENT) == (answer, False)
    with pytest.raises(InvalidInput) as refused:  # another client_id with that date is refused
        checklists.submit(db, patient, user, {**body, "client_id": uuid.UUID(new_client_id())}, weeks_later,
                          utcnow(), CONTENT)
    assert refused.value.field == "answered_on"


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


def test_a_new_sqlite_database_and_its_log_are_the_owners_alone(tmp_path):
    import os
    import stat

    from server.db import make_engine

    path = tmp_path / "private.sqlite"
    engine = make_engine(f"sqlite:///{path}")
    try:
        with engine.begin() as connection:
            connection.execute(text("CREATE TABLE t (x INTEGER)"))
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
            made = [p for p in (path, tmp_path / "private.sqlite-wal", tmp_path / "private.sqlite-shm") if p.exists()]
            assert len(made) == 3
            assert {stat.S_IMODE(os.stat(p).st_mode) for p in made} == {0o600}
    finally:
        engine.dispose()
