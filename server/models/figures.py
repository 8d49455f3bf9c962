"""A patient's adherence figures as the clinic's list sorts and filters on them."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import ForeignKey, String
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
    clinic_id: Mapped[int] = mapped_column(ForeignKey("clinics.id"), index=True)
    #: None (all four) when her stored record is one the engine cannot use (``status_error``)
    done_on_time: Mapped[int | None]
    due_so_far: Mapped[int | None]
    overdue_labs: Mapped[int | None]
    missed_checklists: Mapped[int | None]
    status_error: Mapped[str | None] = mapped_column(String(40))
    #: her local dates for which the figures hold; valid_until None: until her record changes
    valid_from: Mapped[date]
    valid_until: Mapped[date | None]
    #: sha256 of the content the figures were computed with (engine.sheet.content_version)
    content_version: Mapped[str] = mapped_column(String(64))
    computed_at: Mapped[datetime] = mapped_column(default=utcnow)
