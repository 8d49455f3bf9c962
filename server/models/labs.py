from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import ForeignKey, String, UniqueConstraint
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
    __tablename__ = "lab_results"

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("lab_submissions.id"), index=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), index=True)
    analyte: Mapped[str] = mapped_column(String(20))
    #: number analytes; None with value_text None means "sample taken, result pending"
    value_num: Mapped[float | None]
    #: "positive" / "negative" analytes
    value_text: Mapped[str | None] = mapped_column(String(10))
    ref_low: Mapped[float | None]
    ref_high: Mapped[float | None]
    taken_on: Mapped[date] = mapped_column(index=True)
    patient_reported: Mapped[bool]

    @property
    def value(self) -> float | str | None:
        return self.value_text if self.value_text is not None else self.value_num
