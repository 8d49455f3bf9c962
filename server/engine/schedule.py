"""A proposed CLL course (CLINICAL.md 7.1): the dates the care team edits before saving.

Alemtuzumab 30 mg three times a week for 12 weeks (36 doses of 30 mg); by vein
after an escalation of 3 and 10 mg on the days before the first 30 mg dose, or
under the skin from 30 mg without escalation (000 "Dosing and administration",
Table 2; 001). Nothing here is saved: the proposal is a starting point.
"""

from __future__ import annotations

from datetime import date, timedelta

from .errors import InputError
from .inputs import ROUTES, Dose

#: the maintenance dose and how many of them a course has (000: 30 mg, 36 doses in 12 weeks)
DOSE_MG = 30.0
DOSES = 36
#: the IV escalation before the first 30 mg dose, on consecutive days (000 Table 2)
ESCALATION_MG = (3.0, 10.0)
#: three times a week on alternate weekdays: Monday, Wednesday, Friday (000: "for example")
DOSE_WEEKDAYS = (0, 2, 4)


#: the most milligrams in any 7 days (Campath label; content/cll course.dose_limit)
WEEK_MG = 90.0


def _week_mg(doses: list[tuple[date, Dose]], day: date) -> float:
    """The milligrams given in the 7 days ending on ``day`` (before a dose on it)."""
    return sum(dose.mg for on, dose in doses if (day - on).days < 7)


def propose_course(start: date, route: str) -> list[tuple[date, Dose]]:
    """The proposed administration dates from ``start`` with their dose and route.

    ``iv``: 3 mg on ``start``, 10 mg the next day, then 30 mg the day after and
    35 more 30 mg doses on the following Mondays, Wednesdays and Fridays at least
    two days apart; ``sc``: 36 doses of 30 mg, the first on ``start``.
    """
    if route not in ROUTES:
        raise InputError("route", f"{route!r} is not one of {', '.join(ROUTES)}")
    out: list[tuple[date, Dose]] = []
    day = start
    if route == "iv":
        for mg in ESCALATION_MG:
            out.append((day, Dose(mg, route)))
            day += timedelta(days=1)
    out.append((day, Dose(DOSE_MG, route)))
    full = [d for d, dose in out if dose.mg == DOSE_MG]
    while len(full) < DOSES:
        day += timedelta(days=2)  # alternate days: never two doses in a row
        # A weekday of the pattern, and at most 90 mg in any 7 days (the label's
        # limit: course.dose_limit never warns on a proposal).
        while day.weekday() not in DOSE_WEEKDAYS or _week_mg(out, day) + DOSE_MG > WEEK_MG:
            day += timedelta(days=1)
        full.append(day)
        out.append((day, Dose(DOSE_MG, route)))
    return out
