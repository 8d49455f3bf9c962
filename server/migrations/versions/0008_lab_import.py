"""lab import (issue 19): hospital numbers, clinic API keys, import keys

- ``patients.hospital_number``: the hospital's number for the patient, set by
  the care team, unique within a clinic (null for any number of patients);
  a laboratory's results are matched on it.
- ``api_keys``: a laboratory system's key per clinic, stored as its SHA-256.
- ``lab_import_keys``: one row per imported result, unique per clinic: the
  same observation or CSV row imported again stores nothing new.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-05 06:30:00
"""
import sqlalchemy as sa
from alembic import op

import server.db

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A plain column and a unique index: SQLite adds both without rebuilding the table
    # (a batch rebuild of patients would break the foreign keys that point to it).
    op.add_column('patients', sa.Column('hospital_number', sa.String(length=40), nullable=True))
    op.create_index('ix_patients_clinic_id_hospital_number', 'patients', ['clinic_id', 'hospital_number'],
                    unique=True)
    op.create_table(
        'api_keys',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('clinic_id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=100), nullable=False),
        sa.Column('key_hash', sa.String(length=64), nullable=False),
        sa.Column('prefix', sa.String(length=16), nullable=False),
        sa.Column('created_by_id', sa.Integer(), nullable=True),
        sa.Column('created_at', server.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('last_used_at', server.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column('revoked_at', server.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['clinic_id'], ['clinics.id']),
        sa.ForeignKeyConstraint(['created_by_id'], ['users.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('key_hash'),
    )
    op.create_index('ix_api_keys_clinic_id', 'api_keys', ['clinic_id'], unique=False)
    op.create_table(
        'lab_import_keys',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('clinic_id', sa.Integer(), nullable=False),
        sa.Column('import_key', sa.String(length=64), nullable=False),
        sa.Column('submission_id', sa.Integer(), nullable=False),
        sa.Column('created_at', server.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['clinic_id'], ['clinics.id']),
        sa.ForeignKeyConstraint(['submission_id'], ['lab_submissions.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('clinic_id', 'import_key'),
    )
    op.create_index('ix_lab_import_keys_submission_id', 'lab_import_keys', ['submission_id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_lab_import_keys_submission_id', table_name='lab_import_keys')
    op.drop_table('lab_import_keys')
    op.drop_index('ix_api_keys_clinic_id', table_name='api_keys')
    op.drop_table('api_keys')
    op.drop_index('ix_patients_clinic_id_hospital_number', table_name='patients')
    with op.batch_alter_table('patients', schema=None) as batch_op:
        batch_op.drop_column('hospital_number')
