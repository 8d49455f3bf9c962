"""What patients and nurses send, and what follows, through the HTTP API.

CLINICAL.md section 3 (checklist triage, advice, flags, snoozes), section 4 (lab
rules), section 2.2 (item statuses, adherence), section 6 (family, audit) and the
table of API.md section 2.

Dates are either relative to the patient's local today (the world's course
started 120 days ago) or fixed, with "today" frozen through ``frozen_time`` (tests/conftest.py).
"""

from __future__ import annotations

import json
import re
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from server.engine.dates import add_months
from server.models import AuditEvent, Course, Delivery, Flag, LabResult, LabSubmission, Patient, Snooze, User
from server.models.flags import OUTCOMES
from server.timeutil import utcnow

from .conftest import PASSWORD, Client, new_client_id, today_madrid

API = "/api/v1"
CLINIC_PHONE = "+34 900 111 222"
EMERGENCY = "112"
FLAGGING = {"soon", "urgent", "emergency"}
MADRID = ZoneInfo("Europe/Madrid")


# --- helpers ---------------------------------------------------------------------------


def world_course(world_today: date) -> tuple[date, date]:
    """(F_1, L_1) of the world's patients: five infusions from 120 days before today."""
    first = world_today - timedelta(days=120)
    return first, first + timedelta(days=4)


def send_checklist(client, patient_id, answers, answered_on: date, note=None, client_id=None):
    return client.post(f"{API}/patients/{patient_id}/checklists",
                       json={"client_id": client_id or new_client_id(), "answered_on": answered_on.isoformat(),
                             "answers": answers, "note": note})


def send_labs(client, patient_id, results, taken_on: date, client_id=None):
    rows = [{"analyte": a, "value": v, "ref_low": None, "ref_high": None, **extra}
            for a, v, *more in results for extra in [more[0] if more else {}]]
    return client.post(f"{API}/patients/{patient_id}/labs",
                       json={"client_id": client_id or new_client_id(), "taken_on": taken_on.isoformat(),
                             "results": rows})


def open_flags(nurse, patient_id=None) -> list[dict]:
    response = nurse.get(f"{API}/flags?status=open")
    assert response.status_code == 200, response.json
    items = response.json["items"]
    return [f for f in items if patient_id is None or f["patient_id"] == patient_id]


def count(db, model, **where) -> int:
    query = select(func.count()).select_from(model)
    for name, value in where.items():
        query = query.where(getattr(model, name) == value)
    result = db.scalar(query)
    db.commit()
    return result


def assert_error(response, status):
    assert response.status_code == status, response.get_data(as_text=True)
    error = response.json["error"]
    assert error["code"] and error["message"]
    return error


def parse_instant(text: str) -> datetime:
    value = datetime.fromisoformat(text)
    assert value.tzinfo is not None, f"{text} has no offset"
    return value


# --- checklist triage ----------------------------------------------------------------------

# (answers, when, level, reasons): ``when`` is the answer date: "today", or "fever+N" = N days
# after L_1 + 3 months (the last day fever counts as near an infusion is fever+0).
TRIAGE = [
    pytest.param({}, "today", "none", [], id="none-nothing-answered"),
    pytest.param({"bleed.mucosal": False, "emergency.neuro": False, "thyroid.weight": False}, "today", "none", [],
                 id="none-all-no"),
    pytest.param({"thyroid.weight": True}, "today", "routine", ["thyroid.weight"], id="routine-one-thyroid"),
    pytest.param({"infection.other": True}, "today", "routine", ["infection.other"], id="routine-infection-other"),
    pytest.param({"thyroid.weight": True, "infection.other": True}, "today", "routine",
                 ["infection.other", "thyroid.weight"], id="routine-two-groups"),
    pytest.param({"thyroid.weight": True, "thyroid.bowel": True}, "today", "soon", ["group:thyroid"],
                 id="soon-thyroid-group-two"),
    pytest.param({"thyroid.weight": True, "thyroid.bowel": True, "thyroid.temperature": True}, "today", "soon",
                 ["group:thyroid"], id="soon-thyroid-group-three"),
    pytest.param({"gut.diarrhoea": True}, "today", "soon", ["gut.diarrhoea"], id="soon-diarrhoea"),
    pytest.param({"gut.diarrhoea": True, "thyroid.weight": True, "thyroid.temperature": True}, "today", "soon",
                 ["group:thyroid", "gut.diarrhoea"], id="soon-diarrhoea-and-thyroid-group"),
    pytest.param({"infection.fever": True}, "today", "soon", ["infection.fever"], id="soon-fever-months-after"),
    pytest.param({"infection.fever": True}, "fever+1", "soon", ["infection.fever"],
                 id="soon-fever-day-after-3-months"),
    pytest.param({"infection.fever": True}, "fever+0", "urgent", ["infection.fever"],
                 id="urgent-fever-last-day-of-3-months"),
    pytest.param({"infection.fever": True}, "fever-20", "urgent", ["infection.fever"],
                 id="urgent-fever-within-3-months"),
    pytest.param({"bleed.mucosal": True}, "today", "urgent", ["bleed.mucosal"], id="urgent-bleeding"),
    pytest.param({"bleed.menstrual": True}, "today", "urgent", ["bleed.menstrual"], id="urgent-menstrual"),
    pytest.param({"kidney.urine": True, "bleed.bruising": True, "thyroid.weight": True}, "today", "urgent",
                 ["bleed.bruising", "kidney.urine"], id="urgent-several"),
    pytest.param({"liver.jaundice": True, "thyroid.weight": True, "thyroid.bowel": True}, "today", "urgent",
                 ["liver.jaundice"], id="urgent-beats-thyroid-group"),
    pytest.param({"neuro.cognition": True, "gut.diarrhoea": True}, "today", "urgent", ["neuro.cognition"],
                 id="urgent-beats-soon"),
    pytest.param({"emergency.neuro": True}, "today", "emergency", ["emergency.neuro"], id="emergency-neuro"),
    pytest.param({"emergency.breath_chest": True, "emergency.neuro": True, "bleed.mucosal": True}, "today",
                 "emergency", ["emergency.breath_chest", "emergency.neuro"], id="emergency-two-beat-urgent"),
    # CLINICAL.md 3 (v2) rows
    pytest.param({"bleed.severe": True}, "today", "emergency", ["bleed.severe"], id="emergency-bleed-severe-v2"),
    pytest.param({"infection.meningitis": True, "infection.fever": True}, "fever-20", "emergency",
                 ["infection.meningitis"], id="emergency-meningitis-v2-over-near-fever"),
    pytest.param({"infection.shingles": True}, "today", "urgent", ["infection.shingles"], id="urgent-shingles-v2"),
    pytest.param({"ms.relapse": True}, "today", "soon", ["ms.relapse"], id="soon-relapse-v2"),
    pytest.param({"pregnancy.possible": True}, "today", "soon", ["pregnancy.possible"],
                 id="soon-pregnancy-possible-v2-childbearing"),
    pytest.param({"thyroid.neck_eyes": True, "thyroid.heart": True}, "today", "soon",
                 ["thyroid.neck_eyes", "group:thyroid"], id="soon-thyroid-v2-neck-eyes-and-group"),
    pytest.param({"thyroid.heart": True}, "today", "routine", ["thyroid.heart"], id="routine-thyroid-heart-v2"),
]

