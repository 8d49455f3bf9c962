"""The clinic's patient list (issue 17, point 4): search, filters, order and pages on the
server, over adherence figures kept per patient and forgotten when her record changes."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import delete, select

from server.models import Course, Flag, Patient, PatientFigures
from server.services import patient_list
from server.services import patients as patient_service
from server.timeutil import utcnow

from .conftest import new_client_id, today_madrid

API = "/api/v1"


@pytest.fixture
def clinic(world, db):
    """Beside the world's two patients (a course 120 days ago, no results: labs overdue,
    checklists missed; Patty has an open flag): Nina with nothing due yet, and Carla who
    has a calendar feed, so that she can be reached."""
    today = today_madrid()

    def add(name, number, days_ago):
        patient = Patient(clinic_id=world.clinic.id, display_name=name, hospital_number=number, sex="female",
                          childbearing_potential=False, breastfeeding=False, timezone="Europe/Madrid",
                          language="es", baseline={})
        db.add(patient)
        db.flush()
        if days_ago is not None:
            start = today - timedelta(days=days_ago)
            db.add(Course(patient_id=patient.id, status="given",
                          infusions=[(start + timedelta(days=d)).isoformat() for d in range(5)]))
        return patient

    nina = add("Nina Nueva", "HN-200", None)
    carla = add("Carla Calendario", "HN-100", 120)
    world.patient.hospital_number = "HN-101"
    db.commit()
    return {"nina": nina.id, "carla": carla.id}


def listing(client, query=""):
    response = client.get(f"{API}/patients{query}")
    assert response.status_code == 200, response.get_data(as_text=True)[:400]
    return response.json


def names(body):
    return [item["display_name"] for item in body["items"]]


def test_the_list_is_the_clinics_own_by_name_with_figures_as_the_engine_counts_them(world, clinic, client_for, db,
                                                                                    app):
    body = listing(client_for("nurse"))
    assert names(body) == ["Carla Calendario", "Nina Nueva", "Patty Patient", "Quinn Other"]
    assert body["total"] == 4 and body["page"] == 1 and body["per_page"] == 50
    by_id = {item["id"]: item for item in body["items"]}
    assert world.foreign_patient.id not in by_id
    for pid, item in by_id.items():
        patient = db.get(Patient, pid)
        expected = patient_service.adherence(patient_service.load_history(db, patient), today_madrid(),
                                             app.extensions["alemtrack_content"])
        assert item["adherence"] == expected
    assert by_id[world.patient.id]["adherence"]["overdue_labs"] > 0
    assert by_id[world.patient.id]["adherence"]["missed_checklists"] > 0
    assert by_id[clinic["nina"]]["adherence"]["due_so_far"] == 0
    assert by_id[world.patient.id]["open_flags"] == 1 and by_id[world.patient.id]["hospital_number"] == "HN-101"


def test_search_by_part_of_the_name_or_the_start_of_the_hospital_number(world, clinic, client_for):
    nurse = client_for("nurse")
    assert names(listing(nurse, "?q=PATTY")) == ["Patty Patient"]
    assert names(listing(nurse, "?q=nue")) == ["Nina Nueva"]
    assert names(listing(nurse, "?q=hn-1")) == ["Carla Calendario", "Patty Patient"]
    assert names(listing(nurse, "?q=100")) == []  # a number matches from its start only
    assert names(listing(nurse, "?q=Fay")) == []  # another clinic's patient is never found
    assert listing(nurse, "?q=%25")["total"] == 0  # "%" is a character, not a wildcard
    assert listing(nurse, "?q=")["total"] == 4


def test_filters_keep_the_patients_with_each_and_count_them(world, clinic, client_for):
    nurse = client_for("nurse")
    assert {item["display_name"]: item["reachable"] for item in listing(nurse)["items"]}["Patty Patient"] is False
    patient = client_for("patient")
    assert patient.post(f"{API}/patients/{world.patient.id}/calendar-feed").status_code == 201
    body = listing(nurse)
    assert body["counts"] == {"overdue_labs": 3, "missed_checklists": 3, "open_flags": 1, "unreachable": 3}
    assert names(listing(nurse, "?only=open_flags")) == ["Patty Patient"]
    assert names(listing(nurse, "?only=unreachable")) == ["Carla Calendario", "Nina Nueva", "Quinn Other"]
    assert names(listing(nurse, "?only=overdue_labs")) == ["Carla Calendario", "Patty Patient", "Quinn Other"]
    both = listing(nurse, "?only=overdue_labs&only=unreachable")
    assert names(both) == ["Carla Calendario", "Quinn Other"] and both["total"] == 2
    assert names(listing(nurse, "?only=missed_checklists&q=quinn")) == ["Quinn Other"]
    assert {item["display_name"]: item["reachable"] for item in body["items"]}["Patty Patient"] is True


def test_orders_and_pages(world, clinic, client_for):
    nurse = client_for("nurse")
    assert names(listing(nurse, "?sort=name&order=desc")) == ["Quinn Other", "Patty Patient", "Nina Nueva",
                                                             "Carla Calendario"]
    assert names(listing(nurse, "?sort=open_flags&order=desc"))[0] == "Patty Patient"
    assert names(listing(nurse, "?sort=hospital_number")) == ["Carla Calendario", "Patty Patient", "Nina Nueva",
                                                              "Quinn Other"]  # no number: last
    by_overdue = listing(nurse, "?sort=overdue_labs&order=desc")["items"]
    figures = [item["adherence"]["overdue_labs"] for item in by_overdue]
    assert figures == sorted(figures, reverse=True) and figures[-1] == 0
    rates = [item["adherence"]["rate"] for item in listing(nurse, "?sort=adherence")["items"]]
    assert rates[-1] is None  # Nina: nothing due so far, last in either order
    assert [r for r in rates if r is not None] == sorted(r for r in rates if r is not None)
    pages = [names(listing(nurse, f"?per_page=3&page={n}")) for n in (1, 2, 3)]
    assert pages == [["Carla Calendario", "Nina Nueva", "Patty Patient"], ["Quinn Other"], []]
    assert listing(nurse, "?per_page=3&page=2")["total"] == 4


# name, hospital number, (overdue labs, missed checklists, done on time, due so far) or None (a record
# the engine cannot use) or "missing" (not computed yet), open flags
CROWD = [
    ("ana", "N07", (3, 1, 1, 2), 0), ("Ana", None, (3, 1, 2, 4), 2), ("ANA", "N02", (0, 1, 4, 4), 1),
    ("Bea", None, None, 0), ("bea", "N05", (3, 0, 1, 2), 2), ("BEA", "N01", "missing", 1),
    ("carla", None, (0, 0, 0, 0), 0), ("Carla", "N04", (1, 2, 3, 4), 0), ("dora", "N03", (0, 2, 4, 4), 1),
    ("Dora", None, "missing", 0), ("eva", "N06", None, 0), ("Eva", None, (1, 0, 0, 0), 1),
]


def test_paging_through_every_order_gives_each_patient_once_in_order(world, client_for, db, app, monkeypatch):
    """Each order, upwards and downwards, read 3 at a time: ties (names equal but for their case,
    equal figures, equal flag counts) by name then id, missing figures and numbers last."""
    nurse = client_for("nurse")
    made = {}
    for name, number, _, flags in reversed(CROWD):  # ids against the names: ties by name show
        patient = Patient(clinic_id=world.clinic.id, display_name=name, hospital_number=number, sex="female",
                          childbearing_potential=False, breastfeeding=False, timezone="Europe/Madrid",
                          language="es", baseline={})
        db.add(patient)
        db.flush()
        made[name] = patient.id
        db.add_all([Flag(clinic_id=world.clinic.id, patient_id=patient.id, level="soon", level_rank=2,
                         source="checklist", source_id=0, reasons=["bleed.mucosal"], status=status)
                    for status in ["open", "acknowledged", "resolved"][:flags] + ["resolved"]])
    db.commit()
    listing(nurse, "?per_page=200")  # every patient's figures computed and kept
    for name, _, figures, _ in CROWD:
        if figures == "missing":
            db.execute(delete(PatientFigures).where(PatientFigures.patient_id == made[name]))
            continue
        row = db.get(PatientFigures, made[name])
        row.overdue_labs, row.missed_checklists, row.done_on_time, row.due_so_far = figures or (None,) * 4
        row.rate = figures[2] / figures[3] if figures and figures[3] else None
        row.status_error = None if figures else "record_needs_correction"
    db.commit()
    monkeypatch.setattr(patient_list, "PER_LISTING", 0)  # the missing ones stay missing

    patients = db.execute(select(Patient.id, Patient.display_name, Patient.hospital_number)
                          .where(Patient.clinic_id == world.clinic.id)).all()
    kept = {row.patient_id: row for row in db.scalars(select(PatientFigures))}
    flags = Counter(db.scalars(select(Flag.patient_id).where(Flag.clinic_id == world.clinic.id,
                                                             Flag.status != "resolved")))
    values = {
        "name": lambda p: p.display_name.lower(),
        "hospital_number": lambda p: p.hospital_number,
        "overdue_labs": lambda p: getattr(kept.get(p.id), "overdue_labs", None),
        "missed_checklists": lambda p: getattr(kept.get(p.id), "missed_checklists", None),
        "open_flags": lambda p: flags[p.id],
        "adherence": lambda p: (kept[p.id].done_on_time / kept[p.id].due_so_far
                                if p.id in kept and kept[p.id].due_so_far else None),
    }
    assert set(values) == set(patient_list.SORTS)
    assert len({p.display_name.lower() for p in patients}) < len(patients)  # ties by name...
    assert sum(p.id not in kept for p in patients) == 2 and sum(p.id in kept and kept[p.id].status_error is not None
                                                                for p in patients) == 2
    for sort, value in values.items():
        for order in ("asc", "desc"):
            by_name = sorted(patients, key=lambda p: (p.display_name.lower(), p.id))
            present = sorted((p for p in by_name if value(p) is not None), key=value, reverse=order == "desc")
            expected = [p.id for p in present] + [p.id for p in by_name if value(p) is None]
            seen, page = [], 1
            while True:
                body = listing(nurse, f"?sort={sort}&order={order}&per_page=3&page={page}")
                assert body["total"] == len(patients)
                if not body["items"]:
                    break
                seen += [item["id"] for item in body["items"]]
                page += 1
            assert seen == expected, (sort, order)
            assert page == -(-len(patients) // 3) + 1


def test_figures_are_kept_and_forgotten_when_her_record_changes(world, clinic, client_for, db, app):
    nurse = client_for("nurse")
    before = {i["id"]: i for i in listing(nurse)["items"]}
    assert db.get(PatientFigures, world.patient.id) is not None
    # Her course removed: nothing is due any more, at once.
    course = world.patient.courses[0].id
    assert nurse.delete(f"{API}/patients/{world.patient.id}/courses/{course}").status_code == 204
    after = {i["id"]: i for i in listing(nurse)["items"]}
    assert before[world.patient.id]["adherence"]["overdue_labs"] > 0
    assert after[world.patient.id]["adherence"] == {"done_on_time": 0, "due_so_far": 0, "overdue_labs": 0,
                                                    "missed_checklists": 0, "rate": None}
    assert after[world.other_patient.id] == before[world.other_patient.id]
    # Results for Quinn on the day of an overdue lab: it is done, the figures follow.
    timeline = nurse.get(f"{API}/patients/{world.other_patient.id}/timeline").json["items"]
    overdue = next(i for i in timeline if i["status"] == "overdue")
    analytes = {rule.code: rule.analytes for rule in app.extensions["alemtrack_content"].items}[overdue["code"]]
    response = nurse.post(f"{API}/patients/{world.other_patient.id}/labs",
                          json={"client_id": new_client_id(), "taken_on": overdue["due"],
                                "results": [{"analyte": analytes[0], "value": 5}]})
    assert response.status_code == 201, response.json
    quinn = {i["id"]: i for i in listing(nurse)["items"]}[world.other_patient.id]["adherence"]
    assert quinn["done_on_time"] > before[world.other_patient.id]["adherence"]["done_on_time"]


def test_a_site_setting_forgets_the_clinics_figures(world, clinic, client_for, db):
    nurse = client_for("nurse")
    listing(nurse)
    assert nurse.put(f"{API}/clinic/settings", json={"settings": {"lab_window_days": 10}}).status_code == 200
    assert db.get(PatientFigures, world.patient.id) is None
    assert listing(nurse)["total"] == 4


def test_a_record_the_engine_cannot_use_is_listed_with_its_error_and_the_others_as_always(world, clinic,
                                                                                          client_for, db):
    world.other_patient.timezone = "Mars/Olympus_Mons"
    db.commit()
    body = listing(client_for("nurse"), "?sort=overdue_labs&order=desc")
    assert body["items"][-1]["display_name"] == "Quinn Other"
    assert body["items"][-1]["status_error"] == "record_needs_correction"
    assert body["items"][-1]["adherence"]["overdue_labs"] is None
    assert all("status_error" not in item for item in body["items"][:-1])


def test_the_figures_hold_until_the_day_they_say(world, clinic, db, app):
    """figures_of's valid_until: the figures are the same on that day and differ the day after."""
    content = app.extensions["alemtrack_content"]
    for pid in (world.patient.id, clinic["carla"], clinic["nina"]):
        history = patient_service.load_history(db, db.get(Patient, pid))
        today = today_madrid()
        figures, until = patient_list.figures_of(history, today, content)
        if until is None:
            assert patient_list.figures_of(history, today + timedelta(days=400), content)[0] == figures
            continue
        assert until >= today
        for day in (today, until):
            assert patient_list.figures_of(history, day, content)[0] == figures
        assert patient_list.figures_of(history, until + timedelta(days=1), content)[0] != figures


