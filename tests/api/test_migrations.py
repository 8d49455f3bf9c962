"""The Alembic migrations build exactly the schema the models describe."""

import warnings

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.schema import CreateIndex

from server.models import Base


def test_migrations_match_the_models(db_engine):
    with db_engine.connect() as connection, warnings.catch_warnings():
        if db_engine.dialect.name == "sqlite":
            # SQLite's reflection skips indexes on expressions (SQLAlchemy and Alembic say so):
            # the test below compares them.
            warnings.filterwarnings("ignore", "Skipped unsupported reflection of expression-based index")
            warnings.filterwarnings("ignore", "autogenerate skipping metadata-specified expression-based index")
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, Base.metadata)
    assert differences == []


def test_indexes_on_expressions_are_the_models_on_sqlite(db_engine):
    """On SQLite, by the statement that made each index on an expression (PostgreSQL's are
    compared above)."""
    if db_engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL reflects them")
    expected = {index.name: str(CreateIndex(index).compile(dialect=db_engine.dialect))
                for table in Base.metadata.tables.values() for index in table.indexes
                if any(not hasattr(part, "table") for part in index.expressions)}
    with db_engine.connect() as connection:
        made = dict(connection.exec_driver_sql("SELECT name, sql FROM sqlite_master WHERE type = 'index'").all())
    assert expected and {name: made.get(name) for name in expected} == expected


# --- 0006: the data of CLINICAL.md v2 (issue 14) -----------------------------------------------

import pytest  # noqa: E402
from alembic import command  # noqa: E402
from sqlalchemy import text  # noqa: E402

from server.db import make_engine  # noqa: E402
from server.migrations import alembic_config  # noqa: E402

from ..conftest import BACKENDS, POSTGRES_URL  # noqa: E402

V1_SHARES = ["lab", "checklist", "diet", "appointment"]


@pytest.fixture(params=BACKENDS)
def scratch_engine(request, tmp_path):
    """An empty database of its own (PostgreSQL: a scratch schema) to migrate step by step."""
    if request.param == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path / 'migrate.sqlite'}")
        yield engine
        engine.dispose()
        return
    admin = make_engine(POSTGRES_URL)
    with admin.begin() as connection:
        connection.execute(text("DROP SCHEMA IF EXISTS migrate_0006 CASCADE"))
        connection.execute(text("CREATE SCHEMA migrate_0006"))
    engine = make_engine(POSTGRES_URL, connect_args={"options": "-csearch_path=migrate_0006"})
    yield engine
    engine.dispose()
    with admin.begin() as connection:
        connection.execute(text("DROP SCHEMA migrate_0006 CASCADE"))
    admin.dispose()


def _migrate(engine, revision: str, down: bool = False) -> None:
    config = alembic_config(str(engine.url))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        (command.downgrade if down else command.upgrade)(config, revision)


