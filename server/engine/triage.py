"""Triage of the monthly symptom checklist (CLINICAL.md section 3)."""

from __future__ import annotations

from datetime import date
from typing import Any, Mapping, NamedTuple

from .content.model import Content, Question
from .dates import add_months
from .errors import InputError
from .inputs import Course, Patient


class TriageResult(NamedTuple):
    #: one of content's levels: none, routine, soon, urgent, emergency
    level: str
    #: the "yes" codes at that level, then "group:<name>" for a group rule that set it
    reasons: tuple[str, ...]


#: the reason a free-text note gives when it raised the level (API.md section 1)
NOTE_REASON = "note"


def is_asked(question: Question, patient: Patient) -> bool:
    """Whether ``patient`` is asked ``question`` (content/checklist.toml ``asked_of``).

    Childbearing potential decides whatever the ``sex`` field says (CLINICAL.md
    section 1): menstrual bleeding is asked when sex is female or childbearing
    potential is true; a possible pregnancy only with childbearing potential.
    """
    if question.asked_of == "female_or_childbearing":
        return patient.sex == "female" or patient.childbearing_potential
    if question.asked_of == "childbearing":
        return patient.childbearing_potential
    return True


def asked_questions(patient: Patient, content: Content) -> tuple[Question, ...]:
    """The questions this patient is asked, in her protocol's checklist order."""
    return tuple(q for q in content.of(patient.protocol).questions if is_asked(q, patient))


def has_note(note: Any) -> bool:
    """A note counts when it is text that is not empty or only white space."""
    return isinstance(note, str) and bool(note.strip())


def check_answers(answers: Any, patient: Patient, content: Content,
                  field: str = "answers") -> dict[str, bool]:
    """``answers`` as {code: bool}; refuses unknown codes, non-booleans and
    questions this patient is not asked (a "yes" there would be silently lost)."""
    if not isinstance(answers, Mapping):
        raise InputError(field, "expected an object of question codes to true/false")
    content = content.of(patient.protocol)
    asked = {q.code for q in asked_questions(patient, content)}
    known = set(content.question_codes)
    checked = {}
    for code, value in answers.items():
        where = f"{field}.{code}"
        if code not in known:
            raise InputError(where, "unknown question code")
        if code not in asked:
            raise InputError(where, "this question is not asked of this patient")
        if not isinstance(value, bool):
            raise InputError(where, "expected true or false")
        checked[code] = value
    return checked


def last_infusion_on_or_before(courses: tuple[Course, ...], day: date) -> date | None:
    latest = None
    for course in courses:
        for infusion in course.infusions:
            if infusion <= day and (latest is None or infusion > latest):
                latest = infusion
    return latest


def triage(patient: Patient, courses: tuple[Course, ...], answered_on: date,
           answers: Mapping[str, Any], content: Content, note: str | None = None) -> TriageResult:
    """The checklist's level: the highest level of its "yes" answers and group rules.

    Unanswered questions count as "no". A "yes" to a question with a
    ``near_infusion`` rule (fever) takes that rule's level when answered on or
    before L_prev + its months, L_prev being the last infusion on or before
    ``answered_on``. A ``note`` that is not blank raises a checklist that would
    be "none" to the care team's note level (routine), reason ``"note"``; it
    never raises a higher level and is not a reason when the answers set one
    (CLINICAL.md section 3, free text).
    """
    content = content.of(patient.protocol)
    answers = check_answers(answers, patient, content)
    rank = content.level_rank
    last_infusion = last_infusion_on_or_before(courses, answered_on)
    levels: dict[str, str] = {}
    for question in content.questions:
        if not answers.get(question.code, False):
            continue
        level = question.level
        near = question.near_infusion
        if (near is not None and last_infusion is not None
                and answered_on <= add_months(last_infusion, near.within_months)
                and rank(near.level) > rank(level)):
            level = near.level
        levels[question.code] = level
    for rule in content.group_rules:
        yes = sum(1 for q in content.questions if q.group == rule.group and q.code in levels)
        if yes >= rule.min_yes:
            levels[f"group:{rule.group}"] = rule.level
    top = max(levels.values(), key=rank, default=content.levels[0])
    if rank(top) == 0:  # nothing raised the level
        note_level = content.care_team.note_level if content.care_team is not None else None
        if note_level is not None and has_note(note):
            return TriageResult(note_level, (NOTE_REASON,))
        return TriageResult(top, ())
    return TriageResult(top, tuple(reason for reason, level in levels.items() if level == top))
