"""Care-team pushes, written as Delivery rows in the caller's transaction (an outbox):
the clock sends them, so a flag raised by a web request reaches the nurses'
phones within a minute without the web worker touching the network.
"""

from __future__ import annotations

import base64
import hashlib
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..engine.content.model import Content
from ..models import Delivery, Flag, PushSubscription, User

#: care-team pushes live a day; the flag stays in the queue whatever happens
FLAG_TTL = 24 * 3600
#: the care team's pushes are in English until staff accounts have a language
STAFF_LANGUAGE = "en"


def topic_for(*parts: Any) -> str:
    """A Web Push Topic (at most 32 URL-safe characters) naming one item occurrence:
    a newer message with the same topic replaces an unread older one."""
    digest = hashlib.sha256("|".join(map(str, parts)).encode()).digest()
    return base64.urlsafe_b64encode(digest).decode()[:32]


def notify_care_team(session: Session, flag: Flag, purpose: str, now: datetime, content: Content) -> int:
    """Push a flag to every nurse and admin of its clinic (quiet hours do not apply).

    The payload names no patient and no symptom: lock screens are seen by others.
    """
    staff = {user.id: user for user in session.scalars(select(User).where(
        User.clinic_id == flag.clinic_id, User.active.is_(True), User.role.in_(("nurse", "admin"))))}
    if not staff:
        return 0
    topic = topic_for("flag", flag.id)
    payload = {"title": content.text(STAFF_LANGUAGE, "reminders", "care_team_title"),
               "body": content.text(STAFF_LANGUAGE, "reminders", "care_team_body"),
               "url": "/#/flags", "tag": topic}
    count = 0
    for subscription in session.scalars(select(PushSubscription).where(PushSubscription.user_id.in_(list(staff)))):
        session.add(Delivery(flag_id=flag.id, purpose=purpose, subscription_id=subscription.id,
                             user_id=subscription.user_id, patient_id=flag.patient_id, payload=payload, topic=topic,
                             urgency="high", ttl_seconds=FLAG_TTL, status="pending", next_attempt_at=now,
                             expires_at=now + timedelta(seconds=FLAG_TTL), created_at=now))
        count += 1
    return count
