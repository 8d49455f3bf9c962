"""checklists carry the care team's read mark: who read a routine checklist, and when

A routine checklist (a note, or signs noted for the next review: no flag,
CLINICAL.md v2 section 3) is on the care team's list of checklists to read
until a nurse marks it read; the patient's history then says the team read it.
Both columns are empty on the checklists stored before (not read yet).

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-05 11:15:00
"""
import sqlalchemy as sa
from alembic import op

import server.db

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('checklists', schema=None) as batch_op:
        batch_op.add_column(sa.Column('read_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('read_at', server.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.create_foreign_key('fk_checklists_read_by_id_users', 'users', ['read_by_id'], ['id'])


def downgrade():
    with op.batch_alter_table('checklists', schema=None) as batch_op:
        batch_op.drop_constraint('fk_checklists_read_by_id_users', type_='foreignkey')
        batch_op.drop_column('read_at')
        batch_op.drop_column('read_by_id')