#: CLINICAL.md section 3: what the patient sees at once, by level (English)
ADVICE_WORDS = {
    "emergency": ["Call the emergency number now", EMERGENCY, CLINIC_PHONE],
    "urgent": ["Call your MS team today", CLINIC_PHONE],
    "soon": ["within 2 working days", CLINIC_PHONE],
    "routine": ["Noted for your next review", CLINIC_PHONE],
    "none": ["Thank you, nothing worrying reported", CLINIC_PHONE],
}


def answer_date(when: str, today: date) -> date:
    if when == "today":
        return today
    _, last = world_course(today)
    near_end = add_months(last, 3)
    return near_end + timedelta(days=int(when[len("fever"):]))


@pytest.mark.parametrize("answers,when,level,reasons", TRIAGE)
def test_checklist_triage_advice_and_flag(answers, when, level, reasons, world, db, client_for):
    today = today_madrid()
    patient, nurse = client_for("patient"), client_for("nurse")
    pid = world.patient.id
    flags_before = count(db, Flag, patient_id=pid)

    sent = send_checklist(patient, pid, answers, answer_date(when, today))
    assert sent.status_code == 201, sent.json
    body = sent.json
    assert body["level"] == level
    assert sorted(body["reasons"]) == sorted(reasons)
    advice = body["advice"]
    assert advice["phone"] == CLINIC_PHONE and advice["emergency_number"] == EMERGENCY
    for words in ADVICE_WORDS[level]:
        assert words in advice["text"], advice["text"]

    queue = open_flags(nurse, pid)
    if level in FLAGGING:
        assert body["flag_id"] is not None
        flag = next(f for f in queue if f["id"] == body["flag_id"])
        assert flag["level"] == level and flag["source"] == "checklist" and flag["status"] == "open"
        assert sorted(flag["reasons"]) == sorted(reasons)
        assert count(db, Flag, patient_id=pid) == flags_before + 1
    else:
        assert body["flag_id"] is None
        assert [f["id"] for f in queue] == [world.flag.id]
        assert count(db, Flag, patient_id=pid) == flags_before
    # Every level is on the patient's record for the nurse, routine included.
    record = nurse.get(f"{API}/patients/{pid}/checklists").json["items"]
    assert [(c["id"], c["level"]) for c in record] == [(body["id"], level)]
    assert record[0]["answers"] == answers


@pytest.mark.parametrize("language", ["es", "de", "it", "en"])
@pytest.mark.parametrize("level,answers", [
    pytest.param("emergency", {"emergency.neuro": True}, id="emergency"),
    pytest.param("urgent", {"bleed.mucosal": True}, id="urgent"),
    pytest.param("none", {}, id="none"),
])
def test_advice_is_in_the_patients_language_with_the_clinics_numbers(language, level, answers, app, world, db,
                                                                     client_for):
    content = app.extensions["alemtrack_content"]
    world.patient.language = language
    world.clinic.phone, world.clinic.emergency_number = "+34 911 222 333", "061"
    db.commit()
    sent = send_checklist(client_for("patient"), world.patient.id, answers, today_madrid())
    assert sent.status_code == 201, sent.json
    advice = sent.json["advice"]
    expected = content.text(language, "levels", level, "advice").format(clinic_phone="+34 911 222 333",
                                                                          emergency_number="061")
    assert advice["text"] == expected
    assert "+34 911 222 333" in advice["text"] and advice["phone"] == "+34 911 222 333"
    if level == "emergency":
        assert "061" in advice["text"]
    if language != "en":
        assert advice["text"] != content.text("en", "levels", level, "advice").format(
            clinic_phone="+34 911 222 333", emergency_number="061")


def test_current_checklist_is_in_the_patients_language_and_asks_women_only_questions_of_women(world, db,
                                                                                           client_for, app):
    content = app.extensions["alemtrack_content"]
    world.patient.language = "es"
    db.commit()
    mine = client_for("patient").get(f"{API}/patients/{world.patient.id}/checklist")
    assert mine.status_code == 200, mine.json
    texts = {q["code"]: q["text"] for q in mine.json["questions"]}
    assert texts["bleed.mucosal"] == content.text("es", "questions", "bleed.mucosal", "text")
    assert "bleed.menstrual" in texts
    # CLINICAL.md 3 pregnancy.possible (v2): she has childbearing potential, he has not
    assert "pregnancy.possible" in texts
    # The emergency signs come as a short list under a short question (CLINICAL.md 3, v2 texts).
    neuro = next(q for q in mine.json["questions"] if q["code"] == "emergency.neuro")
    assert neuro["signs"] == list(content.text("es", "questions", "emergency.neuro", "signs"))
    assert all(q["signs"] == [] for q in mine.json["questions"] if q["code"] == "bleed.mucosal")
    his = client_for("other_patient").get(f"{API}/patients/{world.other_patient.id}/checklist")
    assert his.status_code == 200
    assert "bleed.menstrual" not in {q["code"] for q in his.json["questions"]}
    assert "pregnancy.possible" not in {q["code"] for q in his.json["questions"]}
    assert {"emergency.neuro", "infection.fever", "thyroid.weight"} <= {q["code"] for q in his.json["questions"]}


@pytest.mark.parametrize("answers,note,level,reasons", [
    pytest.param({}, "Felt tired after the holidays", "routine", ["note"], id="note-only-routine"),
    pytest.param({"bleed.mucosal": False}, "  dizzy\nonce ", "routine", ["note"], id="all-no-and-note-routine"),
    pytest.param({}, "   \n\t ", "none", [], id="white-space-note-none"),
    pytest.param({}, None, "none", [], id="no-note-none"),
    pytest.param({"thyroid.weight": True}, "hot", "routine", ["thyroid.weight"], id="routine-yes-no-note-reason"),
])
def test_checklist_note_is_kept_for_the_nurse_routine_without_flag_or_push(answers, note, level, reasons, world,
                                                                         db, client_for):
    """CLINICAL.md 3 free text (v2): a note that is not blank raises none to routine (reason "note");
    routine is on the record and in the list to read, with no flag and no push."""
    pid = world.patient.id
    flags_before, pushes_before = count(db, Flag, patient_id=pid), count(db, Delivery)
    sent = send_checklist(client_for("patient"), pid, answers, today_madrid(), note=note)
    assert sent.status_code == 201, sent.json
    assert (sent.json["level"], sent.json["reasons"], sent.json["flag_id"]) == (level, reasons, None)
    for words in ADVICE_WORDS[level]:
        assert words in sent.json["advice"]["text"]
    assert count(db, Flag, patient_id=pid) == flags_before
    assert count(db, Delivery) == pushes_before
    record = client_for("nurse").get(f"{API}/patients/{pid}/checklists").json["items"]
    assert (record[0]["level"], record[0]["reasons"], record[0]["note"]) == (level, reasons, note)


def test_fever_after_a_second_course_is_urgent(world, client_for):
    """L_prev is the last infusion on or before the answer date, whichever course it belongs to."""
    today = today_madrid()
    recent = [today - timedelta(days=d) for d in (12, 11, 10)]
    made = client_for("nurse").post(f"{API}/patients/{world.patient.id}/courses",
                                    json={"infusions": [d.isoformat() for d in recent], "status": "given"})
    assert made.status_code == 201, made.json
    sent = send_checklist(client_for("patient"), world.patient.id, {"infection.fever": True}, today)
    assert sent.status_code == 201, sent.json
    assert (sent.json["level"], sent.json["reasons"]) == ("urgent", ["infection.fever"])


