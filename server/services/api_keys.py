"""Clinic API keys (issue 19): a laboratory system's key to import results into one clinic.

A key is ``alk_`` and 43 characters of ``secrets.token_urlsafe(32)`` (256 random
bits). Only its SHA-256 is stored: with that much entropy a slow password hash
adds nothing, and a lookup by hash stays one indexed query. The key is shown
once, when it is created; it is never logged.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models import ApiKey, User
from .errors import NotAuthenticated, NotFound

PREFIX = "alk_"
#: how much of the key the list shows (the prefix and 4 random characters)
SHOWN = len(PREFIX) + 4


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


def create(session: Session, admin: User, name: str, now: datetime) -> tuple[ApiKey, str]:
    """A new key of the admin's clinic; (the row, the key itself: shown once)."""
    key = PREFIX + secrets.token_urlsafe(32)
    row = ApiKey(clinic_id=admin.clinic_id, name=name, key_hash=hash_key(key), prefix=key[:SHOWN],
                 created_by_id=admin.id, created_at=now)
    session.add(row)
    session.flush()
    return row, key


def of_clinic(session: Session, clinic_id: int) -> list[ApiKey]:
    return list(session.scalars(select(ApiKey).where(ApiKey.clinic_id == clinic_id).order_by(ApiKey.id)))


def revoke(session: Session, admin: User, key_id: int, now: datetime) -> ApiKey:
    """Revoke a key of the admin's clinic (again: no change); NotFound for another clinic's."""
    row = session.get(ApiKey, key_id)
    if row is None or row.clinic_id != admin.clinic_id:
        raise NotFound("No such API key.")
    if row.revoked_at is None:
        row.revoked_at = now
    return row


def authenticate(session: Session, key: str | None, now: datetime) -> ApiKey:
    """The live key ``key`` names, its last use noted; NotAuthenticated otherwise
    (unknown, malformed or revoked: the same answer)."""
    refused = NotAuthenticated("Missing, unknown or revoked API key.", code="invalid_api_key")
    if not key or not key.startswith(PREFIX) or len(key) > 100:
        raise refused
    digest = hash_key(key)
    row = session.scalar(select(ApiKey).where(ApiKey.key_hash == digest))
    # The lookup is by hash (an attacker cannot steer it); the comparison is constant-time anyway.
    if row is None or not hmac.compare_digest(row.key_hash, digest) or row.revoked_at is not None:
        raise refused
    row.last_used_at = now
    return row
