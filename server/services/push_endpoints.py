"""Where pushes may go, and the devices' subscriptions (docs/api.md; issue 13).

A push endpoint is a push service's URL: ``https``, no user info, a host that
resolves only to public addresses (no loopback, private, shared, link-local,
unique-local, site-local, multicast, reserved or unspecified range, also
when written as an IPv4-mapped, NAT64 or 6to4 IPv6 address). An operator may
name push services beyond that rule (``PUSH_ALLOWED_ORIGINS``: a closed
network's own, the tests' local one); nothing else relaxes it.

The rule is checked when a device subscribes (``check_endpoint``) and again
before each send and when its connection is made (``server.clock.push``): DNS
answers change, and a subscription may have been stored before the rule.
Redirects are never followed. The keys are checked when a device subscribes:
``p256dh`` an uncompressed P-256 point, ``auth`` 16 bytes, both base64url.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import re
import socket
from datetime import datetime
from typing import Iterable
from urllib.parse import urlsplit

from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from ..models import PushSubscription, User
from .errors import InvalidInput, NotFound

DEFAULT_PORTS = {"https": 443, "http": 80}
#: NAT64's well-known prefix (RFC 6052): the address it stands for is the IPv4 in its last 32 bits
NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
#: whitespace and control characters: ``urlsplit`` silently drops some of them (tab, newline)
_UNPRINTABLE = re.compile(r"[\x00-\x20\x7f-\x9f]")
_BASE64URL = re.compile(r"^[A-Za-z0-9_-]+={0,2}$")
_LABEL = re.compile(r"^[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?$")


class RefusedEndpoint(ValueError):
    """Not a push service this server sends to; ``reason`` says why without quoting the URL."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


# --- origins ---------------------------------------------------------------------------


def _host_for_url(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def origin_of(url: str) -> str:
    """``scheme://host[:port]``, lower case, the port left out when it is the scheme's default.

    Raises RefusedEndpoint for a URL without scheme or host, or with a port that cannot be.
    """
    parts = urlsplit(url)
    scheme, host = parts.scheme.lower(), (parts.hostname or "").rstrip(".")
    if scheme not in DEFAULT_PORTS or not host:
        raise RefusedEndpoint("not an http(s) URL with a host")
    try:
        port = parts.port
    except ValueError:
        raise RefusedEndpoint("the port is not a port number") from None
    if port == 0:
        raise RefusedEndpoint("the port is not a port number")
    shown = "" if port in (None, DEFAULT_PORTS[scheme]) else f":{port}"
    return f"{scheme}://{_host_for_url(host)}{shown}"


def parse_origins(text: str) -> tuple[str, ...]:
    """The comma-separated origins of ALEMTRACK_PUSH_ALLOWED_ORIGINS, normalised (origin_of).

    Raises ValueError naming an entry that is not an origin (a path, user info, another scheme).
    """
    out = []
    for entry in (part.strip() for part in text.split(",")):
        if not entry:
            continue
        parts = urlsplit(entry)
        try:
            if parts.username is not None or parts.password is not None or parts.path not in ("", "/") \
                    or parts.query or parts.fragment:
                raise RefusedEndpoint("not an origin")
            out.append(origin_of(entry))
        except RefusedEndpoint:
            raise ValueError(f"{entry!r} is not an origin such as https://push.example.org:8443") from None
    return tuple(out)


def _allowed(origins: Iterable[str]) -> frozenset[str]:
    found = set()
    for origin in origins:
        try:
            found.add(origin_of(origin))
        except RefusedEndpoint:
            continue
    return frozenset(found)


# --- the rule --------------------------------------------------------------------------


def address_refusal(address: str) -> str | None:
    """Why this IP address is not one to push to, or None for a public address."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return "not an IP address"
    if isinstance(ip, ipaddress.IPv6Address):
        # Forms that stand for an IPv4 address are judged by that address.
        embedded = ip.ipv4_mapped or (ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF) if ip in NAT64 else None)
        if embedded is not None:
            return address_refusal(str(embedded))
        if ip.sixtofour is not None and address_refusal(str(ip.sixtofour)):
            return "a 6to4 form of a non-public address"
    for test, reason in (("is_unspecified", "the unspecified address"), ("is_loopback", "a loopback address"),
                         ("is_link_local", "a link-local address"), ("is_multicast", "a multicast address"),
                         ("is_private", "a private address"), ("is_reserved", "a reserved address"),
                         ("is_site_local", "a site-local address")):
        if getattr(ip, test, False):
            return reason
    if not ip.is_global:
        return "not a public address"
    return None


def check_form(endpoint: str, allowed_origins: Iterable[str] = ()) -> tuple[str, int, bool]:
    """The checks that need no network: ``(host, port, named)``, ``named`` when
    the endpoint is on an allowed origin (the address rule does not apply).

    Raises RefusedEndpoint.
    """
    if not isinstance(endpoint, str) or _UNPRINTABLE.search(endpoint):
        raise RefusedEndpoint("spaces or control characters in the URL")
    parts = urlsplit(endpoint)
    if "@" in parts.netloc or parts.username is not None or parts.password is not None:
        raise RefusedEndpoint("user info in the URL")
    origin = origin_of(endpoint)
    named = origin in _allowed(allowed_origins)
    if not named and parts.scheme.lower() != "https":
        raise RefusedEndpoint("not https")
    host = (parts.hostname or "").rstrip(".")
    port = parts.port or DEFAULT_PORTS[parts.scheme.lower()]
    if not named:
        _check_host(host)
    return host, port, named


def _check_host(host: str) -> None:
    """An IP literal must be public; a name must be a valid DNS name (labels of 1-63 characters)."""
    try:
        ipaddress.ip_address(host)
    except ValueError:
        pass
    else:
        reason = address_refusal(host)
        if reason:
            raise RefusedEndpoint(reason)
        return
    try:
        ascii_host = host.encode("idna").decode("ascii")
    except UnicodeError:
        raise RefusedEndpoint("not a valid host name") from None
    labels = ascii_host.lower().split(".")
    if len(ascii_host) > 253 or not all(_LABEL.match(label) for label in labels):
        raise RefusedEndpoint("not a valid host name")
    if labels[-1].isdigit() or all(label.isdigit() or label.startswith("0x") for label in labels):
        # 2130706433, 127.1, 0x7f.1: numeric forms an address parser would read as IPv4
        raise RefusedEndpoint("an address written as a number")


def resolve(host: str, port: int) -> list[str]:
    """The addresses ``host`` resolves to (socket.getaddrinfo); RefusedEndpoint when it does not resolve."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError, OSError):
        raise RefusedEndpoint("the host name does not resolve") from None
    return [info[4][0] for info in infos]


def addresses_refusal(addresses: Iterable[str]) -> str | None:
    """Why these resolved addresses are not all public, or None. No address at all is refused too."""
    addresses = list(addresses)
    if not addresses:
        return "the host name does not resolve"
    for address in addresses:
        reason = address_refusal(address)
        if reason:
            return f"the host resolves to {reason}"
    return None


def check_endpoint(endpoint: str, allowed_origins: Iterable[str] = ()) -> None:
    """The whole rule, resolving the host now (blocking). Raises RefusedEndpoint."""
    host, port, named = check_form(endpoint, allowed_origins)
    if named:
        return
    try:
        ipaddress.ip_address(host)
        return  # a literal: judged by check_form
    except ValueError:
        pass
    reason = addresses_refusal(resolve(host, port))
    if reason:
        raise RefusedEndpoint(reason)


# --- keys ------------------------------------------------------------------------------


def _base64url(text: str) -> bytes:
    if not isinstance(text, str) or not _BASE64URL.match(text):
        raise ValueError("not base64url")
    try:
        return base64.urlsafe_b64decode(text.rstrip("=") + "=" * (-len(text.rstrip("=")) % 4))
    except (binascii.Error, ValueError):
        raise ValueError("not base64url") from None


def check_keys(p256dh: str, auth: str) -> None:
    """Raises InvalidInput naming ``keys.p256dh`` or ``keys.auth`` when a key is not what browsers make."""
    try:
        point = _base64url(p256dh)
        if len(point) != 65 or point[0] != 0x04:
            raise ValueError("not an uncompressed point")
        ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), point)  # on the curve
    except ValueError:
        raise InvalidInput("keys.p256dh", "The p256dh key must be an uncompressed P-256 public key (65 bytes, "
                                          "base64url).") from None
    try:
        secret = _base64url(auth)
        if len(secret) != 16:
            raise ValueError("not 16 bytes")
    except ValueError:
        raise InvalidInput("keys.auth", "The auth secret must be 16 bytes, base64url.") from None


