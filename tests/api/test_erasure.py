"""Data rights (issue 13, point 7; API.md section 2): DELETE /me and the export.

A patient who erases her account leaves no row that names her, in any table
of the models, apart from the audit log's ids: the log of staff access stays
(CLINICAL.md section 6), with no value in it. A family member who erases
theirs leaves the patient's record as it was. The password is asked again,
and a wrong one counts like a failed login. The export holds everything the
erasure would remove.

``populated`` fills every table that can name a patient (and fails when a
table with a foreign key to patients is left empty, so a new table cannot
escape these tests).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta

import pytest
from sqlalchemy import func, insert, select

from server.engine.content.loading import default_content
from server.models import (
    AuditEvent,
    Base,
    Delivery,
    Flag,
    InviteCode,
    LoginAttempt,
    Patient,
    PushSubscription,
    Reminder,
    User,
)
from server.services import accounts, calendar, reminders
from server.timeutil import utcnow

from .conftest import PASSWORD, World, new_client_id, today_madrid

NOTE = "Spoke to her about the nosebleeds; labs ordered."
SNOOZE_REASON = "thyroid disease under treatment elsewhere"
PATIENT_ENDPOINT = "https://push.example.test/send/patty-phone-0001"
FAMILY_ENDPOINT = "https://push.example.test/send/brother-phone-0002"
NURSE_ENDPOINT = "https://push.example.test/send/nurse-desk-0003"
P256DH = "BNcRdreALRFXTkOOUHK1EtK2wtaz5Ry4YfYCA_0QTpQtUbVlUls0VJXg7A8u-Ts1XbjhazAkj7I99e8QcYP7DkM"
PUSH_AUTH = "tBHItJI5svbpez7KI4CCXg"


@dataclass
class Held:
    """What ``populated`` made, to look for afterwards."""

    patient_id: int
    user_id: int
    email: str
    display_name: str
    feed_token: str
    family_token: str
    #: texts that are hers and must go with her (the nurse's note, the snooze reason, her checklist note)
    texts: tuple[str, ...]


def _day(offset: int) -> str:
    return (today_madrid() + timedelta(days=offset)).isoformat()


def _delivery(reminder_id, flag_id, purpose, subscription_id, user_id, patient_id, now) -> dict:
    return {"reminder_id": reminder_id, "flag_id": flag_id, "purpose": purpose, "subscription_id": subscription_id,
            "user_id": user_id, "patient_id": patient_id, "payload": {"title": "Alemtrack", "body": "A reminder"},
            "topic": "t", "urgency": "normal", "ttl_seconds": 3600, "status": "sent", "attempts": 1,
            "next_attempt_at": now, "expires_at": now + timedelta(hours=1), "sent_at": now, "created_at": now}


def tables_naming_patients() -> list:
    """Every table with a column referring to patients.id."""
    return [t for t in Base.metadata.sorted_tables
            if any(fk.column.table.name == "patients" for c in t.columns for fk in c.foreign_keys)]


@pytest.fixture
def populated(app, db, world: World, client_for) -> Held:
    """The world's patient with a row in every table that can name her, made through the API where there is
    one (checklist, labs, flag triage, snooze, pregnancy, family invite, a failed login, staff reads)."""
    w, now = world, utcnow()
    pid, uid = w.patient.id, w.users["patient"].id
    patient, nurse = client_for("patient"), client_for("nurse")
    assert nurse.patch(f"/api/v1/patients/{pid}", json={"pregnancies": [{"reported_on": _day(-400),
                                                                          "ended_on": _day(-150)}]}).status_code == 200
    checklist = patient.post(f"/api/v1/patients/{pid}/checklists", json={
        "client_id": new_client_id(), "answered_on": _day(0), "answers": {"bleed.mucosal": True},
        "note": "My gums bled twice this week."})
    assert checklist.status_code == 201, checklist.json
    labs = patient.post(f"/api/v1/patients/{pid}/labs", json={
        "client_id": new_client_id(), "taken_on": _day(0),
        "results": [{"analyte": "platelets", "value": 240, "ref_low": None, "ref_high": None}]})
    assert labs.status_code == 201, labs.json
    assert nurse.post(f"/api/v1/flags/{w.flag.id}/ack").status_code == 200
    assert nurse.post(f"/api/v1/flags/{w.flag.id}/resolve",
                      json={"outcome": "called_patient", "note": NOTE}).status_code == 200
    assert nurse.post(f"/api/v1/patients/{pid}/snoozes", json={
        "code": "thyroid.weight", "until": _day(14), "reason": SNOOZE_REASON}).status_code == 201
    assert patient.post(f"/api/v1/patients/{pid}/family-invites").status_code == 201
    assert nurse.get(f"/api/v1/patients/{pid}/labs").status_code == 200  # staff access, audited
    # The care team's own writing about her (issue 17): a note, and a course corrected with its reason.
    assert nurse.post(f"/api/v1/patients/{pid}/notes", json={"text": "Spoke with her husband."}).status_code == 201
    course = w.patient.courses[0]
    assert nurse.patch(f"/api/v1/patients/{pid}/courses/{course.id}",
                       json={"status": "given", "reason": "Confirmed with the day unit"}).status_code == 200
    # after the changes: the list keeps her figures (patient_figures)
    assert nurse.get("/api/v1/patients").status_code == 200
    assert client_for("anonymous").login(w.users["patient"].email, "not her password").status_code == 401

    reminders.sync_patients(db, [db.get(Patient, pid)], now, default_content(), timedelta(days=60))
    enrolment, _ = accounts.issue_code(db, w.patient, "enrollment", w.users["nurse"], now - timedelta(days=300), 14)
    feed = calendar.create_feed(db, w.users["patient"], w.patient, now)
    family_feed = calendar.create_feed(db, w.users["family"], w.patient, now)
    db.flush()
    db.execute(InviteCode.__table__.update().where(InviteCode.code_hash == accounts.code_hash(enrolment))
               .values(used_at=now - timedelta(days=299), used_by_id=uid))
    devices = {}
    for role, endpoint in (("patient", PATIENT_ENDPOINT), ("family", FAMILY_ENDPOINT), ("nurse", NURSE_ENDPOINT)):
        devices[role] = db.execute(insert(PushSubscription).values(
            user_id=w.users[role].id, endpoint=endpoint, p256dh=P256DH, auth=PUSH_AUTH, created_at=now)
            .returning(PushSubscription.id)).scalar_one()
    reminder = db.scalar(select(Reminder.id).where(Reminder.patient_id == pid).order_by(Reminder.id))
    assert reminder is not None, "her timeline plans reminders within 60 days"
    db.execute(insert(Delivery), [
        _delivery(reminder, None, "reminder", devices["patient"], uid, pid, now),
        _delivery(reminder, None, "reminder", devices["family"], w.users["family"].id, pid, now),
        _delivery(None, w.flag.id, "flag", devices["nurse"], w.users["nurse"].id, pid, now),
    ])
    db.commit()
    empty = [t.name for t in tables_naming_patients()
             if db.scalar(select(func.count()).select_from(t).where(_names(t, pid, uid))) == 0]
    db.commit()
    assert empty == [], f"populated leaves these tables without a row naming the patient: {empty}"
    return Held(pid, uid, w.users["patient"].email, w.patient.display_name, feed, family_feed,
                (NOTE, SNOOZE_REASON, "My gums bled twice this week."))


def _names(table, patient_id: int, user_id: int | None):
    """A condition: the row refers to the patient (or to her account) through one of its foreign keys."""
    from sqlalchemy import false, or_

    conditions = []
    for column in table.columns:
        for fk in column.foreign_keys:
            if fk.column.table.name == "patients":
                conditions.append(column == patient_id)
            elif fk.column.table.name == "users" and user_id is not None:
                conditions.append(column == user_id)
    if table.name == "audit_events":  # no foreign keys (migration 0004), the same ids
        conditions += [table.c.patient_id == patient_id] + ([table.c.actor_id == user_id] if user_id else [])
    return or_(*conditions) if conditions else false()


def rows_naming(db, patient_id: int | None, user_id: int | None, texts: tuple[str, ...]) -> dict[str, list]:
    """Per table (the audit log's ids aside), the rows that refer to the patient or the account, or hold one
    of ``texts``, in any column."""
    found = {}
    for table in Base.metadata.sorted_tables:
        rows = db.execute(select(table)).all()
        hits = []
        for row in rows:
            values = row._mapping
            text = repr(tuple(values.values()))
            if any(t in text for t in texts):
                hits.append(row)
                continue
            if table.name == "audit_events":
                continue  # its ids are what the law keeps; its texts are checked above
            for column in table.columns:
                refers = [fk.column.table.name for fk in column.foreign_keys]
                value = values[column.name]
                if ("patients" in refers and value == patient_id and patient_id is not None) or \
                        ("users" in refers and value == user_id and user_id is not None) or \
                        (table.name == "patients" and column.name == "id" and value == patient_id) or \
                        (table.name == "users" and column.name == "id" and value == user_id):
                    hits.append(row)
                    break
        if hits:
            found[table.name] = hits
    db.commit()
    return found


# --- erasure ------------------------------------------------------------------------------


def test_a_patients_erasure_leaves_no_row_that_names_her_but_the_audit_logs_ids(app, db, world, populated,
                                                                               client_for):
    held = populated
    texts = (held.email, held.display_name, accounts._account_key(held.email), *held.texts)
    before = rows_naming(db, held.patient_id, held.user_id, texts)
    assert len(before) > 10  # the check below is not vacuous
    staff_reads = db.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.patient_id == held.patient_id, AuditEvent.actor_id == world.users["nurse"].id))
    db.commit()
    assert staff_reads > 0

    patient = client_for("patient")  # (a login that succeeds clears her failed ones: one more, after it)
    assert patient.delete("/api/v1/me", json={"password": "not my password"}).status_code == 400
    assert db.scalar(select(func.count()).select_from(LoginAttempt).where(
        LoginAttempt.key == accounts._account_key(held.email))) == 1
    db.commit()
    response = patient.delete("/api/v1/me", json={"password": PASSWORD})
    assert response.status_code == 204, response.get_data(as_text=True)

    assert rows_naming(db, held.patient_id, held.user_id, texts) == {}
    # the audit log of staff access stays, with ids, and one event saying why she is gone
    kept = db.execute(select(AuditEvent.actor_id, AuditEvent.action).where(
        AuditEvent.patient_id == held.patient_id)).all()
    assert sum(1 for actor, _ in kept if actor == world.users["nurse"].id) == staff_reads
    assert (held.user_id, "account.erase") in kept
    # the session ended, and the account is gone
    assert patient.get("/api/v1/me").status_code == 401
    assert client_for("anonymous").login(held.email).status_code == 401
    # nobody else lost anything: another patient, the family member's own account, the clinic's other flag
    assert client_for("family").get(f"/api/v1/patients/{held.patient_id}").status_code == 404
    assert client_for("nurse").get(f"/api/v1/patients/{world.other_patient.id}").status_code == 200
    assert db.scalar(select(func.count()).select_from(PushSubscription).where(
        PushSubscription.endpoint.in_([FAMILY_ENDPOINT, NURSE_ENDPOINT]))) == 2
    assert db.get(Flag, world.foreign_flag.id) is not None
    # and her calendar feeds no longer answer
    assert app.test_client().get(f"/calendar/{held.feed_token}.ics").status_code == 404
    assert app.test_client().get(f"/calendar/{held.family_token}.ics").status_code == 404


def test_a_family_members_erasure_leaves_the_patients_record(app, db, world, populated, client_for):
    held = populated
    family = world.users["family"]
    family_email = family.email
    assert client_for("family").delete("/api/v1/me", json={"password": PASSWORD}).status_code == 204
    assert rows_naming(db, None, family.id, (family_email, accounts._account_key(family_email))) == {}
    assert app.test_client().get(f"/calendar/{held.family_token}.ics").status_code == 404
    patient = client_for("patient")
    assert [m["email"] for m in patient.get(f"/api/v1/patients/{held.patient_id}/family").json["items"]] == []
    export = patient.get(f"/api/v1/patients/{held.patient_id}/export").json
    assert export["checklists"] and export["lab_results"] and export["flags"]
    assert any(d["recipient"] and d["recipient"]["email"] == held.email for d in export["deliveries"])
    assert app.test_client().get(f"/calendar/{held.feed_token}.ics").status_code == 200


def test_a_wrong_password_erases_nothing_and_counts_like_a_failed_login(app, db, world, populated, client_for):
    held = populated
    patient = client_for("patient")
    before = rows_naming(db, held.patient_id, held.user_id, ())
    attempts = db.scalar(select(func.count()).select_from(LoginAttempt))
    db.commit()
    wrong = patient.delete("/api/v1/me", json={"password": "not my password"})
    assert wrong.status_code == 400, wrong.json
    assert wrong.json["error"]["field"] == "password"
    assert db.scalar(select(func.count()).select_from(LoginAttempt)) > attempts
    db.commit()
    assert {k: len(v) for k, v in rows_naming(db, held.patient_id, held.user_id, ()).items()} == \
        {k: len(v) for k, v in before.items()}
    limit = app.config["LOGIN_MAX_PER_ACCOUNT"]
    for _ in range(limit):  # one failed login (populated) and one wrong password already count
        last = patient.delete("/api/v1/me", json={"password": "not my password"})
    assert last.status_code == 429, last.json
    # the same throttle as logins: the right password is refused too, for a while
    assert patient.delete("/api/v1/me", json={"password": PASSWORD}).status_code == 429
    assert client_for("anonymous").login(held.email).status_code == 429
    assert patient.get("/api/v1/me").status_code == 200  # still her account, still her session


@pytest.mark.parametrize("role", ["nurse", "admin"])
def test_staff_cannot_erase_themselves(db, world, client_for, role):
    response = client_for(role).delete("/api/v1/me", json={"password": PASSWORD})
    assert response.status_code == 403
    assert db.scalar(select(User.id).where(User.id == world.users[role].id)) is not None


# --- export -----------------------------------------------------------------------------------


def test_the_export_holds_everything_held_about_her(app, db, world, populated, client_for):
    held = populated
    response = client_for("patient").get(f"/api/v1/patients/{held.patient_id}/export")
    assert response.status_code == 200
    body = response.json
    text = json.dumps(body)
    nurse_email = world.users["nurse"].email

    assert body["account"]["email"] == held.email
    assert body["patient"]["pregnancies"] and body["patient"]["courses"]
    assert [c["note"] for c in body["checklists"]] == ["My gums bled twice this week."]
    assert body["lab_results"][0]["analyte"] == "platelets"
    triaged = next(f for f in body["flags"] if f["note"] == NOTE)
    assert triaged["outcome"] == "called_patient" and triaged["resolved_by"]["email"] == nurse_email
    assert triaged["acknowledged_at"] and triaged["resolved_at"]
    assert [(s["code"], s["reason"]) for s in body["snoozes"]] == [("thyroid.weight", SNOOZE_REASON)]
    assert {f["email"] for f in body["family"]} == {world.users["family"].email, world.users["revoked_family"].email}
    assert {c["kind"] for c in body["codes"]} == {"enrollment", "family"}
    # her devices by endpoint only: the keys are the browser's secrets
    assert [s["endpoint"] for s in body["push_subscriptions"]] == [PATIENT_ENDPOINT]
    assert P256DH not in text and PUSH_AUTH not in text
    # her feeds and her family's, never their secret
    assert {f["owner"]["email"] for f in body["calendar_feeds"]} == {held.email, world.users["family"].email}
    for token in (held.feed_token, held.family_token):
        assert token not in text and calendar.token_hash(token) not in text
    for code_hash in db.scalars(select(InviteCode.code_hash).where(InviteCode.patient_id == held.patient_id)):
        assert code_hash not in text
    # reminders planned and sent about her, and every message to anyone about her
    assert body["reminders"] and all(r["status"] for r in body["reminders"])
    assert {(d["purpose"], d["recipient"]["role"]) for d in body["deliveries"]} == {
        ("reminder", "patient"), ("reminder", "family"), ("flag", "nurse")}
    # who of the staff read or changed her record
    read = [(e["action"], e["by"]["email"]) for e in body["access_log"]]
    assert {("labs.read", nurse_email), ("flag.resolve", nurse_email), ("snooze.create", nurse_email),
            ("patient.update", nurse_email)} <= set(read), read
    assert all(e["at"] for e in body["access_log"])
    # nothing of another patient
    assert str(world.other_patient.display_name) not in text
