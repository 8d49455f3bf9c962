"""lab results carry their unit, what was recorded, and their corrections (issue 14)

CLINICAL.md v2 section 4.1: a number result is stored in its analyte's
canonical unit with the value and unit as recorded beside it; section 6: a
result can be corrected or withdrawn, the original row staying with who
withdrew it, when and why (``replaced_by_id``: the correction that replaced it).

Results of version 1 were all entered in the canonical unit: they get it as
their unit and as their recorded unit, and their value as the recorded value.
The units below are those of content/labs.toml when this migration was written
(a migration must not change with later content).

Revision ID: 0007
Revises: 0005 (at merge time, the items engineer's 0006 is chained in between)
Create Date: 2026-12-05 10:00:00
"""
import sqlalchemy as sa
from alembic import op

import server.db

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

#: analyte -> canonical unit, content/labs.toml of version 1 and 2
CANONICAL = {
    "platelets": "10^9/L",
    "neutrophils": "10^9/L",
    "lymphocytes": "10^9/L",
    "cd4": "cells/uL",
    "creatinine": "umol/L",
    "tsh": "mIU/L",
    "alt": "U/L",
    "ast": "U/L",
    "bilirubin": "umol/L",
}


def upgrade() -> None:
    with op.batch_alter_table('lab_results', schema=None) as batch_op:
        batch_op.add_column(sa.Column('unit', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('value_as_recorded', sa.Double(), nullable=True))
        batch_op.add_column(sa.Column('unit_as_recorded', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('recorded_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('recorded_at', server.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('withdrawn_at', server.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('withdrawn_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('withdrawal_reason', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('replaced_by_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key('fk_lab_results_recorded_by_id_users', 'users', ['recorded_by_id'], ['id'])
        batch_op.create_foreign_key('fk_lab_results_withdrawn_by_id_users', 'users', ['withdrawn_by_id'], ['id'])
        batch_op.create_foreign_key('fk_lab_results_replaced_by_id_lab_results', 'lab_results',
                                    ['replaced_by_id'], ['id'])
    results = sa.table('lab_results', sa.column('analyte', sa.String), sa.column('value_num', sa.Float),
                       sa.column('unit', sa.String), sa.column('value_as_recorded', sa.Float),
                       sa.column('unit_as_recorded', sa.String))
    for analyte, unit in CANONICAL.items():
        op.execute(results.update()
                   .where(results.c.analyte == analyte, results.c.value_num.is_not(None), results.c.unit.is_(None))
                   .values(unit=unit, unit_as_recorded=unit, value_as_recorded=results.c.value_num))


def downgrade() -> None:
    with op.batch_alter_table('lab_results', schema=None) as batch_op:
        batch_op.drop_constraint('fk_lab_results_replaced_by_id_lab_results', type_='foreignkey')
        batch_op.drop_constraint('fk_lab_results_withdrawn_by_id_users', type_='foreignkey')
        batch_op.drop_constraint('fk_lab_results_recorded_by_id_users', type_='foreignkey')
        batch_op.drop_column('replaced_by_id')
        batch_op.drop_column('withdrawal_reason')
        batch_op.drop_column('withdrawn_by_id')
        batch_op.drop_column('withdrawn_at')
        batch_op.drop_column('recorded_at')
        batch_op.drop_column('recorded_by_id')
        batch_op.drop_column('unit_as_recorded')
        batch_op.drop_column('value_as_recorded')
        batch_op.drop_column('unit')