# --- subscriptions ---------------------------------------------------------------------


def subscribe(session: Session, user: User, endpoint: str, p256dh: str, auth: str, now: datetime,
              allowed_origins: Iterable[str] = ()) -> tuple[PushSubscription, bool]:
    """Register this device of ``user`` for push; returns (subscription, created).

    Refuses (InvalidInput) an endpoint that is not a push service (``endpoint``)
    and keys browsers do not make (``keys.p256dh``, ``keys.auth``), writing
    nothing. A known endpoint follows its new user: the same browser, perhaps
    another account now.
    """
    try:
        check_endpoint(endpoint, allowed_origins)
    except RefusedEndpoint as refused:
        raise InvalidInput("endpoint", f"The endpoint must be an https URL of a push service on a public "
                                       f"address ({refused.reason}).") from None
    check_keys(p256dh, auth)
    existing = session.scalar(select(PushSubscription).where(PushSubscription.endpoint == endpoint))
    if existing is not None:
        existing.user_id, existing.p256dh, existing.auth = user.id, p256dh, auth
        return existing, False
    subscription = PushSubscription(user_id=user.id, endpoint=endpoint, p256dh=p256dh, auth=auth, created_at=now)
    session.add(subscription)
    session.flush()
    return subscription, True


def unsubscribe(session: Session, user: User, endpoint: str) -> None:
    """Stop push to this device of ``user``; NotFound when she has no such device."""
    if not forget_device(session, user, endpoint):
        raise NotFound("This device is not subscribed.")


def forget_device(session: Session, user: User, endpoint: object) -> bool:
    """Remove ``user``'s subscription at ``endpoint`` (logging out on that device); True if there was one.

    Anything that is not a string names no device: logging out never fails on it.
    """
    if not isinstance(endpoint, str) or not endpoint:
        return False
    table = PushSubscription.__table__
    result = session.execute(delete(table).where(table.c.endpoint == endpoint, table.c.user_id == user.id))
    return bool(result.rowcount)
