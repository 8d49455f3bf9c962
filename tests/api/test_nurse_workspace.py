"""The nurse's workspace (issue 17) as a nurse uses it, on both databases: the queue one row
per patient, a flag acknowledged then resolved (and found in the resolved view), the
checklists to read, a note on the record, a course previewed with its warning before it is
saved, then corrected and removed with a reason, and what sits beside the record."""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import func, select

from server.models import AuditEvent, Course, CourseChange, NurseNote

from .conftest import new_client_id, today_madrid

P = "/api/v1/patients/{}"


def day(offset: int) -> str:
    return (today_madrid() + timedelta(days=offset)).isoformat()


def actions(db, patient_id: int) -> list[str]:
    return list(db.scalars(select(AuditEvent.action).where(AuditEvent.patient_id == patient_id)
                           .order_by(AuditEvent.id)))


def test_the_queue_groups_flags_per_patient_and_resolved_ones_keep_their_note(world, db, client_for):
    pid = world.patient.id
    nurse, patient = client_for("nurse"), client_for("patient")
    # One more flag for her from one lab report (low platelets: urgent; high TSH: soon)...
    labs = nurse.post(P.format(pid) + "/labs", json={"client_id": new_client_id(), "taken_on": day(-1), "results": [
        {"analyte": "platelets", "value": 95, "ref_low": None, "ref_high": None},
        {"analyte": "tsh", "value": 9.1, "ref_low": None, "ref_high": None}]})
    assert labs.status_code == 201, labs.json
    # ... and a checklist with only a note: routine, to read, no flag (CLINICAL.md 3).
    sent = patient.post(P.format(pid) + "/checklists", json={
        "client_id": new_client_id(), "answered_on": day(0), "answers": {"thyroid.weight": False},
        "note": "Tired since the holidays."})
    assert sent.status_code == 201 and sent.json["level"] == "routine", sent.json
    assert sent.json["reasons"] == ["note"]

    queue = nurse.get("/api/v1/flags/queue").json
    assert [g["patient_id"] for g in queue["items"]] == [pid]  # one row for her, not one per flag
    group = queue["items"][0]
    assert group["display_name"] == "Patty Patient" and group["level"] == "urgent"
    assert group["open"] == len(group["flags"]) == 2 and group["acknowledged"] == 0
    reasons = {r for f in group["flags"] for r in f["reasons"]}
    assert {"bleed.mucosal", "platelets.low", "thyroid.tsh"} <= reasons
    assert group["oldest_at"] <= group["newest_at"]
    assert queue["latest_flag_id"] == max(f["id"] for f in group["flags"])
    # most severe first within her group
    ranks = {"emergency": 4, "urgent": 3, "soon": 2}
    assert [ranks[f["level"]] for f in group["flags"]] == sorted((ranks[f["level"]] for f in group["flags"]),
                                                                 reverse=True)
    assert nurse.get("/api/v1/flags/queue?level=soon").json["items"] == []
    emergency = nurse.get("/api/v1/flags/queue?level=urgent").json["items"]
    assert len(emergency[0]["flags"]) == 2

    # Acknowledged: visibly so, with who; then resolved with an outcome and a note.
    flag_id = world.flag.id
    assert nurse.post(f"/api/v1/flags/{flag_id}/ack").status_code == 200
    acked = nurse.get("/api/v1/flags/queue?status=acknowledged").json["items"]
    assert [(f["id"], f["acknowledged_by_email"]) for g in acked for f in g["flags"]] == [(flag_id, "nurse@a.test")]
    resolved = nurse.post(f"/api/v1/flags/{flag_id}/resolve",
                          json={"outcome": "called_patient", "note": "Nose bleeds stopped; CBC Monday."})
    assert resolved.status_code == 200
    remaining = nurse.get("/api/v1/flags/queue").json["items"][0]["flags"]
    assert flag_id not in {f["id"] for f in remaining}
    done = nurse.get("/api/v1/flags/resolved").json["items"]
    assert [(f["id"], f["outcome"], f["note"], f["resolved_by_email"], f["display_name"]) for f in done] == [
        (flag_id, "called_patient", "Nose bleeds stopped; CBC Monday.", "nurse@a.test", "Patty Patient")]
    assert done[0]["resolved_at"] is not None
    assert nurse.get(f"/api/v1/flags/resolved?patient_id={pid}").json["items"][0]["id"] == flag_id
    assert nurse.get(f"/api/v1/flags/resolved?patient_id={world.foreign_patient.id}").status_code == 404
    # Another clinic's nurse sees none of it.
    other = client_for("other_nurse")
    assert other.get("/api/v1/flags/resolved").json["items"] == []
    assert pid not in {c["patient_id"] for c in other.get("/api/v1/checklists/to-read").json["items"]}

    to_read = nurse.get("/api/v1/checklists/to-read").json["items"]
    assert [(c["patient_id"], c["note"], c["reasons"]) for c in to_read] == [
        (pid, "Tired since the holidays.", ["note"])]

    # Each row names her protocol: the app words her reasons in its texts (a CLL patient's in CLL's).
    assert (group["protocol"], done[0]["protocol"], to_read[0]["protocol"]) == ("ms", "ms", "ms")
    world.patient.protocol = "cll"
    db.commit()
    assert nurse.get("/api/v1/flags/queue").json["items"][0]["protocol"] == "cll"
    assert nurse.get("/api/v1/flags/resolved").json["items"][0]["protocol"] == "cll"
    assert nurse.get("/api/v1/checklists/to-read").json["items"][0]["protocol"] == "cll"


