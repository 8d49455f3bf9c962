"""the audit log keeps the ids of an erased patient or account, without a foreign key

DELETE /me erases a patient's account and health data (GDPR Art. 17), but the
audit log of staff access must stay (the law asks for it). Its rows hold only
ids, an action name and an instant; with foreign keys on ``patient_id`` and
``actor_id`` the patient's row (or an account that appears as an actor) could
not be deleted while the log names it. The columns stay, with their index; only
the constraints go.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02 09:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

#: (column, referred table) of the constraints dropped
DROPPED = [("patient_id", "patients"), ("actor_id", "users")]
#: names for the unnamed constraints of 0001 while SQLite's batch mode copies the table
NAMING = {"fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s"}


def _name(column: str, referred: str) -> str:
    return f"fk_audit_events_{column}_{referred}"


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        with op.batch_alter_table("audit_events", naming_convention=NAMING) as batch_op:
            for column, referred in DROPPED:
                batch_op.drop_constraint(_name(column, referred), type_="foreignkey")
        return
    # PostgreSQL named them itself (audit_events_patient_id_fkey...): look them up.
    for key in sa.inspect(bind).get_foreign_keys("audit_events"):
        if (tuple(key["constrained_columns"]), key["referred_table"]) in {((c,), t) for c, t in DROPPED}:
            op.drop_constraint(key["name"], "audit_events", type_="foreignkey")


def downgrade() -> None:
    with op.batch_alter_table("audit_events") as batch_op:
        for column, referred in DROPPED:
            batch_op.create_foreign_key(_name(column, referred), referred, [column], ["id"])