def test_a_planned_course_does_not_make_fever_urgent(world, client_for):
    """A planned course in the future is not an infusion on or before the answer date."""
    today = today_madrid()
    planned = [today + timedelta(days=d) for d in (5, 6, 7)]
    made = client_for("nurse").post(f"{API}/patients/{world.patient.id}/courses",
                                    json={"infusions": [d.isoformat() for d in planned], "status": "planned"})
    assert made.status_code == 201, made.json
    sent = send_checklist(client_for("patient"), world.patient.id, {"infection.fever": True}, today)
    assert sent.json["level"] == "soon"


@pytest.mark.parametrize("tz,accepted", [
    pytest.param("Pacific/Kiritimati", True, id="already-tomorrow-at-UTC+14"),
    pytest.param("Europe/Madrid", False, id="still-today-in-madrid"),
])
def test_answer_and_sample_dates_are_the_patients_local_dates(tz, accepted, world, db, client_for, frozen_time):
    """At 2026-03-01 12:00 UTC it is already 2 March on Kiritimati, still 1 March in Madrid."""
    world.patient.timezone = tz
    db.commit()
    frozen_time(datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc))
    tomorrow = date(2026, 3, 2)
    sent = send_checklist(client_for("patient"), world.patient.id, {}, tomorrow)
    labs = send_labs(client_for("nurse"), world.patient.id, [("tsh", 2.0)], tomorrow)
    if accepted:
        assert sent.status_code == 201 and labs.status_code == 201, (sent.json, labs.json)
    else:
        assert assert_error(sent, 400)["field"] == "answered_on"
        assert assert_error(labs, 400)["field"] == "taken_on"


# --- snoozes ---------------------------------------------------------------------------------

# (snoozed codes, answers, patient's level, flag level or None, flag reasons)
SNOOZES = [
    pytest.param(["bleed.mucosal"], {"bleed.mucosal": True}, "urgent", None, [], id="snoozed-urgent-no-flag"),
    pytest.param(["emergency.neuro"], {"emergency.neuro": True}, "emergency", None, [],
                 id="snoozed-emergency-no-flag"),
    pytest.param(["thyroid.weight"], {"thyroid.weight": True, "thyroid.bowel": True}, "soon", None, [],
                 id="snoozed-thyroid-breaks-group"),
    pytest.param(["bleed.mucosal"], {"bleed.mucosal": True, "kidney.urine": True}, "urgent", "urgent",
                 ["kidney.urine"], id="other-urgent-answer-still-flags"),
    pytest.param(["bleed.mucosal"], {"bleed.mucosal": True, "gut.diarrhoea": True}, "urgent", "soon",
                 ["gut.diarrhoea"], id="flag-at-the-level-of-what-is-not-snoozed"),
    pytest.param(["thyroid.weight"], {"bleed.bruising": True}, "urgent", "urgent", ["bleed.bruising"],
                 id="snooze-of-another-code-changes-nothing"),
]


@pytest.mark.parametrize("snoozed,answers,level,flag_level,flag_reasons", SNOOZES)
def test_snoozed_code_raises_no_flag_but_the_patient_still_gets_the_advice(snoozed, answers, level, flag_level,
                                                                          flag_reasons, world, db, client_for):
    today = today_madrid()
    nurse, patient = client_for("nurse"), client_for("patient")
    pid = world.patient.id
    for code in snoozed:
        made = nurse.post(f"{API}/patients/{pid}/snoozes",
                          json={"code": code, "until": (today + timedelta(days=14)).isoformat(),
                                "reason": "known and managed"})
        assert made.status_code == 201, made.json
        assert made.json["code"] == code and made.json["until"] == (today + timedelta(days=14)).isoformat()
    listed = nurse.get(f"{API}/patients/{pid}/snoozes").json["items"]
    assert sorted(s["code"] for s in listed) == sorted(snoozed)

    sent = send_checklist(patient, pid, answers, today)
    assert sent.status_code == 201, sent.json
    assert sent.json["level"] == level
    for words in ADVICE_WORDS[level]:
        assert words in sent.json["advice"]["text"]
    queue = [f for f in open_flags(nurse, pid) if f["id"] != world.flag.id]
    if flag_level is None:
        assert sent.json["flag_id"] is None and queue == []
    else:
        assert [(f["id"], f["level"], sorted(f["reasons"])) for f in queue] == [
            (sent.json["flag_id"], flag_level, sorted(flag_reasons))]
    # The answers stay recorded as given.
    record = nurse.get(f"{API}/patients/{pid}/checklists").json["items"]
    assert record[0]["answers"] == answers and record[0]["level"] == level


@pytest.mark.parametrize("until_days,flagged", [
    pytest.param(0, False, id="last-day-of-snooze"),
    pytest.param(-1, True, id="snooze-ended-yesterday"),
])
def test_snooze_holds_through_its_last_day(until_days, flagged, world, db, client_for):
    today = today_madrid()
    db.add(Snooze(patient_id=world.patient.id, code="bleed.mucosal", until=today + timedelta(days=until_days),
                  reason=None, created_by_id=world.users["nurse"].id, created_at=utcnow()))
    db.commit()
    sent = send_checklist(client_for("patient"), world.patient.id, {"bleed.mucosal": True}, today)
    assert sent.status_code == 201 and sent.json["level"] == "urgent"
    assert (sent.json["flag_id"] is not None) == flagged


def test_snooze_is_for_one_patient_only(world, client_for):
    today = today_madrid()
    nurse = client_for("nurse")
    made = nurse.post(f"{API}/patients/{world.other_patient.id}/snoozes",
                      json={"code": "bleed.mucosal", "until": (today + timedelta(days=7)).isoformat()})
    assert made.status_code == 201
    sent = send_checklist(client_for("patient"), world.patient.id, {"bleed.mucosal": True}, today)
    assert sent.json["flag_id"] is not None


def test_snooze_may_last_exactly_one_month(world, client_for):
    today = today_madrid()
    made = client_for("nurse").post(f"{API}/patients/{world.patient.id}/snoozes",
                                    json={"code": "thyroid.weight", "until": add_months(today, 1).isoformat()})
    assert made.status_code == 201, made.json


# --- lab results --------------------------------------------------------------------------

