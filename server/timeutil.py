"""The one place the server reads the clock: aware UTC instants, local dates.

Tests freeze time by patching :func:`utcnow` (the ``frozen_time`` fixture of tests/conftest.py).
"""

from __future__ import annotations

from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo


def utcnow() -> datetime:
    """The current instant, timezone-aware, in UTC."""
    return datetime.now(timezone.utc)


def local_today(tz_name: str, now: datetime | None = None) -> date:
    """The calendar date in time zone ``tz_name`` at ``now`` (default: the current instant)."""
    return (now or utcnow()).astimezone(ZoneInfo(tz_name)).date()
