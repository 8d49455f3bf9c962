"""Push subscriptions, the VAPID key and the care team's delivery view through the API.

A subscription is accepted only for a push service: an ``https`` endpoint
without user info whose host resolves only to public addresses, or one on an
origin the operator named (PUSH_ALLOWED_ORIGINS), with keys that are a P-256
point and a 16-byte secret (issue 13, point 2). The names resolve through the
fake DNS of conftest.py.
"""

from __future__ import annotations

import base64
from datetime import datetime, timezone

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy import func, select

from server.clock.push import application_server_key
from server.models import PushSubscription

from ..api.conftest import Client
from ..push_service import Device, b64url
from .conftest import PUBLIC_V4

DEVICE = Device("phone")
SUBSCRIPTION = {"endpoint": "https://push.example.net/send/abc123",
                "keys": {"p256dh": DEVICE.p256dh, "auth": DEVICE.auth}}


def login(app, world, role):
    client = Client(app)
    assert client.login(world.users[role].email).status_code == 200
    return client


def subscriptions(db) -> int:
    return db.scalar(select(func.count(PushSubscription.id)))


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


# --- where pushes may go -------------------------------------------------------------

#: name -> addresses of the fake DNS for the refused cases below
NAMES = {
    "loopback.example.net": ["127.0.0.1"],
    "loopback6.example.net": ["::1"],
    "private.example.net": ["10.1.2.3"],
    "mixed.example.net": [PUBLIC_V4, "192.168.0.10"],  # one private answer is enough to refuse
    "mapped.example.net": ["::ffff:127.0.0.1"],
    "linklocal.example.net": ["fe80::1"],
    "ula.example.net": ["fd12:3456::1"],
    "metadata.example.net": ["169.254.169.254"],
}

REFUSED_ENDPOINTS = [
    "http://push.example.net/send/abc",             # not https
    "ftp://push.example.net/send/abc",
    "//push.example.net/send/abc",
    "push.example.net/send/abc",
    "https:///send/abc",                            # no host
    "https://user:secret@push.example.net/send/a",  # user info
    "https://user@push.example.net/send/abc",
    "https://push.example.net:99999/send/abc",      # no such port
    "https://push.example.net:0/send/abc",
    "https://push.exa mple.net/send/abc",
    "https://push.example.net\t/send/abc",
    "https://" + "a" * 64 + ".example.net/send/abc",  # a label over 63 characters
    "https://nowhere.example.net/send/abc",         # does not resolve
    # addresses, written as such
    "https://127.0.0.1/send/abc",
    "https://127.0.0.1:5432/",
    "https://[::1]:8443/send/abc",
    "https://10.0.0.1/send/abc",
    "https://172.16.0.1/send/abc",
    "https://192.168.1.1/send/abc",
    "https://100.64.0.1/send/abc",                  # shared address space (carrier NAT)
    "https://169.254.169.254/latest/meta-data/",
    "https://[fe80::1]/send/abc",
    "https://[fe80::1%25eth0]/send/abc",
    "https://[fc00::1]/send/abc",
    "https://[fd00:ec2::254]/send/abc",
    "https://[fec0::1]/send/abc",                   # site-local
    "https://224.0.0.1/send/abc",                   # multicast
    "https://[ff02::1]/send/abc",
    "https://0.0.0.0/send/abc",                     # unspecified
    "https://[::]/send/abc",
    "https://[::ffff:127.0.0.1]/send/abc",          # IPv4-mapped forms
    "https://[::ffff:7f00:1]/send/abc",
    "https://[::ffff:10.0.0.1]/send/abc",
    "https://[::ffff:169.254.169.254]/send/abc",
    "https://[::127.0.0.1]/send/abc",               # IPv4-compatible (deprecated)
    "https://[64:ff9b::7f00:1]/send/abc",           # NAT64 of loopback
    "https://[2002:7f00:1::1]/send/abc",            # 6to4 of loopback
    "https://[2002:a00:1::1]/send/abc",             # 6to4 of 10.0.0.1
    "https://[2001:db8::1]/send/abc",               # documentation
    "https://2130706433/send/abc",                  # 127.0.0.1 written as a number
    "https://0x7f.1/send/abc",
    "https://127.1/send/abc",
    "https://localhost/send/abc",
    "http://localhost:6379/",
    # names that resolve to refused addresses
    *[f"https://{name}/send/abc" for name in NAMES],
]