# (results, findings as (rule, level, analyte, value), flag level or None)
LABS = [
    pytest.param([("platelets", 80)], [("platelets.low", "urgent", "platelets", 80)], "urgent",
                 id="platelets-80-low-urgent"),
    pytest.param([("platelets", 99.9)], [("platelets.low", "urgent", "platelets", 99.9)], "urgent",
                 id="platelets-just-under-100"),
    pytest.param([("platelets", 140)], [("platelets.falling", "soon", "platelets", 140)], "soon",
                 id="platelets-below-range-falling"),
    pytest.param([("platelets", 175)], [("platelets.falling", "soon", "platelets", 175)], "soon",
                 id="platelets-70-percent-of-baseline"),
    pytest.param([("platelets", 176)], [], None, id="platelets-above-70-percent-of-baseline"),
    pytest.param([("platelets", 250)], [], None, id="platelets-normal"),
    pytest.param([("urine_blood", "positive")], [("kidney.urinalysis", "urgent", "urine_blood", "positive")],
                 "urgent", id="urine-blood-positive"),
    pytest.param([("urine_protein", "positive")],
                 [("kidney.urinalysis", "urgent", "urine_protein", "positive")], "urgent",
                 id="urine-protein-positive"),
    pytest.param([("urine_blood", "negative")], [], None, id="urine-blood-negative"),
    pytest.param([("creatinine", 91)], [("kidney.creatinine", "urgent", "creatinine", 91)], "urgent",
                 id="creatinine-130-percent-of-baseline"),
    pytest.param([("creatinine", 90)], [], None, id="creatinine-under-130-percent"),
    pytest.param([("tsh", 5.0)], [("thyroid.tsh", "soon", "tsh", 5.0)], "soon", id="tsh-high"),
    pytest.param([("tsh", 5.0, {"ref_low": 0.3, "ref_high": 6.0})], [], None, id="tsh-within-labs-own-range"),
    pytest.param([("alt", 50)], [("liver.enzymes", "soon", "alt", 50)], "soon", id="alt-above-upper"),
    pytest.param([("alt", 130)], [("liver.enzymes", "urgent", "alt", 130)], "urgent", id="alt-above-3x"),
    pytest.param([("bilirubin", 43)], [("liver.enzymes", "urgent", "bilirubin", 43)], "urgent",
                 id="bilirubin-above-2x"),
    pytest.param([("neutrophils", 0.8)], [("neutrophils.low", "soon", "neutrophils", 0.8)], "soon",
                 id="neutrophils-low"),
    pytest.param([("cd4", 300)], [], None, id="cd4-recovered-no-flag"),
    pytest.param([("cd4", 100)], [], None, id="cd4-low-no-flag"),
    pytest.param([("platelets", 80), ("tsh", 5.0), ("cd4", 300)],
                 [("platelets.low", "urgent", "platelets", 80), ("thyroid.tsh", "soon", "tsh", 5.0)], "urgent",
                 id="several-one-flag-at-the-highest-level"),
]


@pytest.mark.parametrize("role", ["nurse", "patient"])
@pytest.mark.parametrize("results,findings,flag_level", LABS)
def test_lab_results_and_their_flags(results, findings, flag_level, role, world, db, client_for):
    today = today_madrid()
    pid = world.patient.id
    sent = send_labs(client_for(role), pid, results, today)
    assert sent.status_code == 201, sent.json
    got = sorted((f["rule"], f["level"], f["analyte"], f["value"]) for f in sent.json["flags"])
    assert got == sorted(findings)
    assert all(f["taken_on"] == today.isoformat() for f in sent.json["flags"])
    queue = [f for f in open_flags(client_for("nurse"), pid) if f["id"] != world.flag.id]
    if flag_level is None:
        assert sent.json["flag_id"] is None and queue == []
    else:
        assert [(f["id"], f["level"], f["source"]) for f in queue] == [(sent.json["flag_id"], flag_level, "lab")]
        assert sorted(queue[0]["reasons"]) == sorted({rule for rule, level, *_ in findings if level != "none"})
    stored = client_for("nurse").get(f"{API}/patients/{pid}/labs").json["items"]
    assert sorted((r["analyte"], r["value"]) for r in stored) == sorted((r[0], r[1]) for r in results)
    assert all(r["patient_reported"] is (role == "patient") for r in stored)
    assert all(r["taken_on"] == today.isoformat() for r in stored)


@pytest.mark.parametrize("role", ["nurse", "patient"])
def test_lab_submission_is_idempotent_on_client_id(role, world, db, client_for):
    client = client_for(role)
    pid = world.patient.id
    client_id = new_client_id()
    first = send_labs(client, pid, [("platelets", 80), ("urine_blood", "positive")], today_madrid(), client_id)
    assert first.status_code == 201, first.json
    rows = (count(db, LabSubmission, patient_id=pid), count(db, LabResult, patient_id=pid),
            count(db, Flag, patient_id=pid))
    again = send_labs(client, pid, [("platelets", 80), ("urine_blood", "positive")], today_madrid(), client_id)
    assert again.status_code == 200 and again.json == first.json
    assert (count(db, LabSubmission, patient_id=pid), count(db, LabResult, patient_id=pid),
            count(db, Flag, patient_id=pid)) == rows == (1, 2, 2)
    assert len(client_for("nurse").get(f"{API}/patients/{pid}/labs").json["items"]) == 2


def test_same_client_id_for_another_patient_is_another_submission(world, db, client_for):
    nurse = client_for("nurse")
    client_id = new_client_id()
    a = send_labs(nurse, world.patient.id, [("tsh", 2.0)], today_madrid(), client_id)
    b = send_labs(nurse, world.other_patient.id, [("tsh", 2.0)], today_madrid(), client_id)
    assert a.status_code == 201 and b.status_code == 201 and a.json["id"] != b.json["id"]


def _lab_item(timeline_items, code, due: date) -> dict:
    return next(i for i in timeline_items if i["code"] == code and i.get("due") == due.isoformat())


def test_sample_taken_records_no_value_and_marks_the_lab_item_done(world, db, client_for):
    today = today_madrid()
    first, _ = world_course(today)
    due = add_months(first, 1)  # month 1: long past its window, so overdue until a sample is reported
    nurse, patient = client_for("nurse"), client_for("patient")
    path = f"{API}/patients/{world.patient.id}/timeline"
    before = nurse.get(path).json["items"]
    assert _lab_item(before, "lab.cbc", due)["status"] == "overdue"

    sent = send_labs(patient, world.patient.id, [("platelets", None)], due + timedelta(days=2))
    assert sent.status_code == 201, sent.json
    assert sent.json["flags"] == [] and sent.json["flag_id"] is None
    stored = nurse.get(f"{API}/patients/{world.patient.id}/labs?analyte=platelets").json["items"]
    assert [(r["value"], r["taken_on"], r["patient_reported"]) for r in stored] == [
        (None, (due + timedelta(days=2)).isoformat(), True)]

    after = nurse.get(path).json["items"]
    assert _lab_item(after, "lab.cbc", due)["status"] == "done"
    assert _lab_item(after, "lab.creatinine", due)["status"] == "overdue"  # another test, not reported
    assert _lab_item(after, "lab.cbc", add_months(first, 2))["status"] == "overdue"


def test_lab_list_filters_by_analyte(world, client_for):
    nurse = client_for("nurse")
    assert send_labs(nurse, world.patient.id, [("tsh", 2.5), ("platelets", 210)], today_madrid()).status_code == 201
    only = nurse.get(f"{API}/patients/{world.patient.id}/labs?analyte=tsh").json["items"]
    assert [(r["analyte"], r["value"]) for r in only] == [("tsh", 2.5)]
    assert_error(nurse.get(f"{API}/patients/{world.patient.id}/labs?analyte=unobtainium"), 400)


# (baseline, result with its lab's own range, finding or None)
OWN_RANGES = [
    pytest.param({}, ("platelets", 140, {"ref_low": 130, "ref_high": 400}), None, id="platelets-within-own-range"),
    pytest.param({}, ("platelets", 120, {"ref_low": 130, "ref_high": 400}), ("platelets.falling", "soon"),
                 id="platelets-below-own-range"),
    pytest.param({}, ("platelets", 140, {}), ("platelets.falling", "soon"), id="platelets-below-default-range"),
    pytest.param({}, ("creatinine", 85, {"ref_low": 40, "ref_high": 80}), ("kidney.creatinine", "urgent"),
                 id="creatinine-above-own-upper"),
    pytest.param({}, ("creatinine", 105, {}), None, id="creatinine-within-default-no-baseline"),
    pytest.param({}, ("alt", 100, {"ref_low": 0, "ref_high": 30}), ("liver.enzymes", "urgent"),
                 id="alt-above-3x-own-upper"),
    pytest.param({"platelets": 300}, ("platelets", 205, {}), ("platelets.falling", "soon"),
                 id="platelets-fall-of-30-percent-from-baseline"),
]


