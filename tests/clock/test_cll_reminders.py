"""A CLL patient's reminders and pushes follow her protocol (issue 20, CLINICAL.md 7).

The clock plans her protocol's items (the premedication at 08:00 on each dose
day) and its pushes say "your haematology team"; with detailed notifications
on, the item's own title.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from server.clock.process import tick
from server.models import Patient, Reminder, User
from server.services import patients as patient_service

from .test_catch_up import at, today_in_madrid


def cll_patient(db, world, detailed: bool) -> tuple[Patient, User]:
    patient = Patient(clinic_id=world.clinic.id, display_name="Carl Cll", sex="male", childbearing_potential=False,
                      breastfeeding=False, timezone="Europe/Madrid", language="en", baseline={}, protocol="cll",
                      detailed_notifications=detailed)
    db.add(patient)
    db.flush()
    user = User(email=f"carl{int(detailed)}@a.test", role="patient", clinic_id=world.clinic.id,
                patient_id=patient.id, password_hash="x")
    db.add(user)
    db.commit()
    return patient, user


def test_a_dose_day_reminds_of_the_premedication_in_her_protocols_words(app, db, world, push_service, subscribe,
                                                                        pusher):
    day = today_in_madrid()
    plain, plain_user = cll_patient(db, world, detailed=False)
    detailed, detailed_user = cll_patient(db, world, detailed=True)
    subscribe(plain_user, "plain")
    subscribe(detailed_user, "detailed")
    for patient in (plain, detailed):
        patient_service.add_course(patient, [(day, 3, "iv"), (day + timedelta(days=1), 10, "iv")], "planned",
                                   world.users["nurse"], at(day, 7))
    db.commit()

    tick(app, at(day, 8, 1), pusher)

    db.expire_all()
    rows = db.scalars(select(Reminder).where(Reminder.patient_id == plain.id)).all()
    codes = {code for row in rows for code in row.codes}
    assert {"med.premedication", "lab.cmv_pcr", "education.cmv_signs", "med.cotrimoxazole"} <= codes
    assert not codes & {"checklist.monthly", "safety.post_infusion", "diet.listeria"}
    # 08:00 on the first dose day: premedication, the reaction to watch for, allopurinol, aciclovir.
    sent = [m.payload for m in push_service.for_device("plain")]
    assert sent and {p["body"] for p in sent} == {"You have a reminder from your haematology team."}
    shown = {m.payload["title"] for m in push_service.for_device("detailed")}
    assert {"Medicines before your dose", "Watch for a reaction after your dose", "Aciclovir twice a day"} <= shown
    assert push_service.problems == []
