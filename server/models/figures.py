"""A patient's adherence figures as the clinic's list sorts and filters on them."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from ..db import Base
from ..timeutil import utcnow


class PatientFigures(Base):
    """The engine's adherence figures of one patient (services.patient_list), kept
    so that a list of thousands can be searched, sorted and filtered in SQL.

    A cache, never the truth: a row holds for her local dates ``valid_from`` to
    ``valid_until`` and the content it was computed with; whatever changes her
    timeline deletes it (services.patient_list.forget_figures) and the next
    listing computes it again.
    """

    __tablename__ = "patient_figures"

    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id", ondelete="CASCADE"), primary_key=True)
    #: indexed by the list's indexes below, which all start with it
    clinic_id: Mapped[int] = mapped_column(ForeignKey("clinics.id"))
    #: None (all four) when her stored record is one the engine cannot use (``status_error``)
    done_on_time: Mapped[int | None]
    due_so_far: Mapped[int | None]
    overdue_labs: Mapped[int | None]
    missed_checklists: Mapped[int | None]
    status_error: Mapped[str | None] = mapped_column(String(40))
    #: done_on_time / due_so_far, None when nothing is due yet: the list's order "adherence"
    rate: Mapped[float | None]
    #: her lower(display_name) as the database computes it, copied when the figures are: an
    #: order by a figure, then the name, then the id is a walk along one index (below)
    name_key: Mapped[str] = mapped_column(String(120))
    #: her local dates for which the figures hold; valid_until None: until her record changes
    valid_from: Mapped[date]
    valid_until: Mapped[date | None]
    #: sha256 of the content the figures were computed with (engine.sheet.content_version)
    content_version: Mapped[str] = mapped_column(String(64))
    computed_at: Mapped[datetime] = mapped_column(default=utcnow)


# The list's orders by a figure (services.patient_list): a page is a walk along one of these that
# stops at the page. Ties go by name then id, upwards in either order: one index per direction.
for _figure in ("overdue_labs", "missed_checklists", "rate"):
    _column = PatientFigures.__table__.c[_figure]
    Index(f"ix_patient_figures_{_figure}", PatientFigures.clinic_id, _column, PatientFigures.name_key,
          PatientFigures.patient_id)
    Index(f"ix_patient_figures_{_figure}_desc", PatientFigures.clinic_id, _column.desc(),
          PatientFigures.name_key, PatientFigures.patient_id)
del _figure, _column