def test_figures_out_of_date_are_computed_again(world, clinic, client_for, db, app):
    nurse = client_for("nurse")
    listing(nurse)
    row = db.get(PatientFigures, world.patient.id)
    row.valid_until = today_madrid() - timedelta(days=1)
    row.overdue_labs = 99
    other = db.get(PatientFigures, world.other_patient.id)
    other.content_version = "older content"
    other.missed_checklists = 99
    db.commit()
    items = {i["id"]: i for i in listing(nurse)["items"]}
    assert items[world.patient.id]["adherence"]["overdue_labs"] != 99
    assert items[world.other_patient.id]["adherence"]["missed_checklists"] != 99
    assert patient_list.refresh_figures(db, world.clinic.id, utcnow(), app.extensions["alemtrack_content"]) == (0, 0)


@pytest.mark.parametrize("query, field", [
    ("?sort=birthday", "sort"),
    ("?order=up", "order"),
    ("?only=everything", "only"),
    ("?page=0", "page"),
    ("?per_page=201", "per_page"),
    ("?per_page=ten", "per_page"),
    ("?q=" + "x" * 101, "q"),
    ("?q=a%00b", "q"),
])
def test_bad_query_parameters_answer_the_error_envelope_naming_the_parameter(world, client_for, query, field):
    response = client_for("nurse").get(f"{API}/patients{query}")
    assert response.status_code == 400, response.json
    error = response.json["error"]
    assert error["field"].startswith(field) and error["code"] and error["message"]


def test_only_the_care_team_lists_patients(world, client_for):
    for role, status in (("anonymous", 401), ("patient", 403), ("family", 403)):
        assert client_for(role).get(f"{API}/patients?only=open_flags").status_code == status
    assert [i["display_name"] for i in listing(client_for("other_nurse"))["items"]] == ["Fay Foreign"]


def test_a_listing_computes_a_bounded_number_and_says_how_many_wait(world, clinic, client_for, app, monkeypatch):
    monkeypatch.setattr(patient_list, "PER_LISTING", 1)
    nurse = client_for("nurse")
    first = listing(nurse)
    assert first["figures_pending"] == 3 and first["total"] == 4
    waiting = [i for i in first["items"] if i["adherence"]["due_so_far"] is None]
    assert len(waiting) == 3 and all("status_error" not in i for i in waiting)
    assert listing(nurse)["figures_pending"] == 2
    result = app.test_cli_runner().invoke(args=["refresh-figures"])
    assert result.exit_code == 0, result.output
    assert "clinic 1" in result.output or "patients' figures computed" in result.output
    after = listing(nurse)
    assert after["figures_pending"] == 0
    assert all(i["adherence"]["due_so_far"] is not None for i in after["items"])
