"""clock at scale: indexes that find old history for the clock to delete (issue 18, point 4)

BRIN on PostgreSQL: reminder rows and deliveries are written in time order, so
a block range index of a few pages finds the rows older than the retention
period, however many years are stored. With autosummarize, autovacuum
summarizes each block range once it fills: rows written since are not all
read as "may match". SQLite gets a B-tree.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-05 08:30:00
"""
from alembic import op

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_reminders_history', 'reminders', ['due_at'], unique=False, postgresql_using='brin',
                    postgresql_with={'autosummarize': 'on'})
    op.create_index('ix_deliveries_history', 'deliveries', ['created_at'], unique=False, postgresql_using='brin',
                    postgresql_with={'autosummarize': 'on'})


def downgrade():
    op.drop_index('ix_deliveries_history', table_name='deliveries')
    op.drop_index('ix_reminders_history', table_name='reminders')
