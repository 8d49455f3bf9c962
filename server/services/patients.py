"""Patients, their courses and their timeline with each item's status."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Iterable, Mapping

from sqlalchemy import bindparam, func, select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from zoneinfo import ZoneInfo

from ..db import DriverStatement
from ..engine import inputs as engine_inputs
from ..engine.errors import InputError
from ..engine.protocol import Content
from ..engine.timeline import Item, Timeline, item_to_json, monitoring_end, timeline
from ..models import Checklist, Clinic, Course, FamilyLink, Flag, LabResult, Patient, Pregnancy, User
from ..timeutil import utcnow
from . import accounts


def clinic_settings(clinic: Clinic, content: Content) -> Mapping[str, Any]:
    return engine_inputs.resolve_settings(clinic.settings or {}, content)


def engine_patient(patient: Patient) -> engine_inputs.Patient:
    return engine_person(patient, patient.pregnancies)


def engine_person(fields: Any, pregnancies: Iterable[Any]) -> engine_inputs.Patient:
    """The engine's patient from anything with a patient's columns (an ORM
    patient or a plain row) and her pregnancies."""
    return engine_inputs.Patient(
        sex=fields.sex,
        childbearing_potential=fields.childbearing_potential,
        breastfeeding=fields.breastfeeding,
        pregnancies=tuple(engine_inputs.Pregnancy(p.reported_on, p.ended_on) for p in pregnancies),
        baseline=dict(fields.baseline or {}),
        language=fields.language,
        timezone=fields.timezone,
    )


def engine_courses(courses: Iterable[Course]) -> tuple[engine_inputs.Course, ...]:
    return engine_inputs.check_courses(
        [engine_inputs.make_course([date.fromisoformat(d) for d in c.infusions], c.status) for c in courses]
    )


@dataclass(frozen=True)
class Record:
    """What the rules and the advice need of one patient, without the ORM.

    The monthly checklist is the most frequent request: reading this with
    three statements on the driver (:func:`load_record`) costs a fraction of
    loading the patient, clinic, courses and pregnancies as ORM objects.
    """

    id: int
    clinic_id: int
    clinic_phone: str
    emergency_number: str
    person: engine_inputs.Patient
    courses: tuple[engine_inputs.Course, ...]

    @property
    def language(self) -> str:
        return self.person.language

    @property
    def timezone(self) -> str:
        return self.person.timezone


def record_of(patient: Patient) -> Record:
    """The record of a patient already loaded through the ORM."""
    return Record(id=patient.id, clinic_id=patient.clinic_id, clinic_phone=patient.clinic.phone,
                  emergency_number=patient.clinic.emergency_number, person=engine_patient(patient),
                  courses=engine_courses(patient.courses))


_patients, _clinics = Patient.__table__, Clinic.__table__
_courses, _pregnancies = Course.__table__, Pregnancy.__table__
# Built once and run on the driver (server.db.DriverStatement): every checklist reads them.
_RECORD = DriverStatement(
    select(_patients.c.id, _patients.c.clinic_id, _patients.c.sex, _patients.c.childbearing_potential,
           _patients.c.breastfeeding, _patients.c.baseline, _patients.c.language, _patients.c.timezone,
           _clinics.c.phone, _clinics.c.emergency_number)
    .join_from(_patients, _clinics, _clinics.c.id == _patients.c.clinic_id)
    .where(_patients.c.id == bindparam("patient_id")))
# The same order as the ORM relationships (Patient.courses, Patient.pregnancies).
_RECORD_COURSES = DriverStatement(select(_courses.c.infusions, _courses.c.status)
                                  .where(_courses.c.patient_id == bindparam("patient_id"))
                                  .order_by(_courses.c.id))
_RECORD_PREGNANCIES = DriverStatement(select(_pregnancies.c.reported_on, _pregnancies.c.ended_on)
                                      .where(_pregnancies.c.patient_id == bindparam("patient_id"))
                                      .order_by(_pregnancies.c.reported_on))


def load_record(on: Session | Connection, patient_id: int) -> Record | None:
    """The record of patient ``patient_id`` (None if there is none), read on the driver."""
    key = {"patient_id": patient_id}
    row = _RECORD.first(on, key)
    if row is None:
        return None
    return Record(id=row.id, clinic_id=row.clinic_id, clinic_phone=row.phone, emergency_number=row.emergency_number,
                  person=engine_person(row, _RECORD_PREGNANCIES.rows(on, key)),
                  courses=engine_courses(_RECORD_COURSES.rows(on, key)))


def engine_labs(results: Iterable[LabResult], content: Content) -> tuple[engine_inputs.LabResult, ...]:
    """Results with a value ("sample taken" reports have none) in date order."""
    made = [
        engine_inputs.make_lab_result(r.analyte, r.value, r.taken_on, content, r.ref_low, r.ref_high,
                                      r.patient_reported)
        for r in results if r.value is not None
    ]
    return tuple(sorted(made, key=lambda r: r.taken_on))


def lab_results_of(session: Session, patient_id: int, analyte: str | None = None) -> list[LabResult]:
    query = select(LabResult).where(LabResult.patient_id == patient_id)
    if analyte is not None:
        query = query.where(LabResult.analyte == analyte)
    return list(session.scalars(query.order_by(LabResult.taken_on, LabResult.id)))


def page_of_patients(session: Session, clinic_id: int, page: int, per_page: int) -> tuple[list[Patient], int]:
    """One page of the clinic's patients by name, and how many there are in all."""
    base = select(Patient).where(Patient.clinic_id == clinic_id)
    total = session.scalar(select(func.count()).select_from(base.subquery()))
    patients = list(session.scalars(base.order_by(Patient.display_name, Patient.id)
                                    .offset((page - 1) * per_page).limit(per_page)))
    return patients, total