def test_0006_moves_the_clinic_listeria_until_onto_the_patients_it_extended(scratch_engine):
    """docs/decisions.md "Clinical rules v2": v1's clinic setting moves onto each patient
    whose latest listeria window it extended (F_k - 14 days to L_k + 1 month); family
    links on v1's default get v2's; a patient's own choice of shares is kept."""
    _migrate(scratch_engine, "0005")
    now = "2027-01-01 10:00:00+00:00"
    with scratch_engine.begin() as db:
        db.execute(text("INSERT INTO clinics (id, name, phone, emergency_number, settings, created_at) VALUES "
                        "(1, 'A', '1', '112', :a, :now), (2, 'B', '1', '112', :b, :now)"),
                   {"a": '{"listeria_until": "2026-06-30", "mri_yearly": false}', "b": '{"mri_yearly": false}',
                    "now": now})
        for pid, clinic in ((1, 1), (2, 1), (3, 1), (4, 1), (5, 2)):
            db.execute(text("INSERT INTO patients (id, clinic_id, display_name, sex, childbearing_potential, "
                            "breastfeeding, timezone, language, baseline, detailed_notifications, plan_attempts, "
                            "created_at) VALUES (:id, :clinic, 'P', 'female', false, false, 'UTC', 'en', '{}', "
                            "false, 0, :now)"), {"id": pid, "clinic": clinic, "now": now})
        courses = [
            (1, '["2026-03-01", "2026-03-02", "2026-03-03"]'),  # window ends 3 Apr 2026: extended, latest
            (2, '["2026-01-05", "2026-01-06"]'),                # ends 6 Feb: extended, but a later course exists
            (2, '["2027-01-11", "2027-01-12"]'),                # planned later course (starts after 30 Jun)
            (3, '["2026-06-10", "2026-06-11"]'),                # ends 11 Jul 2026: not extended
            (5, '["2026-03-01", "2026-03-02"]'),                # another clinic, no setting
        ]
        for pid, infusions in courses:
            db.execute(text("INSERT INTO courses (patient_id, infusions, status, created_at) "
                            "VALUES (:pid, :infusions, 'given', :now)"), {"pid": pid, "infusions": infusions,
                                                                          "now": now})
        for uid in (1, 2, 3):
            db.execute(text("INSERT INTO users (id, email, password_hash, role, clinic_id, session_token, active, "
                            "created_at) VALUES (:id, :email, 'x', 'family', 1, :token, true, :now)"),
                       {"id": uid, "email": f"f{uid}@a.test", "token": f"t{uid}", "now": now})
        links = [(1, '["lab", "checklist", "diet", "appointment"]'),   # v1 default, untouched by her
                 (2, '["appointment", "checklist", "diet", "lab"]'),   # her own choice (stored sorted)
                 (3, '["diet"]')]
        for uid, shares in links:
            db.execute(text("INSERT INTO family_links (patient_id, user_id, shares, created_at) "
                            "VALUES (1, :uid, :shares, :now)"), {"uid": uid, "shares": shares, "now": now})

    _migrate(scratch_engine, "0006")
    with scratch_engine.connect() as db:
        until = dict(db.execute(text("SELECT id, listeria_until FROM patients ORDER BY id")).all())
        settings = dict(db.execute(text("SELECT id, settings FROM clinics ORDER BY id")).all())
        shares = [row[0] for row in db.execute(text("SELECT shares FROM family_links ORDER BY user_id"))]
        screening = db.execute(text("SELECT DISTINCT cervical_screening FROM patients")).scalars().all()

    import json
    from datetime import date

    def as_date(value):
        return value if value is None or isinstance(value, date) else date.fromisoformat(str(value))

    assert {pid: as_date(value) for pid, value in until.items()} == {
        1: date(2026, 6, 30), 2: None, 3: None, 4: None, 5: None}
    assert [json.loads(s) if isinstance(s, str) else s for s in settings.values()] == [
        {"mri_yearly": False}, {"mri_yearly": False}]
    assert [json.loads(s) if isinstance(s, str) else s for s in shares] == [
        ["checklist", "appointment", "task", "medication", "diet", "safety"],
        ["appointment", "checklist", "diet", "lab"], ["diet"]]
    assert screening == [None]

    _migrate(scratch_engine, "0005", down=True)
    with scratch_engine.connect() as db:
        shares = [row[0] for row in db.execute(text("SELECT shares FROM family_links ORDER BY user_id"))]
    assert (json.loads(shares[0]) if isinstance(shares[0], str) else shares[0]) == V1_SHARES


def test_0007_gives_version_1_results_their_canonical_unit(tmp_path):
    """Results stored before units (CLINICAL.md 4.1, v2) were all in the canonical unit."""
    from alembic import command
    from sqlalchemy import text

    from server.db import make_engine
    from server.migrations import alembic_config

    engine = make_engine(f"sqlite:///{tmp_path / 'v1.sqlite'}")
    config = alembic_config(str(engine.url))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0005")
        connection.execute(text("INSERT INTO clinics (id, name, phone, emergency_number, settings, created_at) "
                                "VALUES (1, 'A', '1', '112', '{}', '2026-01-01 00:00:00')"))
        connection.execute(text(
            "INSERT INTO patients (id, clinic_id, display_name, sex, childbearing_potential, breastfeeding, timezone, "
            "language, baseline, created_at, detailed_notifications, plan_attempts) "
            "VALUES (1, 1, 'P', 'female', 0, 0, 'UTC', 'en', '{}', '2026-01-01 00:00:00', 0, 0)"))
        connection.execute(text("INSERT INTO lab_submissions (id, patient_id, client_id, taken_on, patient_reported, "
                                "response, created_at) VALUES (1, 1, 'c', '2026-05-01', 1, '{}', '2026-05-01')"))
        for row_id, analyte, number, word in ((1, "creatinine", 80.0, None), (2, "urine_blood", None, "negative"),
                                              (3, "platelets", None, None)):
            connection.execute(text(
                "INSERT INTO lab_results (id, submission_id, patient_id, analyte, value_num, value_text, taken_on, "
                "patient_reported) VALUES (:id, 1, 1, :analyte, :number, :word, '2026-05-01', 1)"),
                {"id": row_id, "analyte": analyte, "number": number, "word": word})
        command.upgrade(config, "head")
        rows = connection.execute(text("SELECT id, unit, value_as_recorded, unit_as_recorded, withdrawn_at "
                                       "FROM lab_results ORDER BY id")).all()
    engine.dispose()
    assert [tuple(r) for r in rows] == [(1, "umol/L", 80.0, "umol/L", None), (2, None, None, None, None),
                                        (3, None, None, None, None)]
