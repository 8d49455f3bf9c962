"""Forgetting a patient's kept adherence figures when her record changes (services.patient_list)."""

from __future__ import annotations

from typing import Iterable

from sqlalchemy import delete
from sqlalchemy.orm import Session, object_session

from ..models import Patient, PatientFigures


def forget_figures(session: Session, patient_ids: Iterable[int] | None = None, clinic_id: int | None = None) -> None:
    """Her timeline changed (a course, a pregnancy, a result, a checklist, a site
    setting...): the clinic's next listing computes these patients' figures again.
    Beside every ``reminders_until = None``, which says the same to the clock."""
    query = delete(PatientFigures)
    if patient_ids is not None:
        query = query.where(PatientFigures.patient_id.in_(list(patient_ids)))
    if clinic_id is not None:
        query = query.where(PatientFigures.clinic_id == clinic_id)
    session.execute(query.execution_options(synchronize_session=False))


def forget(patient: Patient) -> None:
    """:func:`forget_figures` of ``patient``, in the session that holds her."""
    session = object_session(patient)
    if session is not None and patient.id is not None:
        forget_figures(session, [patient.id])