def test_notes_are_signed_for_the_care_team_and_never_reach_her_or_a_log(world, db, client_for, caplog):
    pid = world.patient.id
    nurse = client_for("nurse")
    secret = "Husband worried about her mood; offered a call with the psychologist."
    with caplog.at_level(logging.DEBUG):
        first = nurse.post(P.format(pid) + "/notes", json={"text": "  First call done.  "})
        second = nurse.post(P.format(pid) + "/notes", json={"text": secret})
    assert first.status_code == 201 and first.json["text"] == "First call done."  # trimmed
    assert second.json["author"] == "nurse@a.test" and second.json["created_at"]
    assert secret not in caplog.text
    listed = client_for("admin").get(P.format(pid) + "/notes").json["items"]
    assert [n["text"] for n in listed] == [secret, "First call done."]  # newest first
    assert {"note.create", "notes.read"} <= set(actions(db, pid))
    # Never to her or her family, never in her export, her record or her timeline.
    patient, family = client_for("patient"), client_for("family")
    assert patient.get(P.format(pid) + "/notes").status_code == 403
    assert family.get(P.format(pid) + "/notes").status_code == 403
    assert patient.post(P.format(pid) + "/notes", json={"text": "me"}).status_code == 403
    for client, path in ((patient, "/export"), (patient, ""), (patient, "/timeline"), (family, "/timeline"),
                         (family, "")):
        answer = client.get(P.format(pid) + path)
        assert answer.status_code == 200 and secret not in answer.get_data(as_text=True), path
    assert client_for("other_nurse").get(P.format(pid) + "/notes").status_code == 404
    assert db.scalar(select(func.count()).select_from(NurseNote)) == 2


def test_a_course_is_previewed_with_its_warning_then_corrected_and_removed_with_a_reason(world, db, client_for):
    pid = world.patient.id
    nurse = client_for("nurse")
    # The world's course 1 was given 120 days ago: a course planned in 60 days is too soon (CLINICAL.md 2.3).
    planned = [day(60 + i) for i in range(3)]
    preview = nurse.post(P.format(pid) + "/courses/preview", json={"infusions": planned, "status": "planned"})
    assert preview.status_code == 200, preview.json
    assert preview.json["course"] == 2
    assert {"code": "course.too_soon", "course": 2} in [
        {"code": w["code"], "course": w["course"]} for w in preview.json["warnings"]]
    assert db.scalar(select(func.count()).select_from(Course).where(Course.patient_id == pid)) == 1  # nothing saved

    # A one-day course typed as given 30 days ago: no planned-course warning, but the check says "too soon".
    given = nurse.post(P.format(pid) + "/courses/preview", json={"infusions": [day(-30)], "status": "given"}).json
    assert given["course"] == 2 and given["warnings"] == []
    assert [c["code"] for c in given["checks"]] == ["course.too_soon"]
    # Far enough: no check.
    later = nurse.post(P.format(pid) + "/courses/preview", json={"infusions": [day(400), day(401), day(402)],
                                                                 "status": "planned"}).json
    assert [w for w in later["warnings"] if w["code"] == "course.too_soon"] == []

    saved = nurse.post(P.format(pid) + "/courses", json={"infusions": planned, "status": "planned"})
    assert saved.status_code == 201
    course_id = saved.json["id"]
    # Previewing its correction compares with the other courses, not with itself.
    moved = [day(400 + i) for i in range(3)]
    again = nurse.post(P.format(pid) + "/courses/preview",
                       json={"infusions": moved, "status": "planned", "replaces": course_id}).json
    assert again["course"] == 2 and [w for w in again["warnings"] if w["code"] == "course.too_soon"] == []
    fixed = nurse.patch(P.format(pid) + f"/courses/{course_id}",
                        json={"infusions": moved, "reason": "Typed the wrong year"})
    assert fixed.status_code == 200 and fixed.json["infusions"] == moved
    removed = nurse.delete(P.format(pid) + f"/courses/{course_id}", json={"reason": "Course cancelled"})
    assert removed.status_code == 204

    changes = nurse.get(P.format(pid) + "/care-summary").json["course_changes"]
    assert [(c["action"], c["infusions_before"], c["status_before"], c["reason"], c["changed_by"])
            for c in changes] == [("removed", moved, "planned", "Course cancelled", "nurse@a.test"),
                                  ("corrected", planned, "planned", "Typed the wrong year", "nurse@a.test")]
    assert db.scalar(select(func.count()).select_from(CourseChange)) == 2
    assert {"course.preview", "course.update", "course.delete"} <= set(actions(db, pid))


def test_beside_the_record_delivery_and_who_looked(world, db, client_for):
    pid = world.patient.id
    assert client_for("admin").get(P.format(pid)).status_code == 200
    summary = client_for("nurse").get(P.format(pid) + "/care-summary").json
    assert summary["delivery"] == {"last_delivered_at": None, "push_devices": 0, "calendar_feeds": 0,
                                   "reachable": False}
    seen = [(a["by"], a["action"]) for a in summary["access_log"]]
    assert ("admin@a.test", "patient.read") in seen and ("nurse@a.test", "care_summary.read") in seen
    assert all(a["role"] in ("nurse", "admin") for a in summary["access_log"])
