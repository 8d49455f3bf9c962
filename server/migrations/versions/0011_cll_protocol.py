"""cll protocol: a patient's protocol, and each course administration's dose and route (issue 20)

Every existing patient follows the MS protocol (the server default); a course
recorded before has no doses (null).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05 08:15:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('patients', schema=None) as batch_op:
        batch_op.add_column(sa.Column('protocol', sa.String(length=10), server_default='ms', nullable=False))
    with op.batch_alter_table('courses', schema=None) as batch_op:
        batch_op.add_column(sa.Column('doses', sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table('courses', schema=None) as batch_op:
        batch_op.drop_column('doses')
    with op.batch_alter_table('patients', schema=None) as batch_op:
        batch_op.drop_column('protocol')
