"""drop patient_id indexes that a unique constraint already provides

Each of these tables has a unique constraint whose first column is
patient_id, and its index answers every lookup by patient_id. The separate
index only cost every INSERT one more B-tree to update: a checklist, the most
frequent write, updated three secondary indexes where two do the work.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01 14:30:00
"""
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

#: (table, index): each table's unique constraint on (patient_id, ...) covers it
REDUNDANT = [
    ("checklists", "ix_checklists_patient_id"),
    ("lab_submissions", "ix_lab_submissions_patient_id"),
    ("family_links", "ix_family_links_patient_id"),
    ("reminders", "ix_reminders_patient_id"),
]


def upgrade() -> None:
    for table, index in REDUNDANT:
        op.drop_index(index, table_name=table)


def downgrade() -> None:
    for table, index in REDUNDANT:
        op.create_index(index, table, ["patient_id"], unique=False)
