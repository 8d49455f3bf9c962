"""Configuration, read from the environment in one place (README, "The server").

``load_config`` is called inside the app factory; tests pass a dict instead of
setting environment variables.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Mapping

#: Where the embedded default database lives (DATABASE_URL unset).
DEFAULT_INSTANCE = Path(__file__).resolve().parents[1] / "instance"


class ConfigError(RuntimeError):
    """The configuration cannot work: names the setting."""


def _origins(text: str) -> tuple[str, ...]:
    from .services.push_endpoints import parse_origins

    try:
        return parse_origins(text)
    except ValueError as error:
        raise ConfigError(f"ALEMTRACK_PUSH_ALLOWED_ORIGINS: {error}") from None


def load_config(environ: Mapping[str, str] | None = None, overrides: Mapping[str, Any] | None = None) -> dict:
    env = os.environ if environ is None else environ
    development = env.get("ALEMTRACK_ENV", "production") == "development"
    instance = Path(env.get("ALEMTRACK_INSTANCE", str(DEFAULT_INSTANCE)))
    config: dict[str, Any] = {
        "ENV_NAME": "development" if development else "production",
        "INSTANCE_DIR": str(instance),
        "DATABASE_URL": env.get("DATABASE_URL") or f"sqlite:///{instance / 'alemtrack.sqlite'}",
        # Connections each process keeps in its PostgreSQL pool (SQLAlchemy's default is 5).
        "DB_POOL_SIZE": int(env.get("ALEMTRACK_DB_POOL_SIZE", "5")),
        "SECRET_KEY": env.get("SECRET_KEY"),
        "PORT": int(env.get("PORT", "5000")),
        # Cookie flags of docs/api.md: HttpOnly, SameSite=Lax, Secure outside development.
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": not development,
        "SESSION_COOKIE_NAME": "alemtrack_session",
        # Bodies larger than this are refused with 413 before they are parsed.
        "MAX_CONTENT_LENGTH": int(env.get("ALEMTRACK_MAX_BODY_BYTES", str(64 * 1024))),
        # The lab import's files (FHIR Bundle, CSV): a few thousand results.
        "MAX_IMPORT_BYTES": int(env.get("ALEMTRACK_MAX_IMPORT_BYTES", str(2 * 1024 * 1024))),
        "COMPRESS_MIMETYPES": ["text/html", "text/css", "text/javascript", "application/javascript",
                               "application/json", "application/manifest+json", "text/calendar"],
        "COMPRESS_MIN_SIZE": 500,
        "COMPRESS_ALGORITHM": ["br", "gzip"],
        # Login throttling (per account and per address), counted in the database so
        # that every worker process sees the same counters.
        "LOGIN_WINDOW_SECONDS": int(env.get("ALEMTRACK_LOGIN_WINDOW_SECONDS", "900")),
        "LOGIN_MAX_PER_ACCOUNT": int(env.get("ALEMTRACK_LOGIN_MAX_PER_ACCOUNT", "5")),
        "LOGIN_MAX_PER_ADDRESS": int(env.get("ALEMTRACK_LOGIN_MAX_PER_ADDRESS", "20")),
        # Registrations refused (unknown code, taken email, weak password) per address
        # in the same window: codes cannot be guessed nor emails probed at speed.
        "REGISTER_MAX_PER_ADDRESS": int(env.get("ALEMTRACK_REGISTER_MAX_PER_ADDRESS", "10")),
        # Session lifetimes (ASVS V3.3, server.web.sessions): staff sessions end 12 hours after
        # the login or 30 minutes after the last request; patients' and family members' after
        # 30 days without a request.
        "STAFF_SESSION_MAX_SECONDS": int(env.get("ALEMTRACK_STAFF_SESSION_MAX_SECONDS", str(12 * 3600))),
        "STAFF_SESSION_IDLE_SECONDS": int(env.get("ALEMTRACK_STAFF_SESSION_IDLE_SECONDS", str(30 * 60))),
        "PERSONAL_SESSION_IDLE_SECONDS": int(env.get("ALEMTRACK_PERSONAL_SESSION_IDLE_SECONDS",
                                                     str(30 * 24 * 3600))),
        # argon2id cost; the defaults are argon2-cffi's (RFC 9106 low-memory profile).
        "ARGON2_TIME_COST": int(env.get("ALEMTRACK_ARGON2_TIME_COST", "3")),
        "ARGON2_MEMORY_KIB": int(env.get("ALEMTRACK_ARGON2_MEMORY_KIB", "65536")),
        "ENROLLMENT_CODE_DAYS": int(env.get("ALEMTRACK_ENROLLMENT_CODE_DAYS", "14")),
        "FAMILY_INVITE_DAYS": int(env.get("ALEMTRACK_FAMILY_INVITE_DAYS", "7")),
        # Password reset codes (issue 16): a code from the care team or by mail works once, this long.
        "PASSWORD_RESET_HOURS": int(env.get("ALEMTRACK_PASSWORD_RESET_HOURS", "24")),
        # Reset mails per account in the login window (more requests still answer 202, send nothing).
        "PASSWORD_RESET_MAILS": int(env.get("ALEMTRACK_PASSWORD_RESET_MAILS", "3")),
        # SMTP for reset codes by mail; without a host, POST /auth/forgot sends nothing.
        "SMTP_HOST": env.get("ALEMTRACK_SMTP_HOST") or None,
        "SMTP_PORT": int(env.get("ALEMTRACK_SMTP_PORT", "25")),
        "SMTP_FROM": env.get("ALEMTRACK_SMTP_FROM", "alemtrack@localhost"),
        "SMTP_USER": env.get("ALEMTRACK_SMTP_USER") or None,
        "SMTP_PASSWORD": env.get("ALEMTRACK_SMTP_PASSWORD") or None,
        "SMTP_STARTTLS": env.get("ALEMTRACK_SMTP_STARTTLS", "false").lower() in ("1", "true", "yes"),
        "SMTP_TIMEOUT_SECONDS": float(env.get("ALEMTRACK_SMTP_TIMEOUT_SECONDS", "10")),
        # Reverse proxies in front of the app that set X-Forwarded-For and -Proto
        # (server.create_app applies ProxyFix for exactly this many hops; 0: none).
        "TRUSTED_PROXIES": int(env.get("ALEMTRACK_TRUSTED_PROXIES", "0")),
        # Web Push (VAPID, RFC 8292): the key as PEM text or a file path; without
        # it, the key `vapid-keys` stored in the instance folder.
        "VAPID_PRIVATE_KEY": env.get("ALEMTRACK_VAPID_PRIVATE_KEY"),
        "VAPID_SUBJECT": env.get("ALEMTRACK_VAPID_SUBJECT", "mailto:alemtrack@localhost"),
        "PUSH_TIMEOUT_SECONDS": float(env.get("ALEMTRACK_PUSH_TIMEOUT_SECONDS", "10")),
        # Push goes only to https endpoints on public addresses; these origins
        # (comma-separated, e.g. http://127.0.0.1:8765) are push services beyond
        # that rule: a closed network's own, a local one for tests.
        "PUSH_ALLOWED_ORIGINS": _origins(env.get("ALEMTRACK_PUSH_ALLOWED_ORIGINS", "")),
        # Messages in flight at once: a clock killed mid-send may have sent this many
        # without recording it (they go out again; devices collapse the copies).
        "PUSH_IN_FLIGHT": int(env.get("ALEMTRACK_PUSH_IN_FLIGHT", "16")),
        # Reminder rows are planned this far ahead and re-planned daily by the clock.
        "REMINDER_HORIZON_DAYS": int(env.get("ALEMTRACK_REMINDER_HORIZON_DAYS", "8")),
        # Rows the clock handles per step of a tick (it loops until none are left).
        "CLOCK_BATCH": int(env.get("ALEMTRACK_CLOCK_BATCH", "500")),
        # Sent and skipped reminder rows and finished deliveries are kept this long
        # (the audit of what was sent), then the clock deletes them.
        "HISTORY_RETENTION_DAYS": int(env.get("ALEMTRACK_HISTORY_RETENTION_DAYS", "400")),
    }
    if overrides:
        config.update(overrides)
    if not config["SECRET_KEY"]:
        if config["ENV_NAME"] != "development":
            raise ConfigError("SECRET_KEY is required (or set ALEMTRACK_ENV=development)")
        config["SECRET_KEY"] = "development-only-secret"
    return config
