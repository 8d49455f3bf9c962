"""When a patient's record changes: the clock re-plans her reminders and the list
forgets her kept adherence figures (services.patient_list)."""

from __future__ import annotations

from typing import Iterable

from sqlalchemy import delete
from sqlalchemy.orm import Session, object_session

from ..models import Patient, PatientFigures


def forget_figures(session: Session, patient_ids: Iterable[int] | None = None, clinic_id: int | None = None) -> None:
    """Her timeline changed (a course, a pregnancy, a result, a checklist, a site
    setting...): the clinic's next listing computes these patients' figures again.
    :func:`record_changed` says it to the clock as well."""
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


def record_changed(patient: Patient) -> None:
    """Her timeline changed (a course, a pregnancy, a result, her attributes...):
    the clock re-plans her reminders (``reminders_until`` None: services.reminders
    takes her at its next tick) and the clinic's next listing computes her
    figures again. The one call for both, so that neither is forgotten."""
    patient.reminders_until = None
    forget(patient)
