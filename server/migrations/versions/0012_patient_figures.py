"""patient figures: the clinic's list sorts and filters on adherence in SQL (issue 17, point 4)

A cache of the engine's adherence figures per patient: rows appear as the
list computes them, so the migration writes none.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-05 08:00:00
"""
import sqlalchemy as sa
from alembic import op

import server.db

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('patient_figures',
    sa.Column('patient_id', sa.Integer(), nullable=False),
    sa.Column('clinic_id', sa.Integer(), nullable=False),
    sa.Column('done_on_time', sa.Integer(), nullable=True),
    sa.Column('due_so_far', sa.Integer(), nullable=True),
    sa.Column('overdue_labs', sa.Integer(), nullable=True),
    sa.Column('missed_checklists', sa.Integer(), nullable=True),
    sa.Column('status_error', sa.String(length=40), nullable=True),
    sa.Column('valid_from', sa.Date(), nullable=False),
    sa.Column('valid_until', sa.Date(), nullable=True),
    sa.Column('content_version', sa.String(length=64), nullable=False),
    sa.Column('computed_at', server.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['clinic_id'], ['clinics.id'], ),
    sa.ForeignKeyConstraint(['patient_id'], ['patients.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('patient_id')
    )
    with op.batch_alter_table('patient_figures', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_patient_figures_clinic_id'), ['clinic_id'], unique=False)


def downgrade():
    with op.batch_alter_table('patient_figures', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_patient_figures_clinic_id'))
    op.drop_table('patient_figures')
