"""Web Push adapter (pywebpush): send one message, say what happened.

``send`` returns one of: ``sent`` (2xx), ``gone`` (404/410: delete the
subscription), ``retry`` (429 with its Retry-After, 5xx, network errors and
timeouts), ``failed`` (any other 4xx; a 413 means our payload is too big, which
is a bug and is logged).
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import urllib.request
from dataclasses import dataclass
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any, Mapping
from urllib.parse import urlsplit

import aiohttp
from cryptography.hazmat.primitives import serialization
from py_vapid import Vapid02
from pywebpush import WebPusher

log = logging.getLogger(__name__)

#: RFC 8291 leaves 3,993 bytes of plaintext in a 4,096-byte message (aes128gcm)
MAX_PAYLOAD = 3993
#: VAPID tokens must expire within 24 hours (RFC 8292); 12 is pywebpush's choice too
VAPID_LIFETIME_SECONDS = 12 * 3600


@dataclass(frozen=True)
class PushResult:
    outcome: str  # "sent" | "gone" | "retry" | "failed"
    status: int | None = None
    retry_after: int | None = None


def origin(endpoint: str) -> str:
    parts = urlsplit(endpoint)
    return f"{parts.scheme}://{parts.netloc}"


def encode_payload(payload: Mapping[str, Any]) -> str:
    data = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
    if len(data.encode()) > MAX_PAYLOAD:
        raise ValueError(f"push payload of {len(data.encode())} bytes is over {MAX_PAYLOAD}")
    return data


def _retry_after(headers: Mapping[str, str]) -> int | None:
    value = headers.get("Retry-After")
    if value is None:
        return None
    if value.strip().isdigit():
        return int(value)
    try:  # an HTTP date
        return max(0, int((parsedate_to_datetime(value) - datetime.now(timezone.utc)).total_seconds()))
    except (TypeError, ValueError):
        return None


class Pusher:
    """Sends Web Push messages signed with the deployment's VAPID key.

    Sending is asynchronous (pywebpush's ``send_async`` over aiohttp): one
    thread keeps many messages in flight, where threads would queue for the
    GIL to encrypt, sign and parse.
    """

    def __init__(self, private_key_pem: str, subject: str, timeout: float = 10.0):
        self.vapid = Vapid02.from_pem(private_key_pem.encode())
        self.subject = subject
        self.request_timeout = aiohttp.ClientTimeout(total=timeout)

    def client(self, in_flight: int) -> aiohttp.ClientSession:
        """The HTTP client of one batch of sends (open it inside the event loop).

        Connections to a push service are kept and reused. A proxy in the
        environment (``https_proxy``) is read once here: aiohttp's
        ``trust_env`` would read the environment and ~/.netrc again for every
        message, in a thread.
        """
        return aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=in_flight),
                                     proxy=urllib.request.getproxies().get("https"))

    async def send(self, http: aiohttp.ClientSession, subscription: Mapping[str, Any], payload: Mapping[str, Any],
                   *, ttl: int, urgency: str, topic: str, now: datetime) -> PushResult:
        """Send ``payload`` to one subscription ({endpoint, keys: {p256dh, auth}})."""
        data = encode_payload(payload)
        # A new claims dict for every message: pywebpush and py_vapid fill in
        # and cache fields of the dict they are given.
        claims = {"sub": self.subject, "aud": origin(subscription["endpoint"]),
                  "exp": int(now.timestamp()) + VAPID_LIFETIME_SECONDS}
        headers = {**self.vapid.sign(claims), "Urgency": urgency, "Topic": topic}
        try:
            # The timeout is given here: pywebpush passes its own default otherwise.
            response = await WebPusher(subscription, aiohttp_session=http).send_async(
                data, headers, ttl=ttl, content_encoding="aes128gcm", timeout=self.request_timeout)
        except (aiohttp.ClientError, asyncio.TimeoutError):
            return PushResult("retry")
        status = response.status
        if status < 300:
            return PushResult("sent", status)
        if status in (404, 410):
            return PushResult("gone", status)
        if status == 429:
            return PushResult("retry", status, _retry_after(response.headers))
        if status >= 500:
            return PushResult("retry", status, _retry_after(response.headers))
        if status == 413:
            log.error("push service refused a payload as too large (%d bytes): a bug", len(data.encode()))
        else:
            log.warning("push service answered %d", status)
        return PushResult("failed", status)


def load_private_key(config: Mapping[str, Any]) -> str | None:
    """The VAPID private key (PEM) from configuration or the instance folder, or None."""
    value = config.get("VAPID_PRIVATE_KEY")
    if value:
        return value if value.lstrip().startswith("-----BEGIN") else Path(value).read_text()
    stored = Path(config["INSTANCE_DIR"]) / "vapid_private.pem"
    return stored.read_text() if stored.exists() else None


def generate_keys(folder: Path) -> str:
    """A new VAPID key pair in ``folder``; returns the public key (base64url)."""
    folder.mkdir(parents=True, exist_ok=True)
    vapid = Vapid02()
    vapid.generate_keys()
    pem = vapid.private_pem()
    private_path = folder / "vapid_private.pem"
    private_path.write_bytes(pem)
    private_path.chmod(0o600)
    public = application_server_key(pem.decode())
    (folder / "vapid_public.txt").write_text(public + "\n")
    return public


def application_server_key(private_key_pem: str) -> str:
    """The public key as browsers want it for ``applicationServerKey``."""
    key = serialization.load_pem_private_key(private_key_pem.encode(), password=None)
    raw = key.public_key().public_bytes(serialization.Encoding.X962,
                                        serialization.PublicFormat.UncompressedPoint)
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
