"""Lab import (issue 19): the clinics' API keys and the keys of imported results."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..db import Base
from ..timeutil import utcnow


class ApiKey(Base):
    """A laboratory system's key to import results into one clinic.

    Only the SHA-256 of the key is stored (the key is 256 random bits, so a
    plain hash is enough); the key itself is shown once, when it is created.
    """

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    clinic_id: Mapped[int] = mapped_column(ForeignKey("clinics.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    #: hex SHA-256 of the whole key
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    #: the key's first characters, shown in the list so that the admin can tell keys apart
    prefix: Mapped[str] = mapped_column(String(16))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]


class LabImportKey(Base):
    """One imported result's idempotency key, unique within its clinic: the same
    observation or CSV row again stores nothing new."""

    __tablename__ = "lab_import_keys"
    __table_args__ = (UniqueConstraint("clinic_id", "import_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    clinic_id: Mapped[int] = mapped_column(ForeignKey("clinics.id"))
    #: hex SHA-256 (docs/decisions.md, "Lab import")
    import_key: Mapped[str] = mapped_column(String(64))
    submission_id: Mapped[int] = mapped_column(ForeignKey("lab_submissions.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