def create_patient(session: Session, clinic: Clinic, fields: Mapping[str, Any], creator: User, now: datetime,
                   config: Mapping) -> tuple[Patient, str, datetime]:
    """A new patient of ``clinic`` and a single-use enrollment code for their account."""
    patient = Patient(clinic_id=clinic.id, created_at=now, **fields)
    session.add(patient)
    session.flush()
    code, expires = accounts.issue_code(session, patient, "enrollment", creator, now,
                                        config["ENROLLMENT_CODE_DAYS"])
    return patient, code, expires


def update_patient(patient: Patient, fields: Mapping[str, Any]) -> None:
    pregnancies = fields.get("pregnancies")
    for name, value in fields.items():
        if name != "pregnancies":
            setattr(patient, name, value)
    if pregnancies is not None:
        patient.pregnancies = [Pregnancy(reported_on=p["reported_on"], ended_on=p.get("ended_on"))
                               for p in pregnancies]
    patient.reminders_until = None  # sex, pregnancy, time zone...: the clock re-plans


def add_course(patient: Patient, infusions: list[date], status: str, creator: User,
               now: datetime) -> Course:
    """Record a course; refuses one that overlaps a recorded course, or a "given"
    course with infusions after the patient's today (that is a planned one)."""
    new = engine_inputs.make_course(infusions, status, "infusions")
    today = now.astimezone(ZoneInfo(patient.timezone)).date()
    if status == "given" and new.last > today:
        raise InputError("infusions", f"{new.last.isoformat()} is in the future: record the course as planned")
    existing = engine_courses(patient.courses)
    engine_inputs.check_courses([*existing, new], "infusions")
    course = Course(infusions=[d.isoformat() for d in new.infusions], status=status, created_by_id=creator.id,
                    created_at=now)
    patient.courses.append(course)
    patient.reminders_until = None  # the clock re-plans her reminders
    return course


@dataclass(frozen=True)
class History:
    """Everything the engine needs about one patient, loaded once."""

    patient: Patient
    courses: list[Course]
    results: list[LabResult]
    checklists: list[Checklist]


def load_history(session: Session, patient: Patient) -> History:
    return History(
        patient,
        list(patient.courses),
        lab_results_of(session, patient.id),
        list(session.scalars(select(Checklist).where(Checklist.patient_id == patient.id))),
    )


def compute_timeline(history: History, content: Content) -> Timeline:
    patient = history.patient
    return timeline(engine_patient(patient), engine_courses(history.courses),
                    engine_labs(history.results, content), clinic_settings(patient.clinic, content), content)


# --- item status ----------------------------------------------------------------