@pytest.mark.parametrize("endpoint", REFUSED_ENDPOINTS)
def test_an_endpoint_that_is_not_a_public_push_service_is_refused(app, db, world, dns, endpoint):
    dns.names.update(NAMES)
    client = login(app, world, "patient")
    response = client.post("/api/v1/push/subscriptions", json={**SUBSCRIPTION, "endpoint": endpoint})
    assert response.status_code == 400, response.json
    assert response.json["error"]["field"] == "endpoint"
    assert subscriptions(db) == 0


@pytest.mark.parametrize("endpoint", ["https://push.example.net/send/abc", "https://PUSH.Example.NET:443/send/abc",
                                      "https://push.example.net./send/abc", f"https://{PUBLIC_V4}/send/abc",
                                      "https://[2a00:1450:4007:80c::200a]/send/abc"])
def test_a_public_push_service_is_accepted(app, db, world, endpoint):
    client = login(app, world, "patient")
    response = client.post("/api/v1/push/subscriptions", json={**SUBSCRIPTION, "endpoint": endpoint})
    assert response.status_code == 201, response.json
    assert subscriptions(db) == 1


def test_an_allowed_origin_is_accepted_beyond_the_rule_and_only_it(app, db, world, push_service, allow_push_service):
    client = login(app, world, "patient")
    device = push_service.device("phone")
    response = client.post("/api/v1/push/subscriptions", json=push_service.subscription_json("phone"))
    assert response.status_code == 201, response.json
    port = int(push_service.origin.rsplit(":", 1)[1])
    for endpoint in (f"http://127.0.0.1:{port + 1}/push/phone",        # another port
                     f"https://127.0.0.1:{port}/push/phone",           # another scheme
                     f"http://user@127.0.0.1:{port}/push/phone"):      # user info is never accepted
        response = client.post("/api/v1/push/subscriptions",
                               json={"endpoint": endpoint, "keys": {"p256dh": device.p256dh, "auth": device.auth}})
        assert response.status_code == 400 and response.json["error"]["field"] == "endpoint", endpoint
    assert subscriptions(db) == 1


def test_the_allowed_origins_setting_is_read_from_the_environment():
    from server.config import ConfigError, load_config

    config = load_config({"SECRET_KEY": "x", "ALEMTRACK_PUSH_ALLOWED_ORIGINS":
                          " http://127.0.0.1:8765 , https://Push.Internal.example:8443"})
    assert config["PUSH_ALLOWED_ORIGINS"] == ("http://127.0.0.1:8765", "https://push.internal.example:8443")
    assert load_config({"SECRET_KEY": "x"})["PUSH_ALLOWED_ORIGINS"] == ()
    for bad in ("127.0.0.1:8765", "http://127.0.0.1:8765/push", "http://user@127.0.0.1:8765", "ftp://x.example"):
        with pytest.raises(ConfigError, match="ALEMTRACK_PUSH_ALLOWED_ORIGINS"):
            load_config({"SECRET_KEY": "x", "ALEMTRACK_PUSH_ALLOWED_ORIGINS": bad})


# --- keys ------------------------------------------------------------------------------


def _point(compressed: bool = False) -> bytes:
    key = ec.generate_private_key(ec.SECP256R1()).public_key()
    return key.public_bytes(serialization.Encoding.X962, serialization.PublicFormat.CompressedPoint if compressed
                            else serialization.PublicFormat.UncompressedPoint)


BAD_KEYS = [
    ("keys.p256dh", {"p256dh": "B" + "x" * 86}),                       # 65 bytes, not a point
    ("keys.p256dh", {"p256dh": b64url(b"\x04" + b"\x01" * 64)}),       # the right shape, off the curve
    ("keys.p256dh", {"p256dh": b64url(_point(compressed=True))}),      # compressed: browsers send uncompressed
    ("keys.p256dh", {"p256dh": b64url(b"\x05" + _point()[1:])}),       # wrong prefix
    ("keys.p256dh", {"p256dh": b64url(_point()[:64])}),                # 64 bytes
    ("keys.p256dh", {"p256dh": b64url(_point() + b"\x00")}),           # 66 bytes
    ("keys.p256dh", {"p256dh": DEVICE.p256dh[:-1] + "*"}),             # not base64url
    ("keys.p256dh", {"p256dh": base64.b64encode(b"\xfb" * 65).decode()}),  # standard base64 ("+", "/")
    ("keys.auth", {"auth": b64url(b"a" * 15)}),
    ("keys.auth", {"auth": b64url(b"a" * 17)}),
    ("keys.auth", {"auth": b64url(b"a" * 32)}),
    ("keys.auth", {"auth": "!" * 22}),
    ("keys.auth", {"auth": base64.b64encode(b"\xfb" * 16).decode()}),
]


