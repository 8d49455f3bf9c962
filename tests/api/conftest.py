"""A small world of two clinics and every role, and a logged-in client per role."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, timedelta

import pytest

from server.models import Clinic, FamilyLink, Flag, Patient, User
from server.services import accounts
from server.timeutil import local_today, utcnow

PASSWORD = "correct horse battery"
ROLES = ("anonymous", "patient", "other_patient", "family", "revoked_family", "nurse", "other_nurse", "admin")


@dataclass
class World:
    clinic: Clinic
    other_clinic: Clinic
    patient: Patient
    other_patient: Patient
    foreign_patient: Patient
    users: dict[str, User]
    flag: Flag
    foreign_flag: Flag

    def user(self, role: str) -> User | None:
        return self.users.get(role)


def make_world(session, config) -> World:
    now = utcnow()
    password_hash = accounts.hasher(config).hash(PASSWORD)
    clinic = Clinic(name="Clinic A", phone="+34 900 111 222", emergency_number="112", settings={})
    other_clinic = Clinic(name="Clinic B", phone="+49 30 123", emergency_number="112", settings={})
    session.add_all([clinic, other_clinic])
    session.flush()

    def patient(clinic_id, name, sex="female"):
        p = Patient(clinic_id=clinic_id, display_name=name, sex=sex, childbearing_potential=sex == "female",
                    breastfeeding=False, timezone="Europe/Madrid", language="en",
                    baseline={"platelets": 250, "creatinine": 70})
        session.add(p)
        session.flush()
        return p

    p = patient(clinic.id, "Patty Patient")
    q = patient(clinic.id, "Quinn Other", sex="male")
    foreign = patient(other_clinic.id, "Fay Foreign")
    from server.services import patients as patient_service
    today = local_today("Europe/Madrid", now)
    first = today - timedelta(days=120)
    users = {}

    def user(role, email, clinic_id, patient_id=None):
        u = User(email=email, role=role, clinic_id=clinic_id, patient_id=patient_id, password_hash=password_hash)
        session.add(u)
        session.flush()
        return u

    users["nurse"] = user("nurse", "nurse@a.test", clinic.id)
    users["admin"] = user("admin", "admin@a.test", clinic.id)
    users["other_nurse"] = user("nurse", "nurse@b.test", other_clinic.id)
    users["patient"] = user("patient", "patty@a.test", clinic.id, p.id)
    users["other_patient"] = user("patient", "quinn@a.test", clinic.id, q.id)
    users["foreign_patient"] = user("patient", "fay@b.test", other_clinic.id, foreign.id)
    users["family"] = user("family", "brother@a.test", clinic.id)
    users["revoked_family"] = user("family", "ex@a.test", clinic.id)
    session.add(FamilyLink(patient_id=p.id, user_id=users["family"].id, shares=list(accounts.DEFAULT_FAMILY_SHARES)))
    session.add(FamilyLink(patient_id=p.id, user_id=users["revoked_family"].id,
                           shares=list(accounts.DEFAULT_FAMILY_SHARES), revoked_at=now))
    for who in (p, q, foreign):
        patient_service.add_course(who, [first + timedelta(days=i) for i in range(5)], "given",
                                   users["nurse"], now)
    flag = Flag(clinic_id=clinic.id, patient_id=p.id, level="urgent", level_rank=3, source="checklist", source_id=0,
                reasons=["bleed.mucosal"], status="open", created_at=now)
    foreign_flag = Flag(clinic_id=other_clinic.id, patient_id=foreign.id, level="soon", level_rank=2,
                        source="lab", source_id=0, reasons=["thyroid.tsh"], status="open", created_at=now)
    session.add_all([flag, foreign_flag])
    session.commit()
    return World(clinic, other_clinic, p, q, foreign, users, flag, foreign_flag)


@pytest.fixture
def world(app, db) -> World:
    return make_world(db, app.config)


class Client:
    """A test client that sends the CSRF token with every state change."""

    def __init__(self, app):
        self.http = app.test_client()
        self.csrf = self.http.get("/api/v1/auth/csrf").json["csrf_token"]

    def login(self, email: str, password: str = PASSWORD):
        response = self.post("/api/v1/auth/login", json={"email": email, "password": password})
        if response.status_code == 200:
            self.csrf = response.json["csrf_token"]
        return response

    def open(self, method: str, path: str, **kwargs):
        headers = dict(kwargs.pop("headers", {}))
        headers.setdefault("X-CSRF-Token", self.csrf)
        return self.http.open(path, method=method, headers=headers, **kwargs)

    def get(self, path, **kwargs):
        return self.http.get(path, **kwargs)

    def post(self, path, **kwargs):
        return self.open("POST", path, **kwargs)

    def put(self, path, **kwargs):
        return self.open("PUT", path, **kwargs)

    def patch(self, path, **kwargs):
        return self.open("PATCH", path, **kwargs)

    def delete(self, path, **kwargs):
        return self.open("DELETE", path, **kwargs)


@pytest.fixture
def client_for(app, world):
    """``client_for(role)``: a client logged in as that role of the world (anonymous: not logged in)."""

    def make(role: str) -> Client:
        client = Client(app)
        if role != "anonymous":
            response = client.login(world.users[role].email)
            assert response.status_code == 200, response.json
        return client

    return make


def new_client_id() -> str:
    return str(uuid.uuid4())


def today_madrid() -> date:
    return local_today("Europe/Madrid")
