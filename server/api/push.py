from __future__ import annotations

from urllib.parse import urlsplit

from flask import current_app, request
from sqlalchemy import select

from .. import auth
from ..db import get_session
from ..errors import api_error
from ..models import PushSubscription
from ..push import application_server_key, load_private_key
from ..schemas import (
    CalendarFeedOut,
    DeliveryListOut,
    PageQuery,
    SubscriptionDeleteIn,
    SubscriptionIn,
    SubscriptionOut,
    VapidKeyOut,
)
from ..services import calendar, reminders
from ..services.patients import page_of_patients
from ..timeutil import utcnow
from . import bp, iso, sent_as_is

#: push services are HTTPS; plain HTTP only to this machine (tests, development)
LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")


def _check_endpoint(endpoint: str) -> None:
    parts = urlsplit(endpoint)
    if not parts.netloc or not (parts.scheme == "https" or (parts.scheme == "http" and parts.hostname in LOCAL_HOSTS)):
        raise api_error(400, "invalid_value", "The endpoint must be an https URL of a push service.", "endpoint")


@bp.get("/push/vapid-public-key")
@bp.output(VapidKeyOut)
@bp.doc(summary="The VAPID public key for PushManager.subscribe (applicationServerKey)", responses=[404])
def vapid_public_key():
    key = load_private_key(current_app.config)
    if key is None:
        raise api_error(404, "push_not_configured", "Web Push is not set up on this server.")
    return {"key": application_server_key(key)}


@bp.post("/push/subscriptions")
@bp.input(SubscriptionIn, arg_name="body")
@bp.output(SubscriptionOut, status_code=201)
@bp.doc(summary="Register this device for push (200 when already known)", responses=[400, 401, 403, 413])
def subscribe(body):
    user = auth.user()
    _check_endpoint(body["endpoint"])
    session = get_session()
    existing = session.scalar(select(PushSubscription).where(PushSubscription.endpoint == body["endpoint"]))
    if existing is not None:
        # The same browser, perhaps another account now: the device follows its user.
        existing.user_id = user.id
        existing.p256dh, existing.auth = body["keys"]["p256dh"], body["keys"]["auth"]
        session.commit()
        return {"id": existing.id}, 200
    subscription = PushSubscription(user_id=user.id, endpoint=body["endpoint"], p256dh=body["keys"]["p256dh"],
                                    auth=body["keys"]["auth"], created_at=utcnow())
    session.add(subscription)
    session.commit()
    return {"id": subscription.id}, 201


@bp.delete("/push/subscriptions")
@bp.input(SubscriptionDeleteIn, arg_name="body")
@bp.output({}, status_code=204)
@bp.doc(summary="Stop push to this device", responses=[400, 401, 403, 404])
def unsubscribe(body):
    user = auth.user()
    session = get_session()
    subscription = session.scalar(select(PushSubscription).where(PushSubscription.endpoint == body["endpoint"],
                                                                 PushSubscription.user_id == user.id))
    if subscription is None:
        raise api_error(404, "not_found", "This device is not subscribed.", "endpoint")
    session.delete(subscription)
    session.commit()
    return ""


@bp.post("/patients/<int:patient_id>/calendar-feed")
@bp.output(CalendarFeedOut, status_code=201)
@bp.doc(summary="A private calendar feed URL for this patient's reminders (shown once; replaces an older one)",
        responses=[401, 403, 404])
def create_calendar_feed(patient_id):
    who, patient = auth.patient_for(patient_id, ("patient", "family"), "calendar.create")
    session = get_session()
    token = calendar.create_feed(session, who, patient, utcnow())
    session.commit()
    path = f"/calendar/{token}.ics"
    return {"url": request.host_url.rstrip("/") + path, "path": path}, 201


@bp.delete("/patients/<int:patient_id>/calendar-feed")
@bp.output({}, status_code=204)
@bp.doc(summary="Revoke this user's calendar feed for the patient", responses=[401, 403, 404])
def revoke_calendar_feed(patient_id):
    who, patient = auth.patient_for(patient_id, ("patient", "family"), "calendar.revoke")
    session = get_session()
    if not calendar.revoke_feeds(session, who, patient, utcnow()):
        raise api_error(404, "not_found", "There is no calendar feed to revoke.")
    session.commit()
    return ""


@bp.get("/delivery")
@bp.input(PageQuery, location="query", arg_name="query")
@bp.output(DeliveryListOut)
@bp.doc(summary="Who can be reached: per patient, the last reminder delivered and the working channels",
        responses=[400, 401, 403])
def delivery_view(query):
    nurse = auth.require_role("nurse", "admin")
    session = get_session()
    page, per_page = query["page"], query["per_page"]
    patients, total = page_of_patients(session, nurse.clinic_id, page, per_page)
    overview = reminders.delivery_overview(session, nurse.clinic_id, [p.id for p in patients])
    items = [{"patient_id": p.id, "display_name": p.display_name,
              **{**overview[p.id], "last_delivered_at": iso(overview[p.id]["last_delivered_at"])}}
             for p in patients]
    auth.record_access(nurse, "delivery.list", None)
    session.commit()
    return sent_as_is({"items": items, "page": page, "per_page": per_page, "total": total})
