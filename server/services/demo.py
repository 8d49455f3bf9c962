"""Demo data (``seed-demo``): one clinic at work, dated relative to today.

A nurse, an admin, twelve MS patients at different points of treatment (before
course 1, between courses, year 3 of monitoring, pregnant, falling platelets,
overdue labs...), two CLL patients (in week 5 of an IV course with a CMV
reactivation; ten months after an SC course with CD4 recovered), their labs
and checklists, some open flags and family members. Everything goes through
the same services as the API.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from typing import Any, Mapping

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..engine.content.loading import default_content
from ..engine.dates import add_months
from ..models import Checklist, Clinic, FamilyLink, Patient, User
from ..timeutil import local_today, utcnow
from . import accounts, checklists, labs, patients
from .patients import load_history

PASSWORD = "alemtrack-demo"
DOMAIN = "demo.alemtrack.test"

#: (name, sex, childbearing, tz, language, months since course 1 (negative: planned), courses, story)
PATIENTS = [
    ("Ana García", "female", True, "Europe/Madrid", "es", -1, 1, "before course 1"),
    ("Ben Müller", "male", False, "Europe/Berlin", "de", 7, 2, "between courses"),
    ("Chiara Rossi", "female", True, "Europe/Rome", "it", 30, 2, "year 3 of monitoring"),
    ("Daniela López", "female", True, "Europe/Madrid", "es", 26, 2, "pregnant"),
    ("Erik Jansen", "male", False, "Europe/Amsterdam", "en", 5, 1, "falling platelets"),
    ("Fatima Haddad", "female", False, "Europe/Paris", "en", 10, 1, "overdue labs"),
    ("Georg Weber", "male", False, "Europe/Berlin", "de", 15, 2, "blood in urine"),
    ("Hannah Smith", "female", True, "Europe/London", "en", 20, 2, "thyroid"),
    ("Ivan Petrov", "male", False, "America/New_York", "en", 3, 1, "bleeding answer"),
    ("Julia Costa", "female", False, "Europe/Lisbon", "es", 40, 2, "all well"),
    ("Karl Nilsson", "male", False, "Europe/Stockholm", "en", 44, 3, "third course"),
    ("Laura Bianchi", "female", True, "Europe/Rome", "it", 13, 2, "course 2 just given"),
    # Protocol cll (CLINICAL.md 7): months since the first dose, one course each.
    ("Marc Peeters", "male", False, "Europe/Brussels", "en", 1, 1, "CLL: week 5, CMV rising"),
    ("Nina Schulz", "female", False, "Europe/Berlin", "de", 10, 1, "CLL: after treatment, CD4 recovered"),
]
#: the stories of patients who follow protocol cll
CLL_STORIES = ("CLL: week 5, CMV rising", "CLL: after treatment, CD4 recovered")


def _days(start: date, count: int) -> list[date]:
    return [start + timedelta(days=i) for i in range(count)]


def _lab(session: Session, patient: Patient, nurse: User, taken_on: date, values: Mapping[str, Any],
         now: datetime) -> dict:
    body = {"client_id": uuid.uuid4(), "taken_on": taken_on,
            "results": [{"analyte": a, "value": v} for a, v in values.items()]}
    response, _ = labs.submit(session, patient, nurse, body, taken_on + timedelta(days=1), now, default_content())
    return response


def _monthly_labs(session, patient, nurse, first: date, today: date, now, until_months: int | None = None,
                  platelets=lambda n: 240) -> None:
    n = 1
    while (due := add_months(first, n)) <= today and (until_months is None or n <= until_months):
        values = {"platelets": platelets(n), "creatinine": 72, "urine_blood": "negative", "urine_protein": "negative",
                  "alt": 24, "ast": 22, "bilirubin": 9}
        if n % 3 == 0:
            values["tsh"] = 1.8
        _lab(session, patient, nurse, due, values, now)
        n += 1


def _checklists(session, patient, user, first: date, today: date, now, skip_last: int = 0) -> None:
    """A quiet checklist for each past month (stored directly: history, not today's answer)."""
    content = default_content()
    history = load_history(session, patient)
    result = patients.compute_timeline(history, content)
    due_items = [i for i in result.items if i.kind == "checklist" and i.due <= today]
    for item in due_items[: len(due_items) - skip_last]:
        session.add(Checklist(patient_id=patient.id, client_id=str(uuid.uuid4()), answered_on=item.due,
                              period=item.month, answers={}, note=None, level="none", reasons=[],
                              response={}, submitted_by_id=user.id, created_at=now))
    session.flush()


def demo_logins() -> dict[str, str]:
    logins = {"password": PASSWORD, "nurse": f"nurse@{DOMAIN}", "clinic admin": f"admin@{DOMAIN}",
              "nurse of another clinic": f"nurse@other.{DOMAIN}"}
    for name, *_, story in PATIENTS:
        logins[f"patient ({story})"] = f"{name.split()[0].lower()}@{DOMAIN}"
    logins["family (Ivan's brother)"] = f"brother.of.ivan@{DOMAIN}"
    logins["family (Marc's daughter, CLL)"] = f"daughter.of.marc@{DOMAIN}"
    return logins


def _cll_patient(session: Session, patient: Patient, user: User, nurse: User, story: str, today: date,
                 now: datetime, content) -> None:
    """A CLL course from the proposed schedule (CLINICAL.md 7.1), its weekly tests and checklists."""
    if story == CLL_STORIES[0]:
        # Week 5 of an IV course: the whole schedule is recorded as planned (its last dose is ahead);
        # the dose of day 10 was held for low neutrophils.
        start = today - timedelta(days=30)
        proposal = [(date.fromisoformat(d["on"]), d["mg"], d["route"])
                    for d in patients.proposed_course(patient, start, "iv", content)]
        held = start + timedelta(days=10)
        patients.add_course(patient, [dose for dose in proposal if dose[0] != held], "planned", nurse, now, content)
        session.flush()
        week = [start + timedelta(days=7 * n) for n in range(1, 5)]
        for day, cmv, neutrophils in zip(week, (0, 0, 350, 1200), (1.2, 0.6, 0.45, 0.7)):
            _lab(session, patient, nurse, day, {"cmv_pcr": cmv, "neutrophils": neutrophils, "platelets": 120,
                                                "lymphocytes": 0.2}, now)
        _checklists(session, patient, user, start, today, now, skip_last=1)
    else:
        # Ten months after a subcutaneous course: CD4 back above 200 at five months.
        start = add_months(today, -10)
        proposal = patients.proposed_course(patient, start, "sc", content)
        patients.add_course(patient, [(date.fromisoformat(d["on"]), d["mg"], d["route"]) for d in proposal],
                            "given", nurse, now, content)
        session.flush()
        last = date.fromisoformat(proposal[-1]["on"])
        for n, cd4 in enumerate((60, 110, 150, 180, 260), 1):
            _lab(session, patient, nurse, add_months(last, n), {"cd4": cd4}, now)
        for n in range(1, 13):
            if (day := start + timedelta(days=7 * n)) <= last:
                _lab(session, patient, nurse, day, {"cmv_pcr": 0, "neutrophils": 1.4, "platelets": 140}, now)
        _checklists(session, patient, user, start, today, now)


def seed(session: Session, config: Mapping[str, Any]) -> dict[str, str]:
    if session.scalar(select(Clinic.id).where(Clinic.name == "Demo MS Centre")) is not None:
        return demo_logins()  # seeded before: the same logins
    now = utcnow()
    content = default_content()
    ph = accounts.hasher(config)
    password_hash = ph.hash(PASSWORD)

    clinic = Clinic(name="Demo MS Centre", phone="+34 910 000 000", emergency_number="112", settings={})
    other = Clinic(name="Other Hospital", phone="+49 30 0000 0000", emergency_number="112", settings={})
    session.add_all([clinic, other])
    session.flush()
    nurse = User(email=f"nurse@{DOMAIN}", role="nurse", clinic_id=clinic.id, password_hash=password_hash)
    admin = User(email=f"admin@{DOMAIN}", role="admin", clinic_id=clinic.id, password_hash=password_hash)
    other_nurse = User(email=f"nurse@other.{DOMAIN}", role="nurse", clinic_id=other.id, password_hash=password_hash)
    session.add_all([nurse, admin, other_nurse])
    session.flush()

    for index, (name, sex, childbearing, tz, language, months, course_count, story) in enumerate(PATIENTS):
        today = local_today(tz, now)
        baseline = {"platelets": 250, "creatinine": 70}
        patient, _, _ = patients.create_patient(
            session, clinic, {"display_name": name, "sex": sex, "childbearing_potential": childbearing,
                              "breastfeeding": False, "timezone": tz, "language": language, "baseline": baseline},
            nurse, now, config)
        if story in CLL_STORIES:
            patient.protocol = "cll"
            user = User(email=f"{name.split()[0].lower()}@{DOMAIN}", role="patient", clinic_id=clinic.id,
                        patient_id=patient.id, password_hash=password_hash)
            session.add(user)
            session.flush()
            _cll_patient(session, patient, user, nurse, story, today, now, content)
            continue
        first = add_months(today, -months) if months >= 0 else today + timedelta(days=21)
        starts = [first] + [add_months(first, 12 * k) for k in range(1, course_count)]
        for k, start in enumerate(starts):
            status = "given" if start + timedelta(days=5) <= today else "planned"
            patients.add_course(patient, _days(start, 5 if k == 0 else 3), status, nurse, now)
        session.flush()

        user = User(email=f"{name.split()[0].lower()}@{DOMAIN}", role="patient", clinic_id=clinic.id,
                    patient_id=patient.id, password_hash=password_hash)
        session.add(user)
        session.flush()

        if months <= 0:
            continue
        if story == "pregnant":
            patients.update_patient(patient, {"pregnancies": [{"reported_on": today - timedelta(days=60)}]})
        if story == "falling platelets":
            counts = {1: 230, 2: 190, 3: 160, 4: 130}
            _monthly_labs(session, patient, nurse, first, today, now, platelets=lambda n: counts.get(n, 95))
        elif story == "overdue labs":
            _monthly_labs(session, patient, nurse, first, today, now, until_months=max(1, months - 3))
        else:
            _monthly_labs(session, patient, nurse, first, today, now)
        _checklists(session, patient, user, first, today, now, skip_last=2 if story == "overdue labs" else 1)

        recent = today - timedelta(days=1)
        if story == "blood in urine":
            _lab(session, patient, nurse, recent, {"urine_blood": "positive", "creatinine": 95}, now)
        if story == "thyroid":
            _lab(session, patient, nurse, recent, {"tsh": 0.08}, now)
        if story in ("bleeding answer", "thyroid"):
            answers = {"bleed.bruising": True, "bleed.skin_spots": True} if story == "bleeding answer" else \
                {"thyroid.weight": True, "thyroid.temperature": True}
            current = checklists.current(session, patient, today, content)
            if not current["submitted"]:
                checklists.submit(session, patient, user, {"client_id": uuid.uuid4(), "answered_on": today,
                                                           "answers": answers, "note": None},
                                  today, now, content)

    # A family member: Ivan's brother sees his reminders and nothing else.
    ivan = session.scalar(select(Patient).where(Patient.display_name == "Ivan Petrov"))
    brother = User(email=f"brother.of.ivan@{DOMAIN}", role="family", clinic_id=clinic.id,
                   password_hash=password_hash)
    session.add(brother)
    session.flush()
    session.add(FamilyLink(patient_id=ivan.id, user_id=brother.id, shares=list(accounts.DEFAULT_FAMILY_SHARES),
                           created_at=now))
    # Marc's daughter: the early signs of CMV are hers to know too (000).
    marc = session.scalar(select(Patient).where(Patient.display_name == "Marc Peeters"))
    daughter = User(email=f"daughter.of.marc@{DOMAIN}", role="family", clinic_id=clinic.id,
                    password_hash=password_hash)
    session.add(daughter)
    session.flush()
    session.add(FamilyLink(patient_id=marc.id, user_id=daughter.id, shares=list(accounts.DEFAULT_FAMILY_SHARES),
                           created_at=now))
    return demo_logins()
