"""Date helpers: month arithmetic (clamped to the end of a shorter month) and strict parsing.

Dates here are the patient's local calendar dates; nothing reads the clock.
"""

from __future__ import annotations

import re
from datetime import date

from .errors import InputError

_DAYS_IN_MONTH = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
#: every date a person enters lies in this range (anything else is refused as bad
#: input); the engine's arithmetic from it stays far inside date's years 1..9999
FIRST_DATE = date(1900, 1, 1)
LAST_DATE = date(2100, 12, 31)


def is_leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def days_in_month(year: int, month: int) -> int:
    if month == 2 and is_leap(year):
        return 29
    return _DAYS_IN_MONTH[month - 1]


def add_months(start: date, months: int) -> date:
    """``months`` months after ``start`` (negative goes back), clamped to month end.

    Always computed from ``start`` itself, never by adding one month repeatedly:
    31 Jan + 1 month = 28 Feb (29 in a leap year); 31 Jan + 2 months = 31 Mar.
    """
    index = start.month - 1 + months
    year = start.year + index // 12
    month = index % 12 + 1
    return date(year, month, min(start.day, days_in_month(year, month)))


def parse_date(value: object, field: str) -> date:
    """A ``YYYY-MM-DD`` string as a date from FIRST_DATE to LAST_DATE; anything
    else is an InputError on ``field``. The one date rule of the engine's
    documents and of the API (server.api.schemas.LocalDate).

    ``date.fromisoformat`` alone would also take ``20260105`` and week dates, which
    no client of ours sends on purpose, so the shape is checked first.
    """
    if isinstance(value, date):
        day = value
    elif not isinstance(value, str) or not _ISO_DATE.fullmatch(value):
        raise InputError(field, f"expected a date as YYYY-MM-DD, got {value!r}")
    else:
        try:
            day = date.fromisoformat(value)
        except ValueError:
            raise InputError(field, f"{value} is not a real calendar date") from None
    if not FIRST_DATE <= day <= LAST_DATE:
        raise InputError(field, f"{day.isoformat()} is outside {FIRST_DATE.isoformat()}.."
                                f"{LAST_DATE.isoformat()}")
    return day