@pytest.mark.parametrize("baseline,sent,finding", OWN_RANGES)
def test_a_results_own_reference_range_replaces_the_default(baseline, sent, finding, world, db, client_for):
    world.other_patient.baseline = baseline
    db.commit()
    response = send_labs(client_for("nurse"), world.other_patient.id, [sent], today_madrid())
    assert response.status_code == 201, response.json
    got = [(f["rule"], f["level"]) for f in response.json["flags"]]
    assert got == ([finding] if finding else [])


@pytest.mark.parametrize("rise,flagged", [pytest.param(None, True, id="default-130-percent"),
                                          pytest.param(1.5, False, id="clinic-sets-150-percent")])
def test_clinic_setting_changes_the_creatinine_rule(rise, flagged, world, client_for):
    nurse = client_for("nurse")
    if rise is not None:
        put = nurse.put(f"{API}/clinic/settings", json={"settings": {"creatinine_rise": rise}})
        assert put.status_code == 200, put.json
        assert put.json["effective"]["creatinine_rise"] == rise
    response = send_labs(nurse, world.patient.id, [("creatinine", 100)], today_madrid())  # baseline 70
    assert response.status_code == 201
    assert bool(response.json["flags"]) == flagged


def test_low_platelets_make_blood_counts_weekly(world, client_for):
    nurse = client_for("nurse")
    today = today_madrid()
    assert send_labs(nurse, world.patient.id, [("platelets", 80)], today).status_code == 201
    items = nurse.get(f"{API}/patients/{world.patient.id}/timeline").json["items"]
    weekly = [i["due"] for i in items if i["code"] == "lab.cbc" and i.get("cadence") == "weekly"]
    assert weekly[:3] == [(today + timedelta(days=7 * k)).isoformat() for k in (1, 2, 3)]
    monthly_after = [i["due"] for i in items if i["code"] == "lab.cbc" and i.get("cadence") != "weekly"
                     and i["due"] > today.isoformat()]
    assert monthly_after == []  # no pair of normal results yet: weekly to the end of monitoring


# --- item statuses (frozen today) ------------------------------------------------------------

TL_FIRST = date(2026, 1, 5)
TL_COURSE = [TL_FIRST + timedelta(days=i) for i in range(5)]  # L_1 = 2026-01-09
CBC_DUE = date(2026, 2, 5)  # F_1 + 1 month: window 2026-01-29 .. 2026-02-12
REVIEW_DUE = date(2026, 2, 6)  # L_1 + 28 days


@pytest.fixture
def timeline_patient(world, db, app):
    """A patient of clinic A with one given course 2026-01-05..09, and her login."""
    patient = Patient(clinic_id=world.clinic.id, display_name="Tina Timeline", sex="female",
                      childbearing_potential=False, breastfeeding=False, timezone="Europe/Madrid", language="en",
                      baseline={"platelets": 250, "creatinine": 70})
    db.add(patient)
    db.flush()
    db.add(Course(patient_id=patient.id, infusions=[d.isoformat() for d in TL_COURSE], status="given",
                  created_by_id=world.users["nurse"].id, created_at=utcnow()))
    db.add(User(email="tina@a.test", role="patient", clinic_id=world.clinic.id, patient_id=patient.id,
                password_hash=world.users["patient"].password_hash))
    db.commit()
    client = Client(app)
    assert client.login("tina@a.test", PASSWORD).status_code == 200
    return patient.id, client


def _find(items, code, on: date) -> dict:
    found = [i for i in items if i["code"] == code and (i.get("due") or i.get("start")) == on.isoformat()]
    assert len(found) == 1, (code, on, found)
    return found[0]


# (code, the item's due or start, today, what was recorded before, expected status)
STATUSES = [
    pytest.param("lab.cbc", CBC_DUE, date(2026, 1, 28), None, "upcoming", id="lab-day-before-window"),
    pytest.param("lab.cbc", CBC_DUE, date(2026, 1, 29), None, "due", id="lab-window-opens"),
    pytest.param("lab.cbc", CBC_DUE, CBC_DUE, None, "due", id="lab-due-day"),
    pytest.param("lab.cbc", CBC_DUE, date(2026, 2, 12), None, "due", id="lab-window-last-day"),
    pytest.param("lab.cbc", CBC_DUE, date(2026, 2, 13), None, "overdue", id="lab-day-after-window"),
    pytest.param("lab.cbc", CBC_DUE, date(2026, 3, 1), ("lab", date(2026, 2, 1), 250), "done",
                 id="lab-result-in-window"),
    pytest.param("lab.cbc", CBC_DUE, date(2026, 2, 3), ("lab", date(2026, 2, 3), 250), "done",
                 id="lab-result-before-due-day"),
    pytest.param("lab.cbc", CBC_DUE, date(2026, 3, 1), ("lab", date(2026, 2, 12), None), "done",
                 id="lab-sample-taken-last-day-of-window"),
    pytest.param("lab.cbc", CBC_DUE, date(2026, 3, 1), ("lab", date(2026, 1, 28), 250), "overdue",
                 id="lab-result-before-window-does-not-count"),
    pytest.param("lab.cbc", CBC_DUE, date(2026, 3, 1), ("lab", date(2026, 2, 13), 250), "overdue",
                 id="lab-result-after-window-does-not-count"),
    pytest.param("lab.creatinine", CBC_DUE, date(2026, 3, 1), ("lab", date(2026, 2, 1), 250), "overdue",
                 id="lab-result-of-another-test-does-not-count"),
    pytest.param("checklist.monthly", CBC_DUE, date(2026, 1, 28), None, "upcoming", id="checklist-before-window"),
    pytest.param("checklist.monthly", CBC_DUE, date(2026, 1, 29), None, "due", id="checklist-window-opens"),
    pytest.param("checklist.monthly", CBC_DUE, date(2026, 2, 12), None, "due", id="checklist-7-days-after-due"),
    pytest.param("checklist.monthly", CBC_DUE, date(2026, 2, 13), None, "missed", id="checklist-missed"),
    pytest.param("checklist.monthly", CBC_DUE, date(2026, 3, 1), ("checklist", date(2026, 2, 1)), "done",
                 id="checklist-sent"),
    pytest.param("checklist.monthly", CBC_DUE, date(2026, 3, 1), ("checklist", date(2026, 2, 10)), "done",
                 id="checklist-sent-late-in-window"),
    pytest.param("diet.listeria", date(2025, 12, 22), date(2025, 12, 21), None, "upcoming",
                 id="window-before-start"),
    pytest.param("diet.listeria", date(2025, 12, 22), date(2025, 12, 22), None, "due", id="window-first-day"),
    pytest.param("diet.listeria", date(2025, 12, 22), date(2026, 2, 9), None, "due", id="window-last-day"),
    pytest.param("diet.listeria", date(2025, 12, 22), date(2026, 2, 10), None, "done", id="window-over"),
    pytest.param("appt.post_course_review", REVIEW_DUE, date(2026, 1, 29), None, "upcoming",
                 id="appointment-ahead"),
    pytest.param("appt.post_course_review", REVIEW_DUE, REVIEW_DUE, None, "due", id="appointment-day"),
]


