"""password reset codes: one-time codes from the care team or by email (issue 16, point 1)

A table of its own rather than a kind of invite_codes: an invite code belongs
to a patient, a reset code to an account (family members and staff have no
patient row). Only the code's hash is stored.

Revision ID: 0009
Revises: 0007 (re-chained at merge time)
Create Date: 2026-12-05 07:00:00
"""
import sqlalchemy as sa
from alembic import op

import server.db

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('password_reset_codes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code_hash', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('channel', sa.String(length=8), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', server.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', server.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('used_at', server.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], ),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('code_hash')
    )
    with op.batch_alter_table('password_reset_codes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_password_reset_codes_user_id'), ['user_id'], unique=False)


def downgrade():
    with op.batch_alter_table('password_reset_codes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_password_reset_codes_user_id'))
    op.drop_table('password_reset_codes')
