"""the clinic's list walks an index in every order instead of sorting the clinic

services.patient_list reads each page by walking an index and stops at the page;
before, every page of every order sorted all the clinic's patients
(docs/decisions.md "list: pages along an index"). By name: (clinic_id,
lower(display_name), id). By a figure: patient_figures gets the rate and the
patient's lower(display_name) (name_key), filled here from the rows kept, and
an index per figure and direction (ties by name then id go upwards in both).

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


FIGURES = ('overdue_labs', 'missed_checklists', 'rate')


def upgrade():
    # SQLite: the batch operations reflect patients too (a foreign key), and SQLAlchemy warns on
    # reflecting an index on an expression: they come before it. A later batch operation on
    # patients itself would drop it there (tests/api/test_migrations.py says so).
    with op.batch_alter_table('patient_figures', schema=None) as batch_op:
        batch_op.add_column(sa.Column('rate', sa.Double(), nullable=True))
        batch_op.add_column(sa.Column('name_key', sa.String(length=120), nullable=True))
    op.execute("UPDATE patient_figures SET "
               "name_key = (SELECT lower(display_name) FROM patients WHERE patients.id = patient_figures.patient_id), "
               "rate = CASE WHEN due_so_far > 0 THEN CAST(done_on_time AS FLOAT) / due_so_far END")
    with op.batch_alter_table('patient_figures', schema=None) as batch_op:
        batch_op.alter_column('name_key', existing_type=sa.String(length=120), nullable=False)
    op.create_index('ix_patients_clinic_name', 'patients', ['clinic_id', sa.text('lower(display_name)'), 'id'],
                    unique=False)
    for figure in FIGURES:
        op.create_index(f'ix_patient_figures_{figure}', 'patient_figures',
                        ['clinic_id', figure, 'name_key', 'patient_id'], unique=False)
        op.create_index(f'ix_patient_figures_{figure}_desc', 'patient_figures',
                        ['clinic_id', sa.text(f'{figure} DESC'), 'name_key', 'patient_id'], unique=False)
    # Every index above starts with clinic_id: the one on clinic_id alone only cost writes.
    op.drop_index('ix_patient_figures_clinic_id', table_name='patient_figures')


def downgrade():
    op.create_index('ix_patient_figures_clinic_id', 'patient_figures', ['clinic_id'], unique=False)
    op.drop_index('ix_patients_clinic_name', table_name='patients')
    for figure in FIGURES:
        op.drop_index(f'ix_patient_figures_{figure}_desc', table_name='patient_figures')
        op.drop_index(f'ix_patient_figures_{figure}', table_name='patient_figures')
    with op.batch_alter_table('patient_figures', schema=None) as batch_op:
        batch_op.drop_column('name_key')
        batch_op.drop_column('rate')
