"""Push subscriptions, the VAPID key and the care team's delivery view through the API."""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import select

from server.models import PushSubscription
from server.push import application_server_key

from ..api.conftest import Client

SUBSCRIPTION = {"endpoint": "https://push.example.net/send/abc123",
                "keys": {"p256dh": "B" + "x" * 86, "auth": "a" * 22}}


def login(app, world, role):
    client = Client(app)
    assert client.login(world.users[role].email).status_code == 200
    return client


def test_vapid_public_key(app, world, vapid_pem):
    assert app.test_client().get("/api/v1/push/vapid-public-key").status_code == 404  # not set up yet
    app.config["VAPID_PRIVATE_KEY"] = vapid_pem
    response = app.test_client().get("/api/v1/push/vapid-public-key")
    assert response.status_code == 200
    assert response.json["key"] == application_server_key(vapid_pem)
    assert len(response.json["key"]) == 87  # 65 bytes, base64url without padding


def test_subscribe_twice_then_unsubscribe(app, db, world):
    client = login(app, world, "patient")
    assert client.post("/api/v1/push/subscriptions", json=SUBSCRIPTION).status_code == 201
    assert client.post("/api/v1/push/subscriptions", json=SUBSCRIPTION).status_code == 200
    assert db.scalar(select(PushSubscription).where(PushSubscription.endpoint == SUBSCRIPTION["endpoint"])).user_id \
        == world.users["patient"].id
    other = login(app, world, "other_patient")
    assert other.delete("/api/v1/push/subscriptions", json={"endpoint": SUBSCRIPTION["endpoint"]}).status_code == 404
    assert client.delete("/api/v1/push/subscriptions", json={"endpoint": SUBSCRIPTION["endpoint"]}).status_code == 204
    assert db.scalar(select(PushSubscription)) is None


def test_a_plain_http_endpoint_elsewhere_is_refused(app, world):
    client = login(app, world, "patient")
    response = client.post("/api/v1/push/subscriptions",
                           json={**SUBSCRIPTION, "endpoint": "http://push.example.net/x/y"})
    assert response.status_code == 400 and response.json["error"]["field"] == "endpoint"


def test_the_delivery_view_shows_who_cannot_be_reached(app, db, world):
    db.add(PushSubscription(user_id=world.users["patient"].id, endpoint="https://push.example.net/p",
                            p256dh="B" + "x" * 86, auth="a" * 22, created_at=datetime.now(timezone.utc)))
    db.commit()
    nurse = login(app, world, "nurse")
    rows = {row["patient_id"]: row for row in nurse.get("/api/v1/delivery").json["items"]}
    assert rows[world.patient.id]["reachable"] is True and rows[world.patient.id]["push_devices"] == 1
    assert rows[world.other_patient.id]["reachable"] is False
    assert world.foreign_patient.id not in rows
