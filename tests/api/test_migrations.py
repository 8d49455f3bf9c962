"""The Alembic migrations build exactly the schema the models describe."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from server.models import Base


def test_migrations_match_the_models(db_engine):
    with db_engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, Base.metadata)
    assert differences == []


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
