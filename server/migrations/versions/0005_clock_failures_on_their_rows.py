"""a failure of the clock is recorded on its row: a patient's planning, a message's send

One bad row never stops the service for others (docs/decisions.md): a patient
whose stored record the engine cannot plan keeps why (``plan_error``) and how
many times in a row (``plan_attempts``), and the clock tries again later; a
delivery keeps why its last attempt did not go (``last_error``) beside its
``attempts`` and ``last_status``.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 10:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('patients', schema=None) as batch_op:
        batch_op.add_column(sa.Column('plan_error', sa.String(length=80), nullable=True))
        batch_op.add_column(sa.Column('plan_attempts', sa.Integer(), server_default='0', nullable=False))
    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.add_column(sa.Column('last_error', sa.String(length=80), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.drop_column('last_error')
    with op.batch_alter_table('patients', schema=None) as batch_op:
        batch_op.drop_column('plan_attempts')
        batch_op.drop_column('plan_error')
