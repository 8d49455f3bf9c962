"""Single-use codes are used once, even by requests that arrive together (issue 13, point 4).

Six clients register at the same instant with one enrollment code, then six
with one family invite code. Each has its own app client, its own address
and its own database session on the production app (not the tests' joined
transaction, in which every request would share one connection and nothing
could race), so on PostgreSQL their transactions really overlap. Exactly one
registration succeeds; the other five get 400 ``invalid_code``, and the code
names one account.

What the tests commit here is deleted afterwards: the rows name a clinic of
their own, so nothing else is touched.
"""

from __future__ import annotations

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import delete, func, insert, select

from server.models import Clinic, FamilyLink, InviteCode, LoginAttempt, PasswordResetCode, Patient, User
from server.services import accounts
from server.timeutil import utcnow

from ..conftest import TEST_CONFIG
from .conftest import Client

RACERS = 6


@pytest.fixture
def racing(db_engine, tmp_path):
    """A production app on the test database, a clinic with one patient (committed), and their cleanup."""
    from server import create_app

    app = create_app({**TEST_CONFIG, "DATABASE_URL": db_engine.url.render_as_string(hide_password=False),
                      "INSTANCE_DIR": str(tmp_path)})
    now = utcnow()
    tag = uuid.uuid4().hex[:8]
    with db_engine.begin() as connection:
        clinic_id = connection.execute(insert(Clinic).values(
            name=f"Race {tag}", phone="+34 900 000 000", emergency_number="112", settings={},
            created_at=now).returning(Clinic.id)).scalar_one()
        patient_id = connection.execute(insert(Patient).values(
            clinic_id=clinic_id, display_name="Rita Race", sex="female", childbearing_potential=False,
            breastfeeding=False, timezone="Europe/Madrid", language="en", baseline={}, detailed_notifications=False,
            created_at=now).returning(Patient.id)).scalar_one()
    state = {"app": app, "tag": tag, "patient_id": patient_id}
    yield state
    with db_engine.begin() as connection:
        users = select(User.id).where(User.clinic_id == clinic_id)
        connection.execute(delete(PasswordResetCode).where(PasswordResetCode.user_id.in_(users)))
        connection.execute(delete(FamilyLink).where(FamilyLink.patient_id == patient_id))
        connection.execute(delete(InviteCode).where(InviteCode.patient_id == patient_id))
        # whatever the registration throttle counted for the racers' addresses
        connection.execute(delete(LoginAttempt).where(LoginAttempt.key.like("%10.13.%")))
        connection.execute(delete(LoginAttempt).where(LoginAttempt.key == accounts._account_key(
            f"reset-{tag}@race.test")))
        connection.execute(delete(User).where(User.id.in_(users)))
        connection.execute(delete(Patient).where(Patient.id == patient_id))
        connection.execute(delete(Clinic).where(Clinic.id == clinic_id))
    app.extensions["alemtrack_db"].dispose()


def _issue(db_engine, patient_id: int, kind: str) -> str:
    code = accounts.new_code()
    now = utcnow()
    with db_engine.begin() as connection:
        connection.execute(insert(InviteCode).values(code_hash=accounts.code_hash(code), kind=kind,
                                                     patient_id=patient_id, created_at=now,
                                                     expires_at=now.replace(year=now.year + 1)))
    return code


def _race(app, code: str, tag: str, kind: str) -> list:
    """RACERS registrations with ``code``, released together; their responses in thread order."""
    clients = []
    for n in range(RACERS):
        client = Client(app)
        # Each racer comes from an address of its own: the registration throttle counts per address.
        client.http.environ_base["REMOTE_ADDR"] = f"10.13.{n}.1"
        clients.append(client)
    start = threading.Barrier(RACERS)

    def register(n: int):
        start.wait()
        return clients[n].post("/api/v1/auth/register", json={
            "code": code, "email": f"{kind}-{n}-{tag}@race.test", "password": "a long new password"})

    with ThreadPoolExecutor(RACERS) as pool:
        return list(pool.map(register, range(RACERS)))


@pytest.mark.parametrize("kind", ["enrollment", "family"])
def test_one_code_registers_one_account_however_many_try_at_once(db_engine, racing, kind):
    code = _issue(db_engine, racing["patient_id"], kind)
    responses = _race(racing["app"], code, racing["tag"], kind)
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201] + [400] * (RACERS - 1), [(r.status_code, r.get_json()) for r in responses]
    for response in responses:
        if response.status_code == 400:
            assert response.json["error"]["code"] == "invalid_code"
            assert response.json["error"]["field"] == "code"
    winner = next(r for r in responses if r.status_code == 201).json
    with db_engine.connect() as connection:
        row = connection.execute(select(InviteCode).where(InviteCode.code_hash == accounts.code_hash(code))).one()
        accounts_made = connection.scalar(select(func.count()).select_from(User).where(
            User.email.like(f"{kind}-%-{racing['tag']}@race.test")))
        links = connection.scalar(select(func.count()).select_from(FamilyLink).where(
            FamilyLink.patient_id == racing["patient_id"]))
    assert row.used_at is not None and row.used_by_id == winner["id"]
    assert accounts_made == 1
    assert links == (1 if kind == "family" else 0)
    if kind == "enrollment":
        assert winner["role"] == "patient" and winner["patient_id"] == racing["patient_id"]


def test_one_reset_code_sets_one_password_however_many_try_at_once(db_engine, racing):
    """Issue 16: a password reset code is used once too (a conditional UPDATE, as for invite codes)."""
    app, tag = racing["app"], racing["tag"]
    now = utcnow()
    email = f"reset-{tag}@race.test"
    code = accounts.new_code()
    with db_engine.begin() as connection:
        clinic_id = connection.scalar(select(Patient.clinic_id).where(Patient.id == racing["patient_id"]))
        user_id = connection.execute(insert(User).values(
            email=email, role="patient", clinic_id=clinic_id, patient_id=racing["patient_id"],
            password_hash=accounts.hasher(app.config).hash("the old long password"), session_token="x" * 32,
            active=True, created_at=now).returning(User.id)).scalar_one()
        connection.execute(insert(PasswordResetCode).values(
            code_hash=accounts.code_hash(code), user_id=user_id, channel="team", created_at=now,
            expires_at=now.replace(year=now.year + 1)))
    clients = []
    for n in range(RACERS):
        client = Client(app)
        client.http.environ_base["REMOTE_ADDR"] = f"10.13.{n}.2"
        clients.append(client)
    start = threading.Barrier(RACERS)

    def reset(n: int):
        start.wait()
        return clients[n].post("/api/v1/auth/reset", json={"email": email, "code": code,
                                                           "password": f"new long password {n}"})

    with ThreadPoolExecutor(RACERS) as pool:
        responses = list(pool.map(reset, range(RACERS)))
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200] + [400] * (RACERS - 1), [(r.status_code, r.get_json()) for r in responses]
    winner = next(n for n, r in enumerate(responses) if r.status_code == 200)
    # (a login would meet the throttle: the five losers count as failures of the account, by design)
    with db_engine.connect() as connection:
        stored = connection.scalar(select(User.password_hash).where(User.email == email))
    assert accounts.hasher(app.config).verify(stored, f"new long password {winner}")
