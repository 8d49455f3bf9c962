"""the clinic's list by name walks an index instead of sorting the clinic

services.patient_list reads each page by walking (clinic_id, lower(display_name),
id) and stops at the page; before, every page of every order sorted all the
clinic's patients (docs/decisions.md "list: pages along an index").

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-05 14:10:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_patients_clinic_name', 'patients', ['clinic_id', sa.text('lower(display_name)'), 'id'],
                    unique=False)


def downgrade():
    op.drop_index('ix_patients_clinic_name', table_name='patients')
