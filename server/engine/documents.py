"""The engine's JSON documents (``alemtrack timeline`` and ``triage``): parse, compute, render.

Shared by the ``alemtrack`` command line and anything else that speaks those
documents; each function takes a parsed JSON value and returns one.
"""

from __future__ import annotations

from typing import Any, Mapping

from .content.model import Content
from .dates import parse_date
from .errors import InputError
from .inputs import parse_courses, parse_labs, parse_patient, resolve_settings
from .timeline import timeline, timeline_to_json
from .triage import triage


def _document(doc: Any, allowed: tuple[str, ...]) -> Mapping[str, Any]:
    if not isinstance(doc, Mapping):
        raise InputError("(document)", "expected a JSON object")
    for key in doc:
        if key not in allowed:
            raise InputError(str(key), f"unknown field (expected one of {', '.join(allowed)})")
    if "courses" not in doc:
        raise InputError("courses", "is required (a list, possibly empty)")
    return doc


def timeline_document(doc: Any, content: Content) -> dict[str, Any]:
    """``alemtrack timeline``: {patient, courses, labs, settings} -> {items, flags, monitoring_ends}."""
    doc = _document(doc, ("patient", "courses", "labs", "settings"))
    patient = parse_patient(doc.get("patient", {}), content)
    content = content.of(patient.protocol)
    result = timeline(
        patient,
        parse_courses(doc["courses"], protocol=patient.protocol),
        parse_labs(doc.get("labs", []), content),
        resolve_settings(doc.get("settings", {}), content),
        content,
    )
    return timeline_to_json(result, content, patient.language)


def triage_document(doc: Any, content: Content) -> dict[str, Any]:
    """``alemtrack triage``: {patient, courses, answered_on, answers, note?} -> {level, reasons}.

    ``note`` (optional, text or null) is the free-text answer: a non-blank note
    gives reason "note" when nothing else raised the level.
    """
    doc = _document(doc, ("patient", "courses", "answered_on", "answers", "note"))
    if "answered_on" not in doc:
        raise InputError("answered_on", "is required")
    if "answers" not in doc:
        raise InputError("answers", "is required")
    note = doc.get("note")
    if note is not None and not isinstance(note, str):
        raise InputError("note", "expected a text or null")
    patient = parse_patient(doc.get("patient", {}), content)
    result = triage(
        patient,
        parse_courses(doc["courses"], protocol=patient.protocol),
        parse_date(doc["answered_on"], "answered_on"),
        doc["answers"],
        content,
        note=note,
    )
    return {"level": result.level, "reasons": list(result.reasons)}
