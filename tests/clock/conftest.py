"""Clock tests: a local push service, devices, and ticks at chosen instants."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from server.push import Pusher, generate_keys
from server.models import PushSubscription

from ..api.conftest import make_world  # noqa: F401  (the same small world)
from ..push_service import PushService

SUBJECT = "mailto:clinic@example.org"


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
def pusher(vapid_pem) -> Pusher:
    return Pusher(vapid_pem, SUBJECT, timeout=0.5)


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
