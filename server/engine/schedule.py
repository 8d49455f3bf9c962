"""A proposed CLL course (CLINICAL.md 7.1): the dates the care team edits before saving.

Every number (the dose, how many doses, the weekdays, the escalation by route,
the most milligrams in any 7 days) is content: the protocol's [proposal] table
(content/cll/protocol.toml), with its sources. Nothing here is saved: the
proposal is a starting point.
"""

from __future__ import annotations

from datetime import date, timedelta

from .content.loading import default_content
from .content.model import Content, CourseProposal
from .errors import InputError
from .inputs import Dose


def _window_mg(doses: list[tuple[date, Dose]], day: date, window_days: int) -> float:
    """The milligrams given in the ``window_days`` days ending on ``day`` (before a dose on it)."""
    return sum(dose.mg for on, dose in doses if (day - on).days < window_days)


def _proposal_of(content: Content | None) -> CourseProposal:
    if content is None:
        # Callers without loaded content (the engine's own tests): the repository's CLL protocol.
        content = default_content().of("cll")
    if content.proposal is None:
        raise InputError("protocol", f"protocol {content.protocol!r} has no proposed course")
    return content.proposal


def propose_course(start: date, route: str, content: Content | None = None) -> list[tuple[date, Dose]]:
    """The proposed administration dates from ``start`` with their dose and route,
    by ``content``'s [proposal] (a protocol's content; None: the repository's CLL).

    A route with an escalation (IV: 3 mg on ``start``, 10 mg the next day) gives
    those doses first, then the first full dose (30 mg) the day after; without
    one, the first full dose is on ``start``. The other full doses follow on the
    proposal's weekdays (Monday, Wednesday, Friday), at least ``min_gap_days``
    apart and never above the 7-day limit of course.dose_limit.
    InputError("route") for a route the proposal does not offer.
    """
    proposal = _proposal_of(content)
    by_route = proposal.routes.get(route)
    if by_route is None:
        raise InputError("route", f"{route!r} is not one of {', '.join(proposal.routes)}")
    out: list[tuple[date, Dose]] = []
    day = start
    for mg in by_route.escalation_mg:
        out.append((day, Dose(mg, route)))
        day += timedelta(days=by_route.escalation_every_days)
    if by_route.escalation_mg:
        day = out[-1][0] + timedelta(days=1)  # the first full dose the day after the last escalation
    out.append((day, Dose(proposal.dose_mg, route)))
    full = 1
    while full < proposal.doses:
        day += timedelta(days=proposal.min_gap_days)  # never two doses closer than this
        # A weekday of the pattern, and within the limit of course.dose_limit
        # (the label's: a proposal never warns).
        while (day.weekday() not in proposal.weekdays
               or _window_mg(out, day, proposal.window_days) + proposal.dose_mg > proposal.window_mg):
            day += timedelta(days=1)
        full += 1
        out.append((day, Dose(proposal.dose_mg, route)))
    return out
