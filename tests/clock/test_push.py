"""Web Push end to end: the clock's tick against a local push service that
decrypts every message and checks its VAPID claims."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from server.clock.process import tick
from server.engine.content.loading import default_content
from server.engine.content.model import LANGUAGES
from server.models import Delivery, Flag, LabResult, LabSubmission, PushSubscription, Reminder
from server.services import flags as flag_service

from .conftest import SUBJECT

CONTENT = default_content()
NOW = datetime.now(timezone.utc).replace(microsecond=0)


def health_words() -> set[str]:
    """Every item title, analyte and question text in every language: none may be on a lock screen."""
    words = set()
    for language in LANGUAGES:
        texts = CONTENT.texts[language]
        words |= {texts["items"][code]["title"] for code in CONTENT.item_codes}
        words |= set(texts["analytes"].values())
        words |= {texts["questions"][code]["text"] for code in CONTENT.question_codes}
        words |= set(texts["groups"].values())
    return {w.lower() for w in words}


def due_reminder(db, patient, *, codes=("lab.cbc", "lab.creatinine"), kind="lab", step="due", at=NOW,
                 useful_hours=12, unless=None, audience="patient", flag=None, item_due=None) -> Reminder:
    row = Reminder(patient_id=patient.id, key=f"{'|'.join(codes)}|{at.isoformat()}|{step}", codes=list(codes),
                   kind=kind, occurrence=(item_due or at.date()), item_due=item_due or at.date(), step=step,
                   audience=audience, due_at=at, useful_until=at + timedelta(hours=useful_hours), unless=unless,
                   flag_level=flag, text_key=None, status="pending", created_at=at)
    db.add(row)
    db.commit()
    return row


def test_a_reminder_reaches_each_device_once_decrypted_with_right_claims(app, db, world, push_service, subscribe,
                                                                          pusher):
    subscribe(world.users["patient"], "phone")
    subscribe(world.users["patient"], "tablet")
    subscribe(world.users["family"], "brother")       # shares checklists by default
    subscribe(world.users["revoked_family"], "ex")    # revoked: nothing
    subscribe(world.users["other_patient"], "other")  # another patient: nothing
    due_reminder(db, world.patient, codes=("checklist.monthly",), kind="checklist")

    report = tick(app, NOW, pusher, plan_limit=0)

    assert push_service.problems == []
    assert sorted(m.device for m in push_service.received) == ["brother", "phone", "tablet"]
    for message in push_service.received:
        assert set(message.payload) == {"title", "body", "url", "tag"}
        assert message.claims["sub"] == SUBJECT
        assert message.claims["aud"] == push_service.origin
        assert NOW.timestamp() < message.claims["exp"] <= NOW.timestamp() + 24 * 3600
        assert 0 < message.ttl <= 12 * 3600
        assert message.urgency == "normal"
        assert message.topic and len(message.topic) <= 32
        assert message.payload["tag"] == message.topic
    assert report.pushes == {"sent": 3}


def test_family_gets_no_lab_reminder_by_default(app, db, world, push_service, subscribe, pusher):
    """CLINICAL.md 6 (v2, change 13): labs reach family members only when the patient shares them."""
    subscribe(world.users["patient"], "phone")
    subscribe(world.users["family"], "brother")
    due_reminder(db, world.patient)  # the monthly labs
    tick(app, NOW, pusher, plan_limit=0)
    assert sorted(m.device for m in push_service.received) == ["phone"]


def test_same_tick_twice_sends_once(app, db, world, push_service, subscribe, pusher):
    subscribe(world.users["patient"], "phone")
    due_reminder(db, world.patient)
    tick(app, NOW, pusher, plan_limit=0)
    tick(app, NOW, pusher, plan_limit=0)
    tick(app, NOW + timedelta(minutes=1), pusher, plan_limit=0)
    assert len(push_service.for_device("phone")) == 1


def test_no_health_detail_by_default_and_details_when_opted_in(app, db, world, push_service, subscribe, pusher):
    subscribe(world.users["patient"], "phone")
    due_reminder(db, world.patient, codes=("lab.cbc",), step="one")
    tick(app, NOW, pusher, plan_limit=0)
    words = health_words()
    (message,) = push_service.for_device("phone")
    shown = " ".join(str(v) for v in message.payload.values()).lower()
    assert not [w for w in words if w in shown]

    world.patient.detailed_notifications = True
    db.commit()
    due_reminder(db, world.patient, codes=("lab.cbc",), step="two")
    tick(app, NOW, pusher, plan_limit=0)
    detailed = push_service.for_device("phone")[-1]
    assert detailed.payload["title"] == CONTENT.text("en", "items", "lab.cbc", "title")


@pytest.mark.parametrize("status", [404, 410])
def test_gone_subscription_is_deleted(app, db, world, push_service, subscribe, pusher, status):
    subscription_id = subscribe(world.users["patient"], "phone").id
    push_service.script("phone", status)
    due_reminder(db, world.patient)
    report = tick(app, NOW, pusher, plan_limit=0)
    assert report.pushes == {"gone": 1}
    db.expire_all()
    assert db.get(PushSubscription, subscription_id) is None
    # Nothing more goes to it.
    due_reminder(db, world.patient, step="later")
    tick(app, NOW, pusher, plan_limit=0)
    assert push_service.received == []


def test_429_waits_for_retry_after_and_is_not_lost(app, db, world, push_service, subscribe, pusher):
    subscribe(world.users["patient"], "phone")
    push_service.script("phone", (429, 120))
    due_reminder(db, world.patient)
    tick(app, NOW, pusher, plan_limit=0)
    assert push_service.received == []
    tick(app, NOW + timedelta(seconds=60), pusher, plan_limit=0)
    assert push_service.received == []  # still waiting
    tick(app, NOW + timedelta(seconds=121), pusher, plan_limit=0)
    assert len(push_service.for_device("phone")) == 1


def test_server_errors_are_retried_with_backoff(app, db, world, push_service, subscribe, pusher):
    subscribe(world.users["patient"], "phone")
    push_service.script("phone", 500, 503)
    due_reminder(db, world.patient)
    tick(app, NOW, pusher, plan_limit=0)
    delivery = db.scalar(select(Delivery))
    assert delivery.status == "pending" and delivery.next_attempt_at == NOW + timedelta(seconds=30)
    tick(app, NOW + timedelta(seconds=30), pusher, plan_limit=0)
    db.expire_all()
    assert db.get(Delivery, delivery.id).next_attempt_at == NOW + timedelta(seconds=90)  # 60 s more
    tick(app, NOW + timedelta(seconds=90), pusher, plan_limit=0)
    assert len(push_service.for_device("phone")) == 1
    db.expire_all()
    assert db.get(Delivery, delivery.id).status == "sent"


def test_a_stalled_push_service_times_out_and_is_retried(app, db, world, push_service, subscribe, pusher):
    subscribe(world.users["patient"], "phone")
    push_service.script("phone", "stall")
    due_reminder(db, world.patient)
    report = tick(app, NOW, pusher, plan_limit=0)
    assert report.pushes == {"retry": 1}
    tick(app, NOW + timedelta(seconds=31), pusher, plan_limit=0)
    db.expire_all()
    assert db.scalar(select(Delivery)).status == "sent"
    # The stalled copy may also have arrived late: the device shows one notification.
    assert len(push_service.visible()) == 1


def test_a_413_is_a_bug_logged_and_not_retried(app, db, world, push_service, subscribe, pusher, caplog):
    subscribe(world.users["patient"], "phone")
    push_service.script("phone", 413)
    due_reminder(db, world.patient)
    with caplog.at_level(logging.ERROR, logger="server.clock.push"):
        report = tick(app, NOW, pusher, plan_limit=0)
    assert report.pushes == {"failed": 1}
    assert "too large" in caplog.text
    tick(app, NOW + timedelta(hours=1), pusher, plan_limit=0)
    assert push_service.received == []


def test_a_reminder_past_its_useful_time_is_skipped(app, db, world, push_service, subscribe, pusher):
    """The catch-up rule: last night's aciclovir dose no, this morning's checklist yes."""
    subscribe(world.users["patient"], "phone")
    dose = due_reminder(db, world.patient, codes=("med.aciclovir",), kind="medication", step="dose",
                        at=NOW - timedelta(hours=13), useful_hours=2).id
    checklist = due_reminder(db, world.patient, codes=("checklist.monthly",), kind="checklist", step="due",
                             at=NOW - timedelta(hours=3), useful_hours=12).id
    tick(app, NOW, pusher, plan_limit=0)
    db.expire_all()
    assert (db.get(Reminder, dose).status, db.get(Reminder, dose).outcome) == ("skipped", "expired")
    assert db.get(Reminder, checklist).status == "sent"
    assert len(push_service.for_device("phone")) == 1


def test_a_lab_reminder_is_skipped_when_the_sample_is_taken(app, db, world, push_service, subscribe, pusher):
    subscribe(world.users["patient"], "phone")
    today = NOW.astimezone(timezone.utc).date()
    submission = LabSubmission(patient_id=world.patient.id, client_id="c1", taken_on=today, patient_reported=True,
                               response={}, created_at=NOW)
    db.add(submission)
    db.flush()
    for analyte in ("platelets", "creatinine"):
        db.add(LabResult(submission_id=submission.id, patient_id=world.patient.id, analyte=analyte, value_num=200,
                         taken_on=today, patient_reported=True))
    db.commit()
    row = due_reminder(db, world.patient, unless="done", item_due=today).id
    tick(app, NOW, pusher, plan_limit=0)
    db.expire_all()
    assert (db.get(Reminder, row).status, db.get(Reminder, row).outcome) == ("skipped", "done")
    assert push_service.received == []


def test_overdue_labs_tell_the_care_team_with_a_flag(app, db, world, push_service, subscribe, pusher):
    subscribe(world.users["nurse"], "nurse-phone")
    row = due_reminder(db, world.patient, codes=("lab.cbc",), step="overdue", audience="care_team", flag="soon",
                       unless="done", item_due=NOW.date() - timedelta(days=14), useful_hours=720).id
    tick(app, NOW, pusher, plan_limit=0)
    flag = db.scalar(select(Flag).where(Flag.source == "adherence"))
    assert flag is not None and flag.level == "soon" and flag.reasons == ["lab.cbc.overdue"]
    assert push_service.received == []  # soon flags wait in the queue; only urgent ones are pushed
    db.expire_all()
    assert db.get(Reminder, row).status == "sent"


def test_urgent_flags_reach_every_nurse_at_once_and_again_when_unacknowledged(app, db, world, push_service,
                                                                            subscribe, pusher):
    subscribe(world.users["nurse"], "nurse-phone")
    subscribe(world.users["admin"], "admin-phone")
    subscribe(world.users["other_nurse"], "other-clinic")
    world.flag.status = "resolved"  # the world's own urgent flag is not this test's
    flag = flag_service.raise_flag(db, world.patient.id, world.clinic.id, "urgent", "checklist", 0, ["bleed.mucosal"],
                                   NOW, CONTENT)
    db.commit()
    tick(app, NOW, pusher, plan_limit=0)
    assert sorted(m.device for m in push_service.received) == ["admin-phone", "nurse-phone"]
    assert all(m.urgency == "high" for m in push_service.received)
    words = health_words()
    assert not [w for m in push_service.received for w in words if w in str(m.payload).lower()]

    tick(app, NOW + timedelta(hours=3, minutes=59), pusher, plan_limit=0)
    assert len(push_service.received) == 2
    tick(app, NOW + timedelta(hours=4, minutes=1), pusher, plan_limit=0)  # urgent_ack_hours = 4
    assert len(push_service.received) == 4
    db.expire_all()
    assert db.get(Flag, flag.id).escalated_at is not None
    tick(app, NOW + timedelta(hours=9), pusher, plan_limit=0)
    assert len(push_service.received) == 4  # escalated once


def test_an_acknowledged_urgent_flag_is_not_escalated(app, db, world, push_service, subscribe, pusher):
    subscribe(world.users["nurse"], "nurse-phone")
    world.flag.status = "resolved"
    flag = flag_service.raise_flag(db, world.patient.id, world.clinic.id, "urgent", "checklist", 0, ["bleed.mucosal"],
                                   NOW, CONTENT)
    db.commit()
    tick(app, NOW, pusher, plan_limit=0)
    flag_service.acknowledge(flag, world.users["nurse"], NOW + timedelta(minutes=5))
    db.commit()
    tick(app, NOW + timedelta(hours=5), pusher, plan_limit=0)
    assert len(push_service.received) == 1


# --- only to push services (issue 13, point 2): checked again before each send -------


@pytest.mark.parametrize("location", ["{origin}/push/trap", "https://169.254.169.254/latest/meta-data/",
                                      "https://loopback.example.net/push/trap"])
def test_a_redirect_is_never_followed(app, db, world, push_service, subscribe, pusher, dns, location):
    dns.names["loopback.example.net"] = ["127.0.0.1"]
    subscription_id = subscribe(world.users["patient"], "phone").id
    push_service.device("trap")
    push_service.script("phone", ("redirect", 307, location.format(origin=push_service.origin)))
    due_reminder(db, world.patient)
    report = tick(app, NOW, pusher, plan_limit=0)
    assert push_service.hits == ["phone"]
    assert report.pushes == {"failed": 1}
    db.expire_all()
    delivery = db.scalar(select(Delivery))
    assert (delivery.status, delivery.last_status) == ("failed", 307)
    assert db.get(PushSubscription, subscription_id) is not None  # deleted only on 404/410


def _stored(db, user, endpoint: str, device) -> int:
    """A subscription stored before the rules (or by another path): the send checks it again."""
    row = PushSubscription(user_id=user.id, endpoint=endpoint, p256dh=device.p256dh, auth=device.auth,
                           created_at=NOW)
    db.add(row)
    db.commit()
    return row.id


@pytest.mark.parametrize("endpoint", ["https://loopback.example.net:{port}/push/phone",
                                      "https://[::1]:{port}/push/phone", "https://127.0.0.1:{port}/push/phone",
                                      "https://[::ffff:127.0.0.1]:{port}/push/phone",
                                      "http://user@127.0.0.1:{port}/push/phone",
                                      "http://loopback.example.net:{port}/push/phone"])
def test_a_stored_endpoint_that_is_not_a_push_service_is_not_sent_to(app, db, world, push_service, pusher, dns,
                                                                       endpoint):
    dns.names["loopback.example.net"] = ["127.0.0.1"]
    port = push_service.origin.rsplit(":", 1)[1]
    subscription_id = _stored(db, world.users["patient"], endpoint.format(port=port), push_service.device("phone"))
    due_reminder(db, world.patient)
    report = tick(app, NOW, pusher, plan_limit=0)
    assert report.pushes == {"failed": 1}
    assert push_service.hits == []
    db.expire_all()
    delivery = db.scalar(select(Delivery))
    assert delivery.status == "failed" and "refused" in delivery.last_error
    assert db.get(PushSubscription, subscription_id) is not None


def test_a_name_that_turns_to_loopback_between_check_and_connect_is_refused(app, db, world, push_service, pusher,
                                                                            dns):
    """DNS rebinding: the first answer is public, the one the connection would use is loopback."""
    answers = iter([["142.250.74.10"]] + [["127.0.0.1"]] * 10)
    dns.names["rebind.example.net"] = lambda: next(answers)
    port = push_service.origin.rsplit(":", 1)[1]
    _stored(db, world.users["patient"], f"https://rebind.example.net:{port}/push/phone", push_service.device("phone"))
    due_reminder(db, world.patient)
    report = tick(app, NOW, pusher, plan_limit=0)
    assert dns.lookups["rebind.example.net"] >= 2  # checked, then resolved again for the connection
    assert report.pushes == {"failed": 1}
    db.expire_all()
    assert "refused" in db.scalar(select(Delivery)).last_error


def test_a_subscription_with_garbage_keys_fails_alone(app, db, world, push_service, subscribe, pusher):
    subscribe(world.users["patient"], "phone")
    port = push_service.origin.rsplit(":", 1)[1]
    garbage = PushSubscription(user_id=world.users["patient"].id, endpoint=f"http://127.0.0.1:{port}/push/garbage",
                               p256dh="not a key", auth="!!", created_at=NOW)
    db.add(garbage)
    db.commit()
    due_reminder(db, world.patient)
    report = tick(app, NOW, pusher, plan_limit=0)
    assert report.pushes == {"failed": 1, "sent": 1}
    assert [m.device for m in push_service.received] == ["phone"]