@pytest.mark.parametrize(("field", "keys"), BAD_KEYS, ids=[f"{f}-{i}" for i, (f, _) in enumerate(BAD_KEYS)])
def test_keys_that_are_not_a_p256_point_and_a_16_byte_secret_are_refused(app, db, world, field, keys):
    client = login(app, world, "patient")
    response = client.post("/api/v1/push/subscriptions",
                           json={**SUBSCRIPTION, "keys": {**SUBSCRIPTION["keys"], **keys}})
    assert response.status_code == 400, response.json
    assert response.json["error"]["field"] == field
    assert subscriptions(db) == 0


def test_padded_base64url_keys_are_accepted(app, db, world):
    client = login(app, world, "patient")
    keys = {"p256dh": DEVICE.p256dh + "=", "auth": DEVICE.auth + "=="}
    assert client.post("/api/v1/push/subscriptions", json={**SUBSCRIPTION, "keys": keys}).status_code == 201


def test_bad_keys_for_a_known_endpoint_change_nothing(app, db, world):
    client = login(app, world, "patient")
    assert client.post("/api/v1/push/subscriptions", json=SUBSCRIPTION).status_code == 201
    other = login(app, world, "other_patient")
    response = other.post("/api/v1/push/subscriptions", json={**SUBSCRIPTION, "keys": {"p256dh": "B" + "x" * 86,
                                                                                   "auth": DEVICE.auth}})
    assert response.status_code == 400
    db.expire_all()
    row = db.scalar(select(PushSubscription))
    assert (row.user_id, row.p256dh) == (world.users["patient"].id, DEVICE.p256dh)


# --- logging out ---------------------------------------------------------------------


def test_logging_out_on_a_device_removes_that_devices_subscription(app, db, world):
    phone = login(app, world, "patient")
    laptop = login(app, world, "patient")
    brother = login(app, world, "family")
    endpoints = {name: f"https://push.example.net/send/{name}" for name in ("phone", "laptop", "brother")}
    for client, name in ((phone, "phone"), (laptop, "laptop"), (brother, "brother")):
        assert client.post("/api/v1/push/subscriptions",
                           json={**SUBSCRIPTION, "endpoint": endpoints[name]}).status_code == 201
    # Someone else's device is not this logout's to remove.
    assert brother.post("/api/v1/auth/logout", json={"endpoint": endpoints["phone"]}).status_code == 204
    assert phone.post("/api/v1/auth/logout", json={"endpoint": endpoints["phone"]}).status_code == 204
    left = set(db.scalars(select(PushSubscription.endpoint)))
    assert left == {endpoints["laptop"], endpoints["brother"]}


@pytest.mark.parametrize("body", [None, {}, {"endpoint": 5}, {"endpoint": None}, ["x"]])
def test_logging_out_without_an_endpoint_still_logs_out(app, db, world, body):
    client = login(app, world, "patient")
    assert client.post("/api/v1/push/subscriptions", json=SUBSCRIPTION).status_code == 201
    response = client.post("/api/v1/auth/logout", json=body) if body is not None else \
        client.post("/api/v1/auth/logout")
    assert response.status_code == 204
    assert client.get("/api/v1/me").status_code == 401
    assert subscriptions(db) == 1


# --- the delivery view ---------------------------------------------------------------


def test_the_delivery_view_shows_who_cannot_be_reached(app, db, world):
    db.add(PushSubscription(user_id=world.users["patient"].id, endpoint="https://push.example.net/p",
                            p256dh=DEVICE.p256dh, auth=DEVICE.auth, created_at=datetime.now(timezone.utc)))
    db.commit()
    nurse = login(app, world, "nurse")
    rows = {row["patient_id"]: row for row in nurse.get("/api/v1/delivery").json["items"]}
    assert rows[world.patient.id]["reachable"] is True and rows[world.patient.id]["push_devices"] == 1
    assert rows[world.other_patient.id]["reachable"] is False
    assert world.foreign_patient.id not in rows
