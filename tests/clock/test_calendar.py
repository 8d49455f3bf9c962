"""The private iCalendar feed, read back with two independent parsers (icalendar, which writes it, and vobject)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from icalendar import Calendar

from ..api.conftest import Client


def feed(app, world, role: str):
    client = Client(app)
    client.login(world.users[role].email)
    created = client.post(f"/api/v1/patients/{world.patient.id}/calendar-feed")
    assert created.status_code == 201, created.json
    return client, created.json


def events(app, path: str):
    response = app.test_client().get(path)  # a calendar app: no cookie, the token alone
    assert response.status_code == 200, response.data
    assert response.mimetype == "text/calendar"
    return list(Calendar.from_ical(response.data).walk("VEVENT"))


def test_the_feed_lists_upcoming_items_with_alarms_and_no_health_detail(app, world):
    _, created = feed(app, world, "patient")
    assert created["url"].endswith(created["path"]) and len(created["path"]) > 40
    found = events(app, created["path"])
    assert found
    today = date.today()
    for event in found:
        start = event.decoded("dtstart")
        end = event.decoded("dtend")
        assert isinstance(start, date) and end > start
        assert end > today - timedelta(days=1)
        assert start <= today + timedelta(days=120)
        assert str(event.get("summary")) == "Alemtrack"  # no item name by default
        (alarm,) = event.walk("VALARM")
        assert alarm.decoded("trigger") == timedelta(hours=9)
        assert str(alarm.get("action")) == "DISPLAY"
    uids = [str(e.get("uid")) for e in found]
    assert len(uids) == len(set(uids))


def test_titles_appear_when_the_patient_opts_in(app, db, world):
    world.patient.detailed_notifications = True
    db.commit()
    _, created = feed(app, world, "patient")
    summaries = {str(e.get("summary")) for e in events(app, created["path"])}
    assert "Monthly symptom checklist" in summaries


def test_a_family_feed_lists_shared_kinds_only(app, db, world):
    world.patient.detailed_notifications = True
    db.commit()
    _, created = feed(app, world, "family")
    summaries = {str(e.get("summary")) for e in events(app, created["path"])}
    assert summaries  # labs and checklists are shared by default
    assert "Take aciclovir twice a day" not in summaries
    assert "No live vaccines" not in summaries


def test_a_revoked_feed_answers_404_and_a_new_one_replaces_the_old(app, world):
    client, first = feed(app, world, "patient")
    second = client.post(f"/api/v1/patients/{world.patient.id}/calendar-feed").json
    assert app.test_client().get(first["path"]).status_code == 404
    assert app.test_client().get(second["path"]).status_code == 200
    assert client.delete(f"/api/v1/patients/{world.patient.id}/calendar-feed").status_code == 204
    assert app.test_client().get(second["path"]).status_code == 404
    assert app.test_client().get("/calendar/not-a-real-token-at-all-xxxxxxxx.ics").status_code == 404


def test_family_access_revoked_empties_their_feed(app, world):
    _, created = feed(app, world, "family")
    patient = Client(app)
    patient.login(world.users["patient"].email)
    assert patient.delete(f"/api/v1/patients/{world.patient.id}/family/{world.users['family'].id}").status_code == 204
    response = app.test_client().get(created["path"])
    assert response.status_code == 200
    assert list(Calendar.from_ical(response.data).walk("VEVENT")) == []


# --- a second, independent parser (issue 19): vobject reads the feed icalendar wrote ---------------


def _vobject_events(data: bytes) -> list[tuple[str, str, date, date, timedelta]]:
    """(uid, summary, start, end, alarm trigger) of each event, as vobject reads the feed."""
    import vobject

    (calendar,) = list(vobject.readComponents(data.decode("utf-8")))
    assert calendar.name == "VCALENDAR" and calendar.version.value == "2.0"
    out = []
    for event in calendar.contents.get("vevent", []):
        (alarm,) = event.contents["valarm"]
        out.append((event.uid.value, event.summary.value, event.dtstart.value, event.dtend.value,
                    alarm.trigger.value))
    return out


def _icalendar_events(data: bytes) -> list[tuple[str, str, date, date, timedelta]]:
    out = []
    for event in Calendar.from_ical(data).walk("VEVENT"):
        (alarm,) = event.walk("VALARM")
        out.append((str(event.get("uid")), str(event.get("summary")), event.decoded("dtstart"),
                    event.decoded("dtend"), alarm.decoded("trigger")))
    return out


@pytest.mark.parametrize("detailed", [False, True], ids=["generic titles", "detailed titles"])
@pytest.mark.parametrize("role", ["patient", "family"])
def test_a_second_parser_reads_the_same_events(app, db, world, role, detailed):
    """vobject, which shares no code with the icalendar library that writes the feed, finds the same
    events: the same UIDs, summaries, all-day dates and alarms."""
    world.patient.detailed_notifications = detailed
    db.commit()
    _, created = feed(app, world, role)
    response = app.test_client().get(created["path"])
    assert response.status_code == 200
    theirs = _vobject_events(response.data)
    ours = _icalendar_events(response.data)
    assert theirs, "the world's patient has upcoming items"
    assert sorted(theirs) == sorted(ours)
    for uid, summary, start, end, trigger in theirs:
        assert uid.endswith("@alemtrack") and summary
        assert type(start) is date and type(end) is date and end > start  # all-day events
        assert trigger == timedelta(hours=9)
    assert len({uid for uid, *_ in theirs}) == len(theirs)
