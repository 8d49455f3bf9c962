"""The care team's notes on a patient's record, and the history of her corrected or removed courses.

Notes are staff-only text: they never reach the patient, her family, a log
line or a push. Reads and writes are in the audit log by action name only.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models import Course, CourseChange, NurseNote, Patient, User
from .errors import InvalidInput

#: the longest note the care team may write (a page of text)
MAX_NOTE = 4000


def add_note(session: Session, patient: Patient, author: User, text: str, now: datetime) -> NurseNote:
    """A new note on ``patient``'s record, signed by ``author`` at ``now``; InvalidInput
    on ``text`` when it is blank or longer than MAX_NOTE characters."""
    text = text.strip()
    if not text:
        raise InvalidInput("text", "Write the note before saving it.")
    if len(text) > MAX_NOTE:
        raise InvalidInput("text", f"A note has at most {MAX_NOTE} characters.")
    note = NurseNote(patient_id=patient.id, author_id=author.id, text=text, created_at=now)
    session.add(note)
    session.flush()
    return note


def notes_of(session: Session, patient_id: int) -> list[tuple[NurseNote, str]]:
    """The patient's notes, newest first, each with its author's email (the signature)."""
    return [(note, email) for note, email in session.execute(
        select(NurseNote, User.email).join(User, User.id == NurseNote.author_id)
        .where(NurseNote.patient_id == patient_id).order_by(NurseNote.created_at.desc(), NurseNote.id.desc()))]


def record_course_change(session: Session, patient: Patient, course: Course, action: str, reason: str | None,
                         who: User, now: datetime) -> None:
    """Keep ``course`` as it stands before it is corrected or removed (``action``), with
    who, when and why (CLINICAL.md 6). Call it before changing the course."""
    session.add(CourseChange(patient_id=patient.id, course_id=course.id, action=action,
                             infusions_before=list(course.infusions), status_before=course.status,
                             reason=(reason or "").strip() or None, changed_by_id=who.id, changed_at=now))


def course_changes_of(session: Session, patient_id: int) -> list[tuple[CourseChange, str]]:
    """The patient's course corrections and removals, newest first, with who made them."""
    return [(change, email) for change, email in session.execute(
        select(CourseChange, User.email).join(User, User.id == CourseChange.changed_by_id)
        .where(CourseChange.patient_id == patient_id)
        .order_by(CourseChange.changed_at.desc(), CourseChange.id.desc()))]
