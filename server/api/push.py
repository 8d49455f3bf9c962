"""Reaching patients: Web Push subscriptions, calendar feeds and the delivery overview."""

from __future__ import annotations

from flask import current_app, request

from .. import auth
from ..clock.push import application_server_key, load_private_key
from ..db import get_session
from ..errors import api_error
from ..services import calendar, push_endpoints, reminders
from ..services.patients import page_of_patients
from ..timeutil import utcnow
from . import bp, iso, large_list
from .schemas import (
    CalendarFeedOut,
    DeliveryListOut,
    PageQuery,
    SubscriptionDeleteIn,
    SubscriptionIn,
    SubscriptionOut,
    VapidKeyOut,
)


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
@bp.doc(summary="Register this device for push (200 when already known); only push services on public "
                "addresses (or ALEMTRACK_PUSH_ALLOWED_ORIGINS)", responses=[400, 401, 403, 413])
def subscribe(body):
    user = auth.user()
    session = get_session()
    subscription, created = push_endpoints.subscribe(
        session, user, body["endpoint"], body["keys"]["p256dh"], body["keys"]["auth"], utcnow(),
        current_app.config["PUSH_ALLOWED_ORIGINS"])
    session.commit()
    return {"id": subscription.id}, 201 if created else 200


@bp.delete("/push/subscriptions")
@bp.input(SubscriptionDeleteIn, arg_name="body")
@bp.output({}, status_code=204)
@bp.doc(summary="Stop push to this device", responses=[400, 401, 403, 404])
def unsubscribe(body):
    user = auth.user()
    session = get_session()
    push_endpoints.unsubscribe(session, user, body["endpoint"])
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
    return large_list({"items": items, "page": page, "per_page": per_page, "total": total})
