"""A local Web Push service for the tests: a small HTTP server on 127.0.0.1.

It does what a real push service does with a message, and checks it on the
way: verifies the VAPID JWT (ES256 over the key in ``k=``; aud, exp, sub),
decrypts the aes128gcm body (RFC 8291) with the subscription's private key,
and keeps what arrived. Each subscription can be given a script of answers:
201, 404, 410, 413, 429 with Retry-After, 500, a redirect, a stall past the
client's timeout, or a connection reset. Messages carry a Topic: ``visible()``
collapses them per topic as a device does with notification tags. ``hits``
lists every request's device name in order, whatever was answered (a
redirect followed would show up there).

Its origin (plain HTTP on 127.0.0.1) is outside the rule for push services:
tests name it in PUSH_ALLOWED_ORIGINS (ALEMTRACK_PUSH_ALLOWED_ORIGINS), as an
operator names a push service of a closed network.
"""

from __future__ import annotations

import base64
import json
import os
import socket
import struct
import threading
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import http_ece
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@dataclass
class Device:
    """A browser's subscription: the private half stays here, like on a phone."""

    name: str
    private_key: ec.EllipticCurvePrivateKey = field(default_factory=lambda: ec.generate_private_key(ec.SECP256R1()))
    auth_secret: bytes = field(default_factory=lambda: os.urandom(16))

    @property
    def p256dh(self) -> str:
        return b64url(self.private_key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint))

    @property
    def auth(self) -> str:
        return b64url(self.auth_secret)


@dataclass
class Message:
    device: str
    payload: dict[str, Any]
    ttl: int
    urgency: str | None
    topic: str | None
    claims: dict[str, Any]
    status: int


class PushService:
    def __init__(self, subject: str | None = None, clock=time.time):
        self.devices: dict[str, Device] = {}
        self.scripts: dict[str, deque] = defaultdict(deque)
        self.received: list[Message] = []
        self.hits: list[str] = []
        self.problems: list[str] = []
        self.subject = subject
        #: what "now" is for the exp check (tests that tick at a chosen instant pass theirs)
        self.clock = clock
        self.stall_seconds = 8.0  # well past every client timeout the tests set
        self.delay_seconds = 0.0
        self.lock = threading.Lock()
        service = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # quiet
                pass

            def do_POST(self):
                service.handle(self)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def start(self) -> "PushService":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def device(self, name: str) -> Device:
        self.devices[name] = Device(name)
        return self.devices[name]

    def endpoint(self, name: str) -> str:
        return f"{self.origin}/push/{name}"

    def subscription_json(self, name: str) -> dict[str, Any]:
        device = self.devices[name]
        return {"endpoint": self.endpoint(name), "keys": {"p256dh": device.p256dh, "auth": device.auth}}

    def script(self, name: str, *answers) -> None:
        """Answers for the next messages to ``name``: 201, 404, 410, 413, 500, (429, seconds), "stall",
        "reset" (the connection is reset, nothing answered) or ("redirect", status, location)."""
        self.scripts[name].extend(answers)

    def for_device(self, name: str) -> list[Message]:
        return [m for m in self.received if m.device == name]

    def visible(self) -> dict[tuple[str, str], Message]:
        """What devices show: per (device, topic) the latest message (tags replace)."""
        return {(m.device, m.topic): m for m in self.received if m.status < 300}

    # --- the server side ---------------------------------------------------------------

    def handle(self, request: BaseHTTPRequestHandler) -> None:
        name = request.path.rsplit("/", 1)[-1]
        length = int(request.headers.get("Content-Length", "0"))
        body = request.rfile.read(length)
        if len(body) < length:
            return  # the sender died mid-request (a killed clock): nothing arrived
        with self.lock:
            self.hits.append(name)
            answer = self.scripts[name].popleft() if self.scripts[name] else 201
        if answer == "reset":
            # SO_LINGER 0: closing sends a TCP RST instead of a FIN.
            request.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            request.close_connection = True
            request.connection.close()
            return
        location = None
        if isinstance(answer, tuple) and answer[0] == "redirect":
            _, answer, location = answer
        if answer == "stall":
            time.sleep(self.stall_seconds)
            answer = 201
        elif self.delay_seconds:
            time.sleep(self.delay_seconds)
        status, retry_after = (answer if isinstance(answer, tuple) else (answer, None))
        device = self.devices.get(name)
        if device is None:
            status = 404
        message = None
        if status < 300:
            try:
                claims = self.verify_vapid(request.headers.get("Authorization", ""))
                payload = json.loads(http_ece.decrypt(body, private_key=device.private_key,
                                                      auth_secret=device.auth_secret, version="aes128gcm"))
                message = Message(name, payload, int(request.headers.get("TTL", "-1")),
                                  request.headers.get("Urgency"), request.headers.get("Topic"), claims, status)
            except Exception as exc:  # the test reads problems: a bad message is a failure
                with self.lock:
                    self.problems.append(f"{name}: {type(exc).__name__}: {exc}")
                status = 400
        if message is not None:
            with self.lock:
                self.received.append(message)
        try:
            request.send_response(status)
            if retry_after is not None:
                request.send_header("Retry-After", str(retry_after))
            if location is not None:
                request.send_header("Location", location)
            request.send_header("Content-Length", "0")
            request.end_headers()
        except (BrokenPipeError, ConnectionResetError):
            pass  # the sender died (a killed clock): the message counts as received

    def verify_vapid(self, header: str) -> dict[str, Any]:
        scheme, _, params = header.partition(" ")
        if scheme != "vapid":
            raise ValueError(f"Authorization scheme {scheme!r}, expected vapid")
        values = dict(part.strip().split("=", 1) for part in params.split(","))
        token, key = values["t"], values["k"]
        head, payload, signature = token.split(".")
        public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), b64url_decode(key))
        raw = b64url_decode(signature)
        der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
        public.verify(der, f"{head}.{payload}".encode(), ec.ECDSA(hashes.SHA256()))
        if json.loads(b64url_decode(head)).get("alg") != "ES256":
            raise ValueError("JWT alg is not ES256")
        claims = json.loads(b64url_decode(payload))
        if claims.get("aud") != self.origin:
            raise ValueError(f"aud {claims.get('aud')!r} is not {self.origin}")
        now = self.clock()
        if not now < claims.get("exp", 0) <= now + 24 * 3600:
            raise ValueError(f"exp {claims.get('exp')} not within 24 h")
        if self.subject is not None and claims.get("sub") != self.subject:
            raise ValueError(f"sub {claims.get('sub')!r} is not {self.subject!r}")
        return claims
