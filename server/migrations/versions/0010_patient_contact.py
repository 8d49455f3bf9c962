"""patient contact details (issue 17): phone and date of birth

Both nullable plain columns: SQLite adds them without rebuilding the table.
They are personal data: the care team's and the patient's views only.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05 08:10:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('patients', sa.Column('phone', sa.String(length=30), nullable=True))
    op.add_column('patients', sa.Column('date_of_birth', sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('patients') as batch:
        batch.drop_column('date_of_birth')
        batch.drop_column('phone')