@dataclass(frozen=True)
class StatusRules:
    """The windows that decide an item's status (site settings and content/)."""

    lab_window: timedelta
    weekly_window: timedelta
    checklist_opens: timedelta
    checklist_missed: timedelta
    lab_analytes: Mapping[str, tuple[str, ...]]

    @classmethod
    def of(cls, settings: Mapping[str, Any], content: Content) -> "StatusRules":
        checklist = next(rule for rule in content.items if rule.kind == "checklist")
        window = timedelta(days=settings["lab_window_days"])
        return cls(
            lab_window=window,
            # Weekly blood counts are 7 days apart: a result counts for the nearest one only.
            weekly_window=min(window, timedelta(days=content.weekly_cbc.interval_days // 2)),
            checklist_opens=timedelta(days=checklist.window_before_days),
            checklist_missed=timedelta(days=checklist.missed_after_days),
            lab_analytes={rule.code: rule.analytes for rule in content.items if rule.kind == "lab"},
        )


def item_status(item: Item, today: date, rules: StatusRules, lab_days: Mapping[str, list[date]],
                checklist_periods: set[int]) -> tuple[str, bool]:
    """(status, tracked): tracked items are those the app records as done."""
    if item.kind == "lab":
        window = rules.weekly_window if item.cadence == "weekly" else rules.lab_window
        low, high = item.due - window, item.due + window
        if any(low <= day <= high for analyte in rules.lab_analytes[item.code] for day in lab_days.get(analyte, ())):
            return "done", True
        return ("upcoming" if today < low else "due" if today <= high else "overdue"), True
    if item.kind == "checklist":
        if item.month in checklist_periods:
            return "done", True
        if today < item.due - rules.checklist_opens:
            return "upcoming", True
        return ("due" if today <= item.due + rules.checklist_missed else "missed"), True
    if item.due is None:  # a window: diet, medication, precautions...
        if today < item.start:
            return "upcoming", False
        return ("due" if item.end is None or today <= item.end else "done"), False
    # Appointments, screening and scans are recorded in the clinic's own systems;
    # here they are due around their day and "done" once it has passed.
    if today < item.due - rules.lab_window:
        return "upcoming", False
    return ("due" if today <= item.due + rules.lab_window else "done"), False


def _status_inputs(history: History, content: Content) -> tuple[StatusRules, dict[str, list[date]], set[int]]:
    """What item_status needs besides the item: the windows, the days each analyte
    was sampled, and the checklist periods answered."""
    rules = StatusRules.of(clinic_settings(history.patient.clinic, content), content)
    lab_days: dict[str, list[date]] = {}
    for r in history.results:
        lab_days.setdefault(r.analyte, []).append(r.taken_on)
    return rules, lab_days, {c.period for c in history.checklists}


def timeline_with_status(history: History, today: date, content: Content, language: str,
                         kinds: Iterable[str] | None = None, start: date | None = None,
                         end: date | None = None) -> tuple[Timeline, list[dict[str, Any]]]:
    result = compute_timeline(history, content)
    rules, lab_days, periods = _status_inputs(history, content)
    allowed = set(kinds) if kinds is not None else None
    out = []
    for item in result.items:
        if allowed is not None and item.kind not in allowed:
            continue
        last_day = item.due if item.due is not None else item.end
        if start is not None and last_day is not None and last_day < start:
            continue
        if end is not None and item.on > end:
            continue
        status, tracked = item_status(item, today, rules, lab_days, periods)
        out.append({**item_to_json(item, content, language), "status": status, "tracked": tracked})
    return result, out


def adherence(history: History, today: date, content: Content) -> dict[str, Any]:
    """Labs and checklists due so far: done on time, overdue, missed (CLINICAL.md 2.2)."""
    result = compute_timeline(history, content)
    rules, lab_days, periods = _status_inputs(history, content)
    counts = {"done": 0, "overdue": 0, "missed": 0}
    due_so_far = 0
    for item in result.items:
        if item.kind not in ("lab", "checklist") or item.due > today:
            continue
        status, _ = item_status(item, today, rules, lab_days, periods)
        if status in counts:
            counts[status] += 1
        if status != "upcoming":
            due_so_far += 1
    return {
        "done_on_time": counts["done"],
        "due_so_far": due_so_far,
        "overdue_labs": counts["overdue"],
        "missed_checklists": counts["missed"],
        "rate": round(counts["done"] / due_so_far, 3) if due_so_far else None,
    }


def monitoring_end_of(courses: Iterable[Course], content: Content) -> date | None:
    return monitoring_end(engine_courses(courses), content)


def export(session: Session, patient: Patient) -> dict[str, Any]:
    """The patient's own data (GDPR access and portability): answers, results, flag states."""
    def day(value):
        return value.isoformat() if value is not None else None

    checklists = session.scalars(select(Checklist).where(Checklist.patient_id == patient.id).order_by(Checklist.id))
    flags = session.scalars(select(Flag).where(Flag.patient_id == patient.id).order_by(Flag.id))
    links = session.scalars(select(FamilyLink).where(FamilyLink.patient_id == patient.id).order_by(FamilyLink.id))
    return {
        "exported_at": utcnow().isoformat(),
        "checklists": [{"answered_on": day(c.answered_on), "answers": dict(c.answers), "note": c.note,
                        "level": c.level, "reasons": list(c.reasons)} for c in checklists],
        "lab_results": [{"analyte": r.analyte, "value": r.value, "ref_low": r.ref_low, "ref_high": r.ref_high,
                         "taken_on": day(r.taken_on), "patient_reported": r.patient_reported}
                        for r in lab_results_of(session, patient.id)],
        "flags": [{"level": f.level, "reasons": list(f.reasons), "status": f.status, "created_at": day(f.created_at),
                   "outcome": f.outcome} for f in flags],
        "family": [{"email": link.user.email, "shares": list(link.shares), "since": day(link.created_at),
                    "revoked_at": day(link.revoked_at)} for link in links],
    }
