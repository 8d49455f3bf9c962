"""Family access: granted by an invite code (services.accounts), revoked by the patient."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models import FamilyLink


def active_link(session: Session, user_id: int, patient_id: int) -> FamilyLink | None:
    """The family member's unrevoked link to this patient, if any."""
    return session.scalar(select(FamilyLink).where(
        FamilyLink.patient_id == patient_id, FamilyLink.user_id == user_id, FamilyLink.revoked_at.is_(None)))


def linked_patient_id(session: Session, user_id: int) -> int | None:
    """The patient a family member follows (their oldest unrevoked link), if any."""
    return session.scalar(select(FamilyLink.patient_id).where(
        FamilyLink.user_id == user_id, FamilyLink.revoked_at.is_(None)).order_by(FamilyLink.id))


def active_links(session: Session, patient_id: int) -> list[FamilyLink]:
    return list(session.scalars(select(FamilyLink).where(
        FamilyLink.patient_id == patient_id, FamilyLink.revoked_at.is_(None)).order_by(FamilyLink.id)))


def revoke(session: Session, patient_id: int, user_id: int, now: datetime) -> bool:
    """End ``user_id``'s access to this patient at once; False when there was none."""
    link = session.scalar(select(FamilyLink).where(
        FamilyLink.patient_id == patient_id, FamilyLink.user_id == user_id, FamilyLink.revoked_at.is_(None)))
    if link is None:
        return False
    link.revoked_at = now
    # Access is checked on every request, so this alone ends it. The relative's
    # sessions stay: their open app answers 404 for her and says plainly that she
    # no longer shares with them, with a way to log out (docs/decisions.md, "tidy");
    # their account, and any other patient who shares with them, are still theirs.
    return True
