"""The one way a patient's submission (a checklist, a sample's results) is stored once.

Idempotent on the client's id: the first answer is kept on the row and given
again to a replay. Between requests that race, the unique constraints decide.
"""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..db import Base


def add_once(session: Session, row: Base) -> bool:
    """Add and flush ``row`` unless a unique constraint refuses it: True if added.

    The savepoint keeps the caller's transaction usable when it is refused
    (PostgreSQL aborts a transaction at a failed statement); a refused row is
    not in the session afterwards.
    """
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:
        return False
    return True
