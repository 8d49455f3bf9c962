"""Private iCalendar feeds: a channel that needs no push (iOS delivers web push
only to installed home-screen apps).

The feed URL carries a long random token; only its hash is stored and it can
be revoked. Titles carry no health detail unless the patient opted in.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import date, datetime, time, timedelta

from icalendar import Alarm, Calendar, Event
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ..engine.content.model import Content
from ..models import CalendarFeed, Patient, User
from ..timeutil import local_today
from .family import active_link
from .patients import clinic_settings, load_history, timeline_with_status

#: the feed lists what is coming up in this many days (and started windows)
FEED_DAYS = 120


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_feed(session: Session, user: User, patient: Patient, now: datetime) -> str:
    """A new feed for this user and patient; an earlier one of theirs stops working."""
    revoke_feeds(session, user, patient, now)
    token = secrets.token_urlsafe(32)
    session.add(CalendarFeed(user_id=user.id, patient_id=patient.id, token_hash=token_hash(token), created_at=now))
    return token


def revoke_feeds(session: Session, user: User, patient: Patient, now: datetime) -> int:
    result = session.execute(update(CalendarFeed).where(
        CalendarFeed.user_id == user.id, CalendarFeed.patient_id == patient.id, CalendarFeed.revoked_at.is_(None))
        .values(revoked_at=now))
    return result.rowcount


def find_feed(session: Session, token: str) -> CalendarFeed | None:
    """The live feed of this token: not revoked, and its owner's account still active."""
    return session.scalar(select(CalendarFeed).join(User, User.id == CalendarFeed.user_id).where(
        CalendarFeed.token_hash == token_hash(token), CalendarFeed.revoked_at.is_(None), User.active.is_(True)))


def render(patient: Patient, items: list[dict], today: date, content: Content, now: datetime,
           alarm_at: time) -> bytes:
    """The feed: one all-day event per upcoming item, with an alarm on its morning,
    in the words of her protocol ("your haematology team" for CLL)."""
    content = content.of(patient.protocol)
    language = patient.language
    calendar = Calendar()
    calendar.add("prodid", "-//Alemtrack//Reminders//EN")
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", content.text(language, "reminders", "generic_title"))
    for item in items:
        start = date.fromisoformat(item.get("due") or item["start"])
        end_text = item.get("due") or item.get("end")
        last = date.fromisoformat(end_text) if end_text else start
        if last < today or start > today + timedelta(days=FEED_DAYS):
            continue
        event = Event()
        occurrence = f"{item['code']}-{start.isoformat()}-{item.get('course', 0)}"
        event.add("uid", f"{hashlib.sha256(f'{patient.id}|{occurrence}'.encode()).hexdigest()[:24]}@alemtrack")
        event.add("dtstamp", now)
        event.add("summary", item["title"] if patient.detailed_notifications
                  else content.text(language, "reminders", "generic_title"))
        event.add("description", content.text(language, "reminders", "generic_body"))
        event.add("dtstart", start)
        event.add("dtend", last + timedelta(days=1))  # DTEND of an all-day event is exclusive
        event.add("transp", "TRANSPARENT")
        alarm = Alarm()
        alarm.add("action", "DISPLAY")
        alarm.add("description", content.text(language, "reminders", "generic_body"))
        # The clinic's reminder time on the first day (all-day events start at local midnight).
        alarm.add("trigger", timedelta(hours=alarm_at.hour, minutes=alarm_at.minute))
        event.add_component(alarm)
        calendar.add_component(event)
    return calendar.to_ical()


def feed_for(session: Session, feed: CalendarFeed, content: Content, now: datetime) -> bytes:
    """The feed's calendar as of ``now``, from the patient's today in her time zone."""
    patient = session.get(Patient, feed.patient_id)
    today = local_today(patient.timezone, now)
    user = session.get(User, feed.user_id)
    alarm_at = clinic_settings(patient.clinic, content)["reminder_time"]
    kinds = None
    if user.role == "family":
        link = active_link(session, user.id, patient.id)
        if link is None:  # access revoked: an empty calendar, nothing about her
            return render(patient, [], today, content, now, alarm_at)
        kinds = link.shares
    _, items = timeline_with_status(load_history(session, patient), today, content, patient.language, kinds,
                                    today, today + timedelta(days=FEED_DAYS))
    return render(patient, items, today, content, now, alarm_at)


def mark_fetched(session: Session, feed_id: int, now: datetime) -> None:
    """The delivery view counts a calendar that is fetched as a working channel."""
    session.execute(update(CalendarFeed).where(CalendarFeed.id == feed_id).values(last_fetched_at=now))