@pytest.mark.parametrize("code,on,today,recorded,status", STATUSES)
def test_timeline_item_status(code, on, today, recorded, status, timeline_patient, world, client_for, frozen_time):
    pid, patient = timeline_patient
    if recorded is not None:
        frozen_time(recorded[1])
        if recorded[0] == "lab":
            assert send_labs(client_for("nurse"), pid, [("platelets", recorded[2])], recorded[1]).status_code == 201
        else:
            sent = send_checklist(patient, pid, {}, recorded[1])
            assert sent.status_code == 201, sent.json
    frozen_time(today)
    for client in (patient, client_for("nurse")):
        response = client.get(f"{API}/patients/{pid}/timeline")
        assert response.status_code == 200, response.json
        assert _find(response.json["items"], code, on)["status"] == status


def test_timeline_statuses_are_those_of_the_api(timeline_patient, frozen_time):
    pid, patient = timeline_patient
    frozen_time(date(2026, 6, 1))
    items = patient.get(f"{API}/patients/{pid}/timeline").json["items"]
    assert {i["status"] for i in items} <= {"upcoming", "due", "done", "overdue", "missed"}
    assert {i["status"] for i in items} >= {"upcoming", "done", "overdue", "missed"}


def test_timeline_from_and_to(timeline_patient, frozen_time):
    pid, patient = timeline_patient
    frozen_time(date(2026, 6, 1))
    items = patient.get(f"{API}/patients/{pid}/timeline?from=2026-03-01&to=2026-03-31").json["items"]
    assert items
    for item in items:
        last = item.get("due") or item.get("end")
        assert (last is None or last >= "2026-03-01") and (item.get("due") or item["start"]) <= "2026-03-31"


# --- the flag queue -------------------------------------------------------------------------


def test_flag_queue_is_most_severe_first_then_oldest_first(world, db, client_for, frozen_time):
    """Flags made out of time order: the queue follows created_at, not the order of their ids."""
    nurse = client_for("nurse")
    patty, quinn = world.patient.id, world.other_patient.id
    t0 = utcnow() - timedelta(days=2)
    made = {}

    def lab(name, pid, results, minutes):
        frozen_time(t0 + timedelta(minutes=minutes))
        sent = send_labs(nurse, pid, results, today_madrid_at(t0 + timedelta(minutes=minutes)))
        assert sent.status_code == 201 and sent.json["flag_id"], sent.json
        made[name] = sent.json["flag_id"]

    def checklist(name, role, pid, minutes):
        instant = frozen_time(t0 + timedelta(minutes=minutes))
        sent = send_checklist(client_for(role), pid, {"emergency.neuro": True}, today_madrid_at(instant))
        assert sent.status_code == 201 and sent.json["flag_id"], sent.json
        made[name] = sent.json["flag_id"]

    lab("urgent_late", patty, [("platelets", 80)], 10)
    lab("urgent_early", quinn, [("platelets", 80)], 5)
    lab("soon_late", patty, [("tsh", 5.0)], 20)
    lab("soon_early", quinn, [("tsh", 5.0)], 1)
    checklist("emergency_late", "patient", patty, 30)
    checklist("emergency_early", "other_patient", quinn, 15)

    queue = open_flags(nurse)
    assert [f["id"] for f in queue] == [
        made["emergency_early"], made["emergency_late"],
        made["urgent_early"], made["urgent_late"], world.flag.id,  # the world's flag was made just now
        made["soon_early"], made["soon_late"],
    ]
    assert world.foreign_flag.id not in [f["id"] for f in queue]  # another clinic's
    for f in queue:
        parse_instant(f["created_at"])
    assert [f["id"] for f in nurse.get(f"{API}/flags").json["items"]] == [f["id"] for f in queue]


def today_madrid_at(instant: datetime) -> date:
    return instant.astimezone(MADRID).date()


def test_flag_ack_then_resolve(world, client_for):
    nurse, admin = client_for("nurse"), client_for("admin")
    fid = world.flag.id
    acked = nurse.post(f"{API}/flags/{fid}/ack")
    assert acked.status_code == 200, acked.json
    assert acked.json["status"] == "acknowledged"
    assert acked.json["acknowledged_by"] == world.users["nurse"].id
    parse_instant(acked.json["acknowledged_at"])
    assert fid not in [f["id"] for f in nurse.get(f"{API}/flags?status=open").json["items"]]
    assert fid in [f["id"] for f in nurse.get(f"{API}/flags?status=acknowledged").json["items"]]

    again = admin.post(f"{API}/flags/{fid}/ack")
    assert assert_error(again, 409)
    assert admin.get(f"{API}/flags?status=acknowledged").json["items"][0]["acknowledged_by"] == \
        world.users["nurse"].id

    resolved = admin.post(f"{API}/flags/{fid}/resolve", json={"outcome": "lab_ordered", "note": "CBC Friday"})
    assert resolved.status_code == 200, resolved.json
    body = resolved.json
    assert (body["status"], body["outcome"], body["note"]) == ("resolved", "lab_ordered", "CBC Friday")
    assert body["resolved_by"] == world.users["admin"].id and body["acknowledged_by"] == world.users["nurse"].id
    parse_instant(body["resolved_at"])
    assert [f["id"] for f in nurse.get(f"{API}/flags?status=resolved").json["items"]] == [fid]

    twice = nurse.post(f"{API}/flags/{fid}/resolve", json={"outcome": "no_action_needed", "note": None})
    assert_error(twice, 409)
    ack_after = nurse.post(f"{API}/flags/{fid}/ack")
    assert_error(ack_after, 409)
    final = nurse.get(f"{API}/flags?status=resolved").json["items"][0]
    assert (final["outcome"], final["note"], final["resolved_by"]) == ("lab_ordered", "CBC Friday",
                                                                        world.users["admin"].id)


@pytest.mark.parametrize("acknowledge_first", [True, False], ids=["after-ack", "straight-from-open"])
@pytest.mark.parametrize("outcome", OUTCOMES)
def test_resolve_with_each_outcome(outcome, acknowledge_first, world, client_for):
    nurse = client_for("nurse")
    fid = world.flag.id
    if acknowledge_first:
        assert nurse.post(f"{API}/flags/{fid}/ack").status_code == 200
    resolved = nurse.post(f"{API}/flags/{fid}/resolve", json={"outcome": outcome, "note": f"note for {outcome}"})
    assert resolved.status_code == 200, resolved.json
    assert (resolved.json["status"], resolved.json["outcome"], resolved.json["note"]) == (
        "resolved", outcome, f"note for {outcome}")
    assert_error(nurse.post(f"{API}/flags/{fid}/resolve", json={"outcome": outcome, "note": None}), 409)


def test_clinical_outcomes_are_all_offered():
    """CLINICAL.md 3: called patient / lab ordered / referred to haematology, nephrology or
    endocrinology / no action needed."""
    assert set(OUTCOMES) >= {"called_patient", "lab_ordered", "referred_haematology", "referred_nephrology",
                             "referred_endocrinology", "no_action_needed"}


