"""nurse notes and course changes: the care team's notes on a record, and why a course was corrected

Both hold text of the care team about one patient; both are erased with her
(DELETE /me). ``course_changes.course_id`` has no foreign key: the row keeps
the original of a course that was removed.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-05 08:10:00
"""
import sqlalchemy as sa
from alembic import op

import server.db

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('nurse_notes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('patient_id', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('created_at', server.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], ),
    sa.ForeignKeyConstraint(['patient_id'], ['patients.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('nurse_notes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_nurse_notes_patient_id'), ['patient_id'], unique=False)
    op.create_table('course_changes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('patient_id', sa.Integer(), nullable=False),
    sa.Column('course_id', sa.Integer(), nullable=False),
    sa.Column('action', sa.String(length=10), nullable=False),
    sa.Column('infusions_before', sa.JSON(), nullable=False),
    sa.Column('status_before', sa.String(length=10), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('changed_by_id', sa.Integer(), nullable=False),
    sa.Column('changed_at', server.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['changed_by_id'], ['users.id'], ),
    sa.ForeignKeyConstraint(['patient_id'], ['patients.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('course_changes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_course_changes_patient_id'), ['patient_id'], unique=False)


def downgrade():
    with op.batch_alter_table('course_changes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_course_changes_patient_id'))
    op.drop_table('course_changes')
    with op.batch_alter_table('nurse_notes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_nurse_notes_patient_id'))
    op.drop_table('nurse_notes')
