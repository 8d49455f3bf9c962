"""The iCalendar feed route: a calendar app fetches it with the token alone (no cookie)."""

from __future__ import annotations

import re

from apiflask import APIBlueprint
from flask import Response, current_app

from ..db import get_session, separate_transaction
from ..errors import api_error
from ..services import calendar
from ..timeutil import utcnow

calendar_bp = APIBlueprint("calendar", __name__, enable_openapi=False)
TOKEN = re.compile(r"[A-Za-z0-9_-]{20,100}")


@calendar_bp.get("/calendar/<token>.ics")
def feed(token: str):
    session = get_session()
    found = calendar.find_feed(session, token) if TOKEN.fullmatch(token) else None
    if found is None:
        raise api_error(404, "not_found", "No such calendar.")
    now = utcnow()
    body = calendar.feed_for(session, found, current_app.extensions["alemtrack_content"], now)
    with separate_transaction() as writer:  # a GET reads in a read-only transaction
        calendar.mark_fetched(writer, found.id, now)
    return Response(body, mimetype="text/calendar", headers={"Cache-Control": "private, max-age=900"})
