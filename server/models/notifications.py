"""Reminders, push subscriptions, deliveries and calendar feeds (the clock's tables)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from ..db import Base
from ..timeutil import utcnow

REMINDER_STATUSES = ("pending", "sent", "skipped", "cancelled", "failed")
DELIVERY_STATUSES = ("pending", "sending", "sent", "gone", "failed", "expired")


class PushSubscription(Base):
    """One device's Web Push subscription (a browser's PushSubscription)."""

    __tablename__ = "push_subscriptions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    endpoint: Mapped[str] = mapped_column(Text, unique=True)
    p256dh: Mapped[str] = mapped_column(String(200))
    auth: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: the last 201 from the push service: the channel works
    last_success_at: Mapped[datetime | None]


class Reminder(Base):
    """A planned reminder: one (patient, item occurrence, step) at an instant.

    Rows are materialized ahead (services.reminders.sync) and claimed by the
    clock when due; the unique key makes a second clock or a restart harmless.
    """

    __tablename__ = "reminders"
    __table_args__ = (
        UniqueConstraint("patient_id", "key"),
        # The clock's question every minute: which pending rows are due?
        Index("ix_reminders_pending_due", "due_at", postgresql_where=text("status = 'pending'"),
              sqlite_where=text("status = 'pending'")),
        # Old history for the clock to delete (services.reminders.delete_history): BRIN on
        # PostgreSQL, a few pages for years of rows written in time order, each block range
        # summarized as soon as it fills (autosummarize); a B-tree on SQLite.
        Index("ix_reminders_history", "due_at", postgresql_using="brin", postgresql_with={"autosummarize": "on"}),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # No index of its own: the unique constraint begins with it (migration 0003).
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"))
    key: Mapped[str] = mapped_column(String(200))
    codes: Mapped[list[Any]]
    kind: Mapped[str] = mapped_column(String(20))
    occurrence: Mapped[date]
    #: the item's due date, for the "unless done" check of labs and checklists
    item_due: Mapped[date | None]
    step: Mapped[str] = mapped_column(String(20))
    audience: Mapped[str] = mapped_column(String(10))
    due_at: Mapped[datetime]
    #: after this instant the reminder is no longer worth sending (catch-up rule)
    useful_until: Mapped[datetime]
    unless: Mapped[str | None] = mapped_column(String(10))
    flag_level: Mapped[str | None] = mapped_column(String(10))
    text_key: Mapped[str | None] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(10), default="pending")
    #: why a row was skipped or what sending it did ("done", "expired", "no_channel", "3 devices")
    outcome: Mapped[str | None] = mapped_column(String(40))
    handled_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Delivery(Base):
    """One push message to one device, retried on its own (429, 5xx) until it expires."""

    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("reminder_id", "subscription_id"),
        UniqueConstraint("flag_id", "purpose", "subscription_id"),
        Index("ix_deliveries_pending", "next_attempt_at", postgresql_where=text("status = 'pending'"),
              sqlite_where=text("status = 'pending'")),
        # Interrupted sends, looked for on every tick: few rows, whatever the history.
        Index("ix_deliveries_sending", "claimed_at", postgresql_where=text("status = 'sending'"),
              sqlite_where=text("status = 'sending'")),
        # Old history for the clock to delete, as ix_reminders_history.
        Index("ix_deliveries_history", "created_at", postgresql_using="brin",
              postgresql_with={"autosummarize": "on"}),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reminder_id: Mapped[int | None] = mapped_column(ForeignKey("reminders.id"), index=True)
    flag_id: Mapped[int | None] = mapped_column(ForeignKey("flags.id"), index=True)
    #: "reminder", "flag" (raised) or "escalation" (urgent, not acknowledged in time)
    purpose: Mapped[str] = mapped_column(String(12))
    subscription_id: Mapped[int | None] = mapped_column(ForeignKey("push_subscriptions.id", ondelete="SET NULL"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    #: the patient the message is about (for the care team's delivery view)
    patient_id: Mapped[int | None] = mapped_column(ForeignKey("patients.id"), index=True)
    #: the JSON payload (title, body, url, tag): no health detail unless opted in
    payload: Mapped[dict[str, Any]]
    topic: Mapped[str] = mapped_column(String(32))
    urgency: Mapped[str] = mapped_column(String(10))
    ttl_seconds: Mapped[int]
    status: Mapped[str] = mapped_column(String(10), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    claimed_at: Mapped[datetime | None]
    last_status: Mapped[int | None]
    #: why the last attempt did not deliver ("HTTP 500", "timed out", "refused endpoint: ..."): no URL, no payload
    last_error: Mapped[str | None] = mapped_column(String(80))
    sent_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class CalendarFeed(Base):
    """A private iCalendar feed: the URL's token is shown once; only its hash is kept."""

    __tablename__ = "calendar_feeds"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None]
    last_fetched_at: Mapped[datetime | None]