@pytest.mark.parametrize("action", ["ack", "resolve"])
def test_another_clinics_flag_is_not_found(action, world, client_for):
    response = client_for("nurse").post(f"{API}/flags/{world.foreign_flag.id}/{action}",
                                        json={"outcome": "called_patient"} if action == "resolve" else None)
    assert_error(response, 404)


# --- family --------------------------------------------------------------------------------

#: the world's family link holds the default shares (CLINICAL.md 6, v2 change 13: no kind that reveals a finding)
SHARED_KINDS = {"checklist", "appointment", "task", "medication", "diet", "safety"}


def test_family_timeline_shows_only_shared_kinds_and_no_values(world, client_for):
    pid = world.patient.id
    nurse, patient, family = client_for("nurse"), client_for("patient"), client_for("family")
    assert send_labs(nurse, pid, [("platelets", 83.5), ("urine_blood", "positive")], today_madrid()).status_code == 201
    assert send_checklist(patient, pid, {"bleed.mucosal": True}, today_madrid(), note="private words").status_code \
        == 201

    full = patient.get(f"{API}/patients/{pid}/timeline").json["items"]
    shown = family.get(f"{API}/patients/{pid}/timeline")
    assert shown.status_code == 200, shown.json
    items = shown.json["items"]
    assert items and {i["kind"] for i in items} <= SHARED_KINDS
    assert {i["kind"] for i in full} - SHARED_KINDS, "the patient sees more kinds than the family"
    assert items == [i for i in full if i["kind"] in SHARED_KINDS]
    text = json.dumps(shown.json)
    for secret in ("83.5", "positive", "platelets.low", "kidney.urinalysis", "private words", "bleed.mucosal",
                   '"value"', '"flags"', '"reasons"', '"answers"'):
        assert secret not in text

    assert set(family.get(f"{API}/patients/{pid}").json) == {"id", "display_name"}
    for path in (f"/patients/{pid}/labs", f"/patients/{pid}/checklists", "/flags", f"/patients/{pid}/checklist"):
        assert family.get(API + path).status_code in (403, 404), path
    assert_error(client_for("revoked_family").get(f"{API}/patients/{pid}/timeline"), 404)


# --- courses ---------------------------------------------------------------------------------


def test_planned_course_extends_monitoring(world, client_for):
    nurse = client_for("nurse")
    pid = world.patient.id
    first, last = world_course(today_madrid())
    before = nurse.get(f"{API}/patients/{pid}").json
    assert before["monitoring_ends"] == add_months(last, 48).isoformat()
    old_items = nurse.get(f"{API}/patients/{pid}/timeline").json

    planned = [add_months(first, 12) + timedelta(days=d) for d in (2, 0, 1)]  # any order
    made = nurse.post(f"{API}/patients/{pid}/courses",
                      json={"infusions": [d.isoformat() for d in planned], "status": "planned"})
    assert made.status_code == 201, made.json
    assert made.json["status"] == "planned" and made.json["infusions"] == sorted(d.isoformat() for d in planned)

    new_end = add_months(max(planned), 48)
    after = nurse.get(f"{API}/patients/{pid}").json
    assert after["monitoring_ends"] == new_end.isoformat()
    assert [c["status"] for c in after["courses"]] == ["given", "planned"]
    timeline = nurse.get(f"{API}/patients/{pid}/timeline").json
    assert timeline["monitoring_ends"] == new_end.isoformat()
    cbc = [i["due"] for i in timeline["items"] if i["code"] == "lab.cbc"]
    assert max(cbc) > old_items["monitoring_ends"] and max(cbc) <= new_end.isoformat()
    assert len(cbc) > len([i for i in old_items["items"] if i["code"] == "lab.cbc"])
    # the course's own items for course 2
    assert any(i["code"] == "diet.listeria" and i.get("course") == 2 for i in timeline["items"])
    assert any(i["code"] == "appt.pre_course_workup" and i.get("course") == 2 for i in timeline["items"])


# --- the patient list -----------------------------------------------------------------------


def _expected_adherence(today: date) -> dict:
    """CLINICAL.md 2.2 by hand for the world's patient, nothing recorded: labs and checklists due so
    far; a lab is overdue 7 days after due, a checklist missed 7 days after due."""
    first, _ = world_course(today)
    due_so_far = overdue = missed = 0
    n = 1
    while (due := add_months(first, n)) <= today:
        labs = 4 + (1 if n % 3 == 0 else 0)  # cbc, creatinine, urinalysis, lft monthly; tsh every 3 months
        due_so_far += labs + 1
        if today > due + timedelta(days=7):
            overdue += labs
            missed += 1
        n += 1
    return {"done_on_time": 0, "due_so_far": due_so_far, "overdue_labs": overdue, "missed_checklists": missed}


def test_patient_list_shows_adherence_and_open_flags(world, db, client_for):
    nurse = client_for("nurse")
    today = today_madrid()
    listing = nurse.get(f"{API}/patients")
    assert listing.status_code == 200, listing.json
    rows = {p["id"]: p for p in listing.json["items"]}
    assert set(rows) == {world.patient.id, world.other_patient.id}  # not the other clinic's patient
    assert listing.json["total"] == 2
    assert rows[world.patient.id]["open_flags"] == 1 and rows[world.other_patient.id]["open_flags"] == 0
    adherence = rows[world.patient.id]["adherence"]
    expected = _expected_adherence(today)
    assert {k: adherence[k] for k in expected} == expected
    assert adherence["rate"] == 0

    # a sample taken in month 1's window: one lab done on time, one fewer overdue
    first, _ = world_course(today)
    assert send_labs(nurse, world.patient.id, [("platelets", None)], add_months(first, 1)).status_code == 201
    # and a new flag (TSH out of range: soon)
    assert send_labs(nurse, world.patient.id, [("tsh", 9.0)], today).status_code == 201
    rows = {p["id"]: p for p in nurse.get(f"{API}/patients").json["items"]}
    adherence = rows[world.patient.id]["adherence"]
    assert adherence["done_on_time"] == 1
    assert adherence["overdue_labs"] == expected["overdue_labs"] - 1
    assert adherence["due_so_far"] == expected["due_so_far"]
    assert adherence["rate"] == pytest.approx(1 / expected["due_so_far"], abs=0.001)
    assert rows[world.patient.id]["open_flags"] == 2

    assert nurse.post(f"{API}/flags/{world.flag.id}/resolve", json={"outcome": "called_patient"}).status_code == 200
    rows = {p["id"]: p for p in nurse.get(f"{API}/patients").json["items"]}
    assert rows[world.patient.id]["open_flags"] == 1


@pytest.mark.parametrize("role", ["patient", "family", "anonymous"])
def test_patient_list_is_for_staff(role, client_for):
    assert client_for(role).get(f"{API}/patients").status_code == (401 if role == "anonymous" else 403)


# --- the audit log ---------------------------------------------------------------------------

STAFF_READS = [
    pytest.param("/patients/{pid}", "patient", id="record"),
    pytest.param("/patients/{pid}/timeline", "timeline", id="timeline"),
    pytest.param("/patients/{pid}/labs", "labs", id="labs"),
    pytest.param("/patients/{pid}/checklists", "checklists", id="checklists"),
    pytest.param("/patients/{pid}/snoozes", "snoozes", id="snoozes"),
]


def _audit_since(admin, after_id: int) -> list[dict]:
    response = admin.get(f"{API}/audit")
    assert response.status_code == 200, response.json
    return [e for e in response.json["items"] if e["id"] > after_id]


