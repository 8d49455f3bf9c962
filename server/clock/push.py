"""Web Push adapter (pywebpush): send one message, say what happened.

``send`` returns one of: ``sent`` (2xx), ``gone`` (404/410: delete the
subscription), ``retry`` (429 with its Retry-After, 5xx, network errors and
timeouts), ``failed`` (3xx: redirects are never followed; any other 4xx, a 413
meaning our payload is too big, which is a bug and is logged; an endpoint that
is not a push service; keys that cannot encrypt). ``reason`` says, for a
message that did not go, why, in a few words without the URL.

It never raises for one message: whatever goes wrong with one subscription is
that message's result, and the others go on (docs/decisions.md, "one bad row").
Before each send the endpoint is checked against the rule of
``services.push_endpoints`` (https, no user info, public addresses, or an
allowed origin), and the connection's resolver checks the addresses it
connects to again: a DNS answer that changes between the two is refused too.
"""

from __future__ import annotations

import asyncio
import base64
import ipaddress
import json
import logging
import socket
import urllib.request
from dataclasses import dataclass
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any, Mapping
from urllib.parse import urlsplit

import aiohttp
from aiohttp.abc import ResolveResult
from aiohttp.resolver import ThreadedResolver
from cryptography.hazmat.primitives import serialization
from py_vapid import Vapid02
from pywebpush import WebPusher, WebPushException

from ..services.push_endpoints import RefusedEndpoint, addresses_refusal, check_form, origin_of

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
    #: why a message did not go (at most 80 characters, no URL, no payload)
    reason: str | None = None


def origin(endpoint: str) -> str:
    """The VAPID audience: the push service's origin, as it is written in the endpoint."""
    parts = urlsplit(endpoint)
    return f"{parts.scheme}://{parts.netloc}"


class RefusedAddress(OSError):
    """A host resolved, when connecting, to an address push does not go to."""


class _CheckingResolver(ThreadedResolver):
    """aiohttp's resolver (socket.getaddrinfo in a thread) that refuses non-public answers.

    The check before each send resolved the name once; the connection resolves
    it again, and that answer is the one used: it is checked here. Hosts of
    allowed origins (and of a proxy) are resolved as they are.
    """

    def __init__(self, exempt: frozenset[tuple[str, int]]):
        super().__init__()
        self.exempt = exempt

    async def resolve(self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
                      ) -> list[ResolveResult]:
        found = await super().resolve(host, port, family)
        if (host.lower().rstrip("."), port) not in self.exempt:
            reason = addresses_refusal(result["host"] for result in found)
            if reason:
                raise RefusedAddress(reason)
        return found


class _NoRedirects:
    """What pywebpush calls ``post`` on: the batch's client, with redirects never followed."""

    def __init__(self, http: aiohttp.ClientSession):
        self.http = http

    def post(self, url: str, **kwargs):
        return self.http.post(url, allow_redirects=False, **kwargs)


def _host_port(url: str) -> tuple[str, int] | None:
    parts = urlsplit(url)
    if not parts.hostname:
        return None
    try:
        return parts.hostname.rstrip("."), parts.port or {"https": 443, "http": 80}.get(parts.scheme, 0)
    except ValueError:
        return None


class PushClient:
    """The HTTP client of one batch of sends (open it inside the event loop with ``async with``).

    Connections to a push service are kept and reused. Within one client the
    addresses a host resolved to before a send are remembered, so that a
    batch asks the DNS once per push service, not once per message.
    """

    def __init__(self, in_flight: int, allowed_origins: frozenset[str]):
        self.in_flight = in_flight
        self.allowed_origins = allowed_origins
        self.checked: dict[tuple[str, int], str | None] = {}
        #: signed VAPID headers by (audience, expiry): see Pusher._vapid_headers
        self.vapid_headers: dict[tuple[str, int], dict[str, str]] = {}
        self.http: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> "PushClient":
        # A proxy in the environment (``https_proxy``) is read once here: aiohttp's
        # ``trust_env`` would read the environment and ~/.netrc again for every
        # message, in a thread.
        proxy = urllib.request.getproxies().get("https")
        exempt = {pair for pair in map(_host_port, [*self.allowed_origins, *([proxy] if proxy else [])])
                  if pair is not None}
        self.http = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=self.in_flight, resolver=_CheckingResolver(frozenset(exempt))),
            proxy=proxy)
        return self

    async def __aexit__(self, *exc) -> None:
        assert self.http is not None
        await self.http.close()

    async def check(self, endpoint: str) -> None:
        """The rule of services.push_endpoints for this endpoint, now. Raises RefusedEndpoint."""
        host, port, named = check_form(endpoint, self.allowed_origins)
        if named:
            return
        try:
            ipaddress.ip_address(host)
            return  # an address literal: check_form judged it
        except ValueError:
            pass
        key = (host, port)
        if key not in self.checked:
            try:
                infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
            except (socket.gaierror, UnicodeError):
                raise _Unresolved() from None
            self.checked[key] = addresses_refusal(info[4][0] for info in infos)
        if self.checked[key]:
            raise RefusedEndpoint(self.checked[key])


