"""Clock tests: a local push service, devices, a fake DNS, and ticks at chosen instants."""

from __future__ import annotations

import ipaddress
import socket
from datetime import datetime, timezone

import pytest
from sqlalchemy import text

from server.clock.push import Pusher, generate_keys
from server.db import make_engine
from server.migrations import upgrade
from server.models import PushSubscription

from ..api.conftest import make_world  # noqa: F401  (the same small world)
from ..conftest import POSTGRES_URL
from ..push_service import PushService

SUBJECT = "mailto:clinic@example.org"
#: public addresses the fake DNS gives push services (documentation ranges are not public)
PUBLIC_V4 = "142.250.74.10"
PUBLIC_V6 = "2a00:1450:4007:80c::200a"


@pytest.fixture(scope="session")
def vapid_pem(tmp_path_factory) -> str:
    folder = tmp_path_factory.mktemp("vapid")
    generate_keys(folder)
    return (folder / "vapid_private.pem").read_text()


@pytest.fixture
def push_service():
    service = PushService(subject=SUBJECT).start()
    yield service
    service.stop()


@pytest.fixture
def pusher(vapid_pem, push_service) -> Pusher:
    """A pusher for which the local push service is a named one (as PUSH_ALLOWED_ORIGINS makes it).
    Its timeout leaves a healthy push time on a loaded machine; a stalled one (8 s) always meets it."""
    return Pusher(vapid_pem, SUBJECT, timeout=3, allowed_origins=(push_service.origin,))


@pytest.fixture
def allow_push_service(app, push_service):
    """The app accepts subscriptions on the local push service, as an operator's setting would."""
    app.config["PUSH_ALLOWED_ORIGINS"] = (push_service.origin,)


@pytest.fixture
def world(app, db):
    return make_world(db, app.config)


@pytest.fixture
def subscribe(db, push_service):
    """``subscribe(user, name)``: a device of this user, registered as the API would."""

    def make(user, name: str) -> PushSubscription:
        device = push_service.device(name)
        subscription = PushSubscription(user_id=user.id, endpoint=push_service.endpoint(name), p256dh=device.p256dh,
                                        auth=device.auth, created_at=datetime.now(timezone.utc))
        db.add(subscription)
        db.commit()
        return subscription

    return make


class FakeDNS:
    """Names the tests resolve, so that no test asks a real DNS server.

    ``names[host]`` is the list of addresses, or a function returning it (a
    name whose answer changes between lookups); IP literals and ``localhost``
    resolve as usual; any other name does not exist. ``lookups`` counts the
    questions asked per name.
    """

    def __init__(self, real):
        self.real = real
        self.names: dict[str, object] = {}
        self.lookups: dict[str, int] = {}

    def __call__(self, host, port, family=0, type=0, proto=0, flags=0):
        name = host.decode() if isinstance(host, bytes) else host
        if name is None or name == "localhost":
            return self.real(host, port, family, type, proto, flags)
        try:
            ipaddress.ip_address(name.split("%")[0])
            return self.real(host, port, family, type, proto, flags | socket.AI_NUMERICHOST)
        except ValueError:
            pass
        self.lookups[name] = self.lookups.get(name, 0) + 1
        answer = self.names.get(name.lower().rstrip("."))
        if callable(answer):
            answer = answer()
        if not answer:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        port_number = int(port) if port is not None and str(port).isdigit() else 0
        out = []
        for address in answer:
            ip = ipaddress.ip_address(address)
            if ip.version == 6:
                if family not in (0, socket.AF_INET6, socket.AF_UNSPEC):
                    continue
                out.append((socket.AF_INET6, socket.SOCK_STREAM, socket.IPPROTO_TCP, "",
                            (address, port_number, 0, 0)))
            else:
                if family not in (0, socket.AF_INET, socket.AF_UNSPEC):
                    continue
                out.append((socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (address, port_number)))
        if not out:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return out


@pytest.fixture(autouse=True)
def dns(monkeypatch) -> FakeDNS:
    fake = FakeDNS(socket.getaddrinfo)
    fake.names["push.example.net"] = [PUBLIC_V4, PUBLIC_V6]
    monkeypatch.setattr(socket, "getaddrinfo", fake)
    return fake


@pytest.fixture(params=["sqlite", "postgresql"] if POSTGRES_URL else ["sqlite"])
def database_url(request, tmp_path):
    """A committed database of its own: clock processes cannot see a test's transaction.

    On PostgreSQL it is named after the test database (``<name>_clock``), so
    that runs against different test databases do not drop each other's.
    """
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'clock.sqlite'}"
    else:
        base, name = POSTGRES_URL.rsplit("/", 1)
        name = f"{name.split('?')[0]}_clock"
        admin = make_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        url = f"{base}/{name}"
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    return url