def _last_audit_id(admin) -> int:
    items = admin.get(f"{API}/audit").json["items"]
    return max((e["id"] for e in items), default=0)


@pytest.mark.parametrize("reader", ["nurse", "admin"])
@pytest.mark.parametrize("path,word", STAFF_READS)
def test_staff_reads_of_a_patient_are_audited(path, word, reader, world, client_for):
    admin, staff = client_for("admin"), client_for(reader)
    mark = _last_audit_id(admin)
    response = staff.get(API + path.format(pid=world.patient.id))
    assert response.status_code == 200, response.json
    events = _audit_since(admin, mark)
    assert len(events) == 1, events
    event = events[0]
    assert set(event) == {"id", "actor_id", "action", "patient_id", "at"}
    assert event["actor_id"] == world.users[reader].id
    assert event["patient_id"] == world.patient.id
    assert re.fullmatch(r"[a-z_]+(\.[a-z_]+)*", event["action"]) and word in event["action"]
    parse_instant(event["at"])


STAFF_CHANGES = [
    pytest.param("post", "/patients/{pid}/labs",
                 lambda c: {"client_id": new_client_id(), "taken_on": c.isoformat(),
                            "results": [{"analyte": "tsh", "value": 2.0}]}, "labs", id="labs"),
    pytest.param("post", "/patients/{pid}/courses",
                 lambda c: {"infusions": [(c + timedelta(days=300)).isoformat()], "status": "planned"}, "course",
                 id="course"),
    pytest.param("post", "/patients/{pid}/snoozes",
                 lambda c: {"code": "thyroid.weight", "until": (c + timedelta(days=3)).isoformat()}, "snooze",
                 id="snooze"),
    pytest.param("post", "/flags/{fid}/ack", None, "ack", id="flag-ack"),
    pytest.param("post", "/flags/{fid}/resolve", lambda c: {"outcome": "called_patient"}, "resolve",
                 id="flag-resolve"),
    pytest.param("patch", "/patients/{pid}",
                 lambda c: {"display_name": "Patty P", "sex": "female", "timezone": "Europe/Madrid"}, "update",
                 id="patient-update"),
]


@pytest.mark.parametrize("method,path,body,word", STAFF_CHANGES)
def test_staff_changes_to_a_patient_are_audited(method, path, body, word, world, client_for):
    admin, nurse = client_for("admin"), client_for("nurse")
    mark = _last_audit_id(admin)
    response = getattr(nurse, method)(API + path.format(pid=world.patient.id, fid=world.flag.id),
                                      json=body(today_madrid()) if body else None)
    assert response.status_code in (200, 201), response.json
    events = _audit_since(admin, mark)
    assert [(e["actor_id"], e["patient_id"]) for e in events] == [(world.users["nurse"].id, world.patient.id)]
    assert word in events[0]["action"]


def test_new_patient_is_audited(world, client_for):
    admin, nurse = client_for("admin"), client_for("nurse")
    mark = _last_audit_id(admin)
    made = nurse.post(f"{API}/patients", json={"display_name": "Nora New", "sex": "female",
                                                "timezone": "Europe/Madrid"})
    assert made.status_code == 201, made.json
    assert made.json["enrollment_code"]
    events = _audit_since(admin, mark)
    assert [(e["actor_id"], e["patient_id"]) for e in events] == [(world.users["nurse"].id, made.json["id"])]


def test_patient_reads_are_not_staff_reads_and_other_clinics_stay_apart(world, client_for):
    admin = client_for("admin")
    mark = _last_audit_id(admin)
    assert client_for("patient").get(f"{API}/patients/{world.patient.id}/labs").status_code == 200
    assert client_for("other_nurse").get(f"{API}/patients/{world.foreign_patient.id}").status_code == 200
    assert _audit_since(admin, mark) == []
    assert client_for("nurse").get(f"{API}/audit").status_code == 403


def test_audit_log_holds_no_health_values(world, db, client_for):
    pid = world.patient.id
    nurse, admin, patient = client_for("nurse"), client_for("admin"), client_for("patient")
    assert send_checklist(patient, pid, {"bleed.mucosal": True}, today_madrid(),
                          note="secret-note-4711").status_code == 201
    sent = send_labs(nurse, pid, [("platelets", 81.25), ("tsh", 7.77), ("urine_blood", "positive")], today_madrid())
    assert sent.status_code == 201
    for path in (f"/patients/{pid}/labs", f"/patients/{pid}/checklists", f"/patients/{pid}", "/flags"):
        assert nurse.get(API + path).status_code == 200
    fid = sent.json["flag_id"]
    assert nurse.post(f"{API}/flags/{fid}/resolve", json={"outcome": "referred_haematology",
                                                          "note": "secret-note-0815"}).status_code == 200

    response = admin.get(f"{API}/audit")
    events = response.json["items"]
    assert all(e["patient_id"] in (pid, None) for e in events)
    assert any(e["actor_id"] == world.users["nurse"].id and e["patient_id"] == pid for e in events)
    text = response.get_data(as_text=True)
    for value in ("81.25", "7.77", "positive", "secret-note", "platelets", "bleed.mucosal", "urgent",
                  "referred_haematology", "Patty"):
        assert value not in text, value
    # and in the table itself: fixed action names, no free text
    assert {c.name for c in AuditEvent.__table__.columns} == {"id", "clinic_id", "actor_id", "action",
                                                              "patient_id", "at"}
    for action in db.scalars(select(AuditEvent.action)):
        assert re.fullmatch(r"[a-z_]+(\.[a-z_]+)*", action), action
    db.commit()


# --- behaviour that PATCH /patients/{id} should have --------------------------------------------

def test_patient_changes_her_own_language(world, client_for):
    response = client_for("patient").patch(f"{API}/patients/{world.patient.id}", json={"language": "es"})
    assert response.status_code == 200, response.json
    assert response.json["language"] == "es"


def test_nurse_patch_changes_only_what_it_sends(world, client_for):
    nurse = client_for("nurse")
    response = nurse.patch(f"{API}/patients/{world.patient.id}", json={"display_name": "Patricia Patient"})
    assert response.status_code == 200, response.json
    assert response.json["display_name"] == "Patricia Patient"


def test_patch_keeps_the_fields_it_does_not_send(world, db, client_for):
    world.patient.language = "es"
    db.commit()
    nurse = client_for("nurse")
    response = nurse.patch(f"{API}/patients/{world.patient.id}",
                           json={"display_name": "Patricia Patient", "sex": "female", "timezone": "Europe/Madrid"})
    assert response.status_code == 200, response.json
    body = response.json
    assert (body["childbearing_potential"], body["language"], body["baseline"]) == (
        True, "es", {"platelets": 250, "creatinine": 70})


def test_a_pregnancy_shows_on_the_patient_record(world, client_for):
    """A pregnancy recorded by the nurse comes back in the record (regression: it answered 500)."""
    nurse = client_for("nurse")
    changed = nurse.patch(f"{API}/patients/{world.patient.id}",
                          json={"pregnancies": [{"reported_on": "2026-06-01", "ended_on": None}]})
    assert changed.status_code == 200, changed.json
    record = client_for("patient").get(f"{API}/patients/{world.patient.id}")
    assert record.status_code == 200, record.json
    assert [{k: p[k] for k in ("reported_on", "ended_on")} for p in record.json["pregnancies"]] == [
        {"reported_on": "2026-06-01", "ended_on": None}]