#: what pywebpush and cryptography raise for keys they cannot use (binascii.Error is a ValueError)
_KEY_ERRORS = (ValueError, TypeError, IndexError, WebPushException)


class _Unresolved(Exception):
    """The push service's name did not resolve now: try again later."""


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

    def __init__(self, private_key_pem: str, subject: str, timeout: float = 10.0,
                 allowed_origins: tuple[str, ...] = ()):
        """``allowed_origins``: push services beyond the public-address rule (PUSH_ALLOWED_ORIGINS)."""
        self.vapid = Vapid02.from_pem(private_key_pem.encode())
        self.subject = subject
        self.request_timeout = aiohttp.ClientTimeout(total=timeout)
        self.allowed_origins = frozenset(origin_of(o) for o in allowed_origins)

    def client(self, in_flight: int) -> PushClient:
        """The HTTP client of one batch of sends, at most ``in_flight`` connections."""
        return PushClient(in_flight, self.allowed_origins)

    def _vapid_headers(self, client: PushClient, audience: str, now: datetime) -> dict[str, str]:
        """The VAPID Authorization header for one push service, signed once per client.

        A token is good for every message to its audience until it expires
        (RFC 8292), so a batch signs one per push service, not one per message.
        """
        expires = int(now.timestamp()) + VAPID_LIFETIME_SECONDS
        key = (audience, expires)
        if key not in client.vapid_headers:
            # A new claims dict for every token: py_vapid fills in fields of the dict it is given.
            client.vapid_headers[key] = self.vapid.sign({"sub": self.subject, "aud": audience, "exp": expires})
        return client.vapid_headers[key]

    async def send(self, client: PushClient, subscription: Mapping[str, Any], payload: Mapping[str, Any],
                   *, ttl: int, urgency: str, topic: str, now: datetime) -> PushResult:
        """Send ``payload`` to one subscription ({endpoint, keys: {p256dh, auth}}); never raises for it."""
        data = encode_payload(payload)  # ours: a payload too big is a bug, raised
        endpoint = subscription["endpoint"]
        try:
            await client.check(endpoint)
        except RefusedEndpoint as refused:
            return PushResult("failed", reason=f"refused endpoint: {refused.reason}"[:80])
        except _Unresolved:
            return PushResult("retry", reason="the host name does not resolve")
        try:
            pusher = WebPusher(subscription, aiohttp_session=_NoRedirects(client.http))
        except _KEY_ERRORS as error:  # keys pywebpush cannot even decode
            return PushResult("failed", reason=f"unusable subscription keys ({type(error).__name__})")
        headers = {**self._vapid_headers(client, origin(endpoint), now), "Urgency": urgency, "Topic": topic}
        try:
            # The timeout is given here: pywebpush passes its own default otherwise.
            response = await pusher.send_async(data, headers, ttl=ttl, content_encoding="aes128gcm",
                                               timeout=self.request_timeout)
        except aiohttp.ClientConnectorError as error:
            if isinstance(error.os_error, RefusedAddress):
                return PushResult("failed", reason=f"refused endpoint: {error.os_error}"[:80])
            return PushResult("retry", reason=f"cannot connect ({type(error.os_error).__name__})")
        except aiohttp.InvalidURL:
            return PushResult("failed", reason="refused endpoint: not a URL the client can use")
        except asyncio.TimeoutError:
            return PushResult("retry", reason="timed out")
        except (aiohttp.ClientError, OSError) as error:
            return PushResult("retry", reason=f"connection failed ({type(error).__name__})")
        except _KEY_ERRORS as error:  # encryption with keys that are not a usable point
            return PushResult("failed", reason=f"unusable subscription keys ({type(error).__name__})")
        status = response.status
        if status < 300:
            return PushResult("sent", status)
        if status in (404, 410):
            return PushResult("gone", status)
        if status == 429:
            return PushResult("retry", status, _retry_after(response.headers), "429 too many requests")
        if status >= 500:
            return PushResult("retry", status, _retry_after(response.headers), f"HTTP {status}")
        if status < 400:
            return PushResult("failed", status, reason=f"HTTP {status}: redirects are not followed")
        if status == 413:
            log.error("push service refused a payload as too large (%d bytes): a bug", len(data.encode()))
        else:
            log.warning("push service answered %d", status)
        return PushResult("failed", status, reason=f"HTTP {status}")


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
