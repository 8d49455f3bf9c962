"""patient attributes of CLINICAL.md v2: cervical screening, listeria_until

- ``patients.cervical_screening`` (null: the default by sex) and
  ``patients.listeria_until`` (a later end for the listeria diet of her latest
  course) are new columns.
- v1's clinic setting ``listeria_until`` is gone (the later end is decided per
  patient, 002 Rec 10). It moves onto the clinic's patients whose listeria
  window it extended and whose latest course that window belongs to, so that no
  patient loses a day of the diet she was told about; it is removed from the
  clinic's settings (docs/decisions.md, "Clinical rules v2").
- Family links still holding v1's default shares, in the order only the default
  ever stored them (a patient's own choice is stored sorted), get v2's default:
  kinds that reveal no finding (CLINICAL.md 6, change 13).

The dates are computed here, not by the engine, so that this revision keeps
meaning what it meant when it was written: listeria window of course k =
F_k - 14 days to L_k + 1 month (CLINICAL.md v1 and v2 2.1); v1 extended the
last window started on or before the date when the date was after its end.

Revision ID: 0006
Revises: 0005
Create Date: 2027-01-15 10:00:00
"""
from datetime import date, timedelta

import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

#: services.accounts.DEFAULT_FAMILY_SHARES of v1 and of v2, as stored by the default
V1_FAMILY_SHARES = ["lab", "checklist", "diet", "appointment"]
V2_FAMILY_SHARES = ["checklist", "appointment", "task", "medication", "diet", "safety"]

_DAYS = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)

clinics = sa.table('clinics', sa.column('id', sa.Integer), sa.column('settings', sa.JSON))
patients = sa.table('patients', sa.column('id', sa.Integer), sa.column('clinic_id', sa.Integer),
                    sa.column('listeria_until', sa.Date))
courses = sa.table('courses', sa.column('patient_id', sa.Integer), sa.column('infusions', sa.JSON))
family_links = sa.table('family_links', sa.column('id', sa.Integer), sa.column('shares', sa.JSON))


def _plus_one_month(day: date) -> date:
    year, month = (day.year + 1, 1) if day.month == 12 else (day.year, day.month + 1)
    leap = year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
    last = 29 if month == 2 and leap else _DAYS[month - 1]
    return date(year, month, min(day.day, last))


def _extends_latest_window(infusion_lists: list, until: date) -> bool:
    """Did v1's clinic setting extend this patient's listeria window, and is that
    window her latest course's? A record that cannot be read is left alone."""
    try:
        spans = sorted((min(days), max(days)) for days in
                       ([date.fromisoformat(d) for d in infusions] for infusions in infusion_lists) if days)
        windows = [(first - timedelta(days=14), _plus_one_month(last)) for first, last in spans]
    except (TypeError, ValueError, OverflowError):
        return False
    started = [index for index, (start, _) in enumerate(windows) if start <= until]
    if not started:
        return False
    current = started[-1]
    return current == len(windows) - 1 and until > windows[current][1]


def upgrade() -> None:
    with op.batch_alter_table('patients', schema=None) as batch_op:
        batch_op.add_column(sa.Column('cervical_screening', sa.Boolean(), nullable=True))
        batch_op.add_column(sa.Column('listeria_until', sa.Date(), nullable=True))

    bind = op.get_bind()
    for clinic_id, settings in bind.execute(sa.select(clinics.c.id, clinics.c.settings)).all():
        if not isinstance(settings, dict) or 'listeria_until' not in settings:
            continue
        value = settings['listeria_until']
        try:
            until = date.fromisoformat(value) if isinstance(value, str) else None
        except ValueError:
            until = None
        if until is not None:
            for (patient_id,) in bind.execute(sa.select(patients.c.id).where(patients.c.clinic_id == clinic_id)):
                lists = [row[0] for row in bind.execute(
                    sa.select(courses.c.infusions).where(courses.c.patient_id == patient_id))]
                if _extends_latest_window(lists, until):
                    bind.execute(sa.update(patients).where(patients.c.id == patient_id).values(listeria_until=until))
        rest = {name: v for name, v in settings.items() if name != 'listeria_until'}
        bind.execute(sa.update(clinics).where(clinics.c.id == clinic_id).values(settings=rest))

    for link_id, shares in bind.execute(sa.select(family_links.c.id, family_links.c.shares)).all():
        if shares == V1_FAMILY_SHARES:
            bind.execute(sa.update(family_links).where(family_links.c.id == link_id)
                         .values(shares=list(V2_FAMILY_SHARES)))


def downgrade() -> None:
    # The clinic setting is not restored: a per-patient date has no clinic-wide
    # equivalent. Links on v2's default go back to v1's.
    bind = op.get_bind()
    for link_id, shares in bind.execute(sa.select(family_links.c.id, family_links.c.shares)).all():
        if shares == V2_FAMILY_SHARES:
            bind.execute(sa.update(family_links).where(family_links.c.id == link_id)
                         .values(shares=list(V1_FAMILY_SHARES)))
    # ALTER TABLE ... DROP COLUMN (SQLite 3.35+) rather than copying the table: a
    # copy drops "patients", which the other tables' foreign keys refuse once rows exist.
    with op.batch_alter_table('patients', schema=None, recreate='never') as batch_op:
        batch_op.drop_column('listeria_until')
        batch_op.drop_column('cervical_screening')
