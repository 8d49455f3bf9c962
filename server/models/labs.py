"""Lab results and the submissions (samples) they came in."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..db import Base
from ..timeutil import utcnow


class LabSubmission(Base):
    """Results of one sample, recorded together by the patient or the care team."""

    __tablename__ = "lab_submissions"
    __table_args__ = (UniqueConstraint("patient_id", "client_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # No index of its own: the unique constraint begins with it (migration 0003).
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"))
    client_id: Mapped[str] = mapped_column(String(36))
    taken_on: Mapped[date]
    patient_reported: Mapped[bool]
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    response: Mapped[dict[str, Any]]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    results: Mapped[list["LabResult"]] = relationship(cascade="all, delete-orphan")


class LabResult(Base):
    """One analyte's result. Numbers are stored in the analyte's canonical unit
    (CLINICAL.md 4.1), with what was recorded beside them.

    A result is never changed in place: a correction withdraws the row and adds
    its replacement (``replaced_by_id``), a withdrawal only withdraws it; the
    withdrawn row keeps the original and says who withdrew it, when and why
    (CLINICAL.md section 6). Only rows with ``withdrawn_at`` null count.
    """

    __tablename__ = "lab_results"

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("lab_submissions.id"), index=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), index=True)
    analyte: Mapped[str] = mapped_column(String(20))
    #: number analytes, in ``unit``; None with value_text None means "sample taken, result pending"
    value_num: Mapped[float | None]
    #: "positive" / "negative" analytes
    value_text: Mapped[str | None] = mapped_column(String(10))
    #: the canonical unit of value_num and the range (None: positive/negative or sample taken)
    unit: Mapped[str | None] = mapped_column(String(20))
    ref_low: Mapped[float | None]
    ref_high: Mapped[float | None]
    #: the number and unit as the person entered them (the same as value_num/unit when
    #: entered in the canonical unit)
    value_as_recorded: Mapped[float | None]
    unit_as_recorded: Mapped[str | None] = mapped_column(String(20))
    taken_on: Mapped[date] = mapped_column(index=True)
    patient_reported: Mapped[bool]
    #: who entered this row; None on rows older than corrections: the submission's recorder
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime | None]
    #: set when the row was withdrawn or corrected (then replaced_by_id is its replacement)
    withdrawn_at: Mapped[datetime | None]
    withdrawn_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    withdrawal_reason: Mapped[str | None] = mapped_column(Text)
    replaced_by_id: Mapped[int | None] = mapped_column(ForeignKey("lab_results.id"))

    @property
    def value(self) -> float | str | None:
        return self.value_text if self.value_text is not None else self.value_num

    @property
    def current(self) -> bool:
        return self.withdrawn_at is None
