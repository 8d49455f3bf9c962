"""Who may call what: every route of the URL map, with every role of the world.

The expectations follow shared/API.md section 2 and shared/CLINICAL.md section 6:

* not logged in: 401;
* an object of another clinic or another patient (or a family member whose link
  is revoked): 404, never revealing that it exists;
* a visible object the role may not act on, or a route the role may not use: 403;
* otherwise the route's 2xx, with a valid request body.

ROUTES is the one table, keyed by (method, rule string of the URL map). A route of
the URL map that is not in it fails ``test_every_route_is_in_the_table`` (so no new
endpoint escapes this file), and so does an entry that matches no route. Each
(route, role) case is its own test: a fresh world, a fresh logged-in client and a
transaction rolled back afterwards, so that no state change leaks into the next case.

A case where the server answers against the specification is kept with the correct
expectation and marked ``xfail(strict=True, reason="server bug: ...")``.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Callable

import pytest
from sqlalchemy import select

from server.models import Checklist, FamilyLink, LabResult, LabSubmission, Patient, Pregnancy, PushSubscription, User
from server.services import accounts, calendar
from server.timeutil import utcnow

from .conftest import PASSWORD, ROLES, World, new_client_id, today_madrid

#: public endpoints, checked in test_public_endpoints_answer_anonymous
PUBLIC = {"openapi.spec", "docs.api_page"}
#: not part of the API (Flask's static files)
SKIPPED = {"static"} | PUBLIC
IGNORED_METHODS = {"HEAD", "OPTIONS"}


class Ctx:
    """What a table entry may use to build its URL arguments and body."""

    def __init__(self, app, db, world: World, role: str | None = None):
        self.app, self.db, self.world, self.role = app, db, world, role
        self._accountless = None
        self.token: str | None = None

    @property
    def pid(self) -> int:
        return self.world.patient.id

    def user_id(self, role: str) -> int:
        return self.world.users[role].id

    def family_code(self) -> str:
        """A fresh family invite code for the world's patient."""
        code, _ = accounts.issue_code(self.db, self.world.patient, "family", self.world.users["patient"], utcnow(),
                                      7)
        self.db.commit()
        return code

    def reset_code(self) -> str:
        """A fresh password reset code for the world's patient, as her nurse would give it."""
        from server.services import passwords

        code, _ = passwords.issue_for_patient(self.db, self.world.patient, self.world.users["nurse"], utcnow(),
                                              self.app.config)
        self.db.commit()
        return code

    def configure_push(self) -> None:
        """A VAPID key, as `vapid-keys` would give the server (tests have none)."""
        self.app.config["VAPID_PRIVATE_KEY"] = vapid_private_pem()

    def allow_push_service(self) -> None:
        """The test's push service (a name no DNS answers) is named by the operator (PUSH_ALLOWED_ORIGINS)."""
        self.app.config["PUSH_ALLOWED_ORIGINS"] = ("https://push.example.test",)

    def calendar_feeds(self) -> None:
        """A calendar feed of the world's patient for the patient and both family members; ``token`` is the
        patient's."""
        w = self.world
        for role in ("patient", "family", "revoked_family"):
            token = calendar.create_feed(self.db, w.users[role], w.patient, utcnow())
            if role == "patient":
                self.token = token
        self.db.commit()

    def push_subscription(self) -> None:
        """This case's user has this device subscribed (so that unsubscribing it answers 204)."""
        if self.role in self.world.users:
            self.db.add(PushSubscription(user_id=self.world.users[self.role].id, endpoint=KNOWN_ENDPOINT,
                                         p256dh=P256DH, auth=PUSH_AUTH))
            self.db.commit()

    def pregnancies(self) -> None:
        """A pregnancy reported for each of the world's patients (so that one can be corrected or removed)."""
        w = self.world
        for patient in (w.patient, w.other_patient, w.foreign_patient):
            patient.pregnancies.append(Pregnancy(reported_on=today_madrid() - timedelta(days=200)))
        self.db.commit()

    def lab_results(self) -> None:
        """A platelet result each of the world's patients entered herself (so that every role allowed to
        correct or withdraw one gets its 2xx); ``lab_result`` is the world's patient's."""
        w = self.world
        for patient in (w.patient, w.other_patient, w.foreign_patient):
            row = LabResult(patient_id=patient.id, analyte="platelets", value_num=95.0, unit="10^9/L",
                            value_as_recorded=95.0, unit_as_recorded="10^9/L",
                            taken_on=today_madrid() - timedelta(days=3), patient_reported=True)
            self.db.add(LabSubmission(patient_id=patient.id, client_id=new_client_id(),
                                      taken_on=row.taken_on, patient_reported=True, response={}, results=[row]))
            self.db.flush()
            patient.lab_result_id_for_tests = row.id  # a plain attribute: the id the table's calls use
        self.db.commit()

    def routine_checklist_id(self) -> int:
        """A routine checklist (a note only) of the world's patient: one on the list to read."""
        row = Checklist(patient_id=self.world.patient.id, client_id=new_client_id(), answered_on=today_madrid(),
                        period=90, answers={"thyroid.weight": False}, note="Tired.", level="routine",
                        reasons=["note"], response={})
        self.db.add(row)
        self.db.commit()
        return row.id

    def api_key_id(self) -> int:
        """A key of clinic A (so that its admin can revoke it)."""
        from server.services import api_keys
        row, _ = api_keys.create(self.db, self.world.users["admin"], "Lab A", utcnow())
        self.db.commit()
        return row.id

    def accountless_patient(self) -> Patient:
        """A patient of clinic A with no account yet (so an enrollment code can be issued), with the same
        family links as the world's patient: ``family`` active, ``revoked_family`` revoked."""
        if self._accountless is None:
            w = self.world
            p = Patient(clinic_id=w.clinic.id, display_name="Nora Noaccount", sex="female",
                        childbearing_potential=True, breastfeeding=False, timezone="Europe/Madrid", language="en",
                        baseline={"platelets": 250})
            self.db.add(p)
            self.db.flush()
            self.db.add(FamilyLink(patient_id=p.id, user_id=w.users["family"].id,
                                   shares=list(accounts.DEFAULT_FAMILY_SHARES)))
            self.db.add(FamilyLink(patient_id=p.id, user_id=w.users["revoked_family"].id,
                                   shares=list(accounts.DEFAULT_FAMILY_SHARES), revoked_at=utcnow()))
            self.db.commit()
            self._accountless = p
        return self._accountless


Check = Callable[[Ctx, str, Any], None]

KNOWN_ENDPOINT = "https://push.example.test/send/known-device-0001"
NEW_ENDPOINT = "https://push.example.test/send/new-device-0002"
P256DH = "BNcRdreALRFXTkOOUHK1EtK2wtaz5Ry4YfYCA_0QTpQtUbVlUls0VJXg7A8u-Ts1XbjhazAkj7I99e8QcYP7DkM"
PUSH_AUTH = "tBHItJI5svbpez7KI4CCXg"


@functools.lru_cache(maxsize=1)
def vapid_private_pem() -> str:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    key = ec.generate_private_key(ec.SECP256R1())
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


@dataclass(frozen=True)
class Route:
    expect: dict[str, int]
    args: Callable[[Ctx], dict[str, Any]] = lambda c: {}
    #: state the route needs before the call (after the world is built, before the body): setup(ctx)
    setup: Callable[[Ctx], None] | None = None
    body: Callable[[Ctx], Any] | None = None
    #: extra assertions on a 2xx answer: check(ctx, role, response)
    check: Check | None = None
    #: role -> reason, for cases where the server is known to answer against the specification
    bugs: dict[str, str] = field(default_factory=dict)
    #: the same, for every case of test_other_clinics_and_other_patients_objects_answer_404 on this route
    foreign_bug: str | None = None


def by_role(anonymous, patient, other_patient, family, revoked_family, nurse, other_nurse, admin) -> dict[str, int]:
    """Every role's expected status, in the column order of the table below (all required)."""
    return {"anonymous": anonymous, "patient": patient, "other_patient": other_patient, "family": family,
            "revoked_family": revoked_family, "nurse": nurse, "other_nurse": other_nurse, "admin": admin}


# --- extra checks on 2xx answers -----------------------------------------------------


def check_patient_record(ctx: Ctx, role: str, response) -> None:
    body = response.json
    assert body["id"] == ctx.pid
    assert body["display_name"] == "Patty Patient"
    if role == "family":  # API.md: family, name only
        assert "sex" not in body and "baseline" not in body, body
        assert set(body) <= {"id", "display_name"}, body
    else:
        assert body["sex"] == "female" and "baseline" in body
    # The warnings on planned courses are the care team's (CLINICAL.md 2.3)
    assert ("warnings" in body) is (role in ("nurse", "admin")), (role, sorted(body))


def check_timeline(ctx: Ctx, role: str, response) -> None:
    items = response.json["items"]
    assert items, "the world's patient has a timeline"
    kinds = {item["kind"] for item in items}
    shared = set(accounts.DEFAULT_FAMILY_SHARES)
    if role == "family":  # only the kinds the patient shares (CLINICAL.md 6)
        assert kinds <= shared, sorted(kinds - shared)
        # (v2, change 13) by default no kind that reveals a finding
        assert not kinds & {"lab", "screening", "precaution", "vaccine", "imaging"}, sorted(kinds)
    else:  # the others see more, so the family check above is not vacuous
        assert kinds - shared, sorted(kinds)
    # The warnings on planned courses are the care team's (CLINICAL.md 2.3)
    assert ("warnings" in response.json) is (role in ("nurse", "admin")), (role, sorted(response.json))


def check_own_clinic_patients(ctx: Ctx, role: str, response) -> None:
    ids = {p["id"] for p in response.json["items"]}
    w = ctx.world
    if role == "other_nurse":
        assert ids == {w.foreign_patient.id}
    else:
        assert ids == {w.patient.id, w.other_patient.id}


def check_own_clinic_flags(ctx: Ctx, role: str, response) -> None:
    ids = {f["id"] for f in response.json["items"]}
    w = ctx.world
    assert ids == ({w.foreign_flag.id} if role == "other_nurse" else {w.flag.id})


def check_own_clinic_queue(ctx: Ctx, role: str, response) -> None:
    w = ctx.world
    groups = response.json["items"]
    assert {g["patient_id"] for g in groups} == ({w.foreign_patient.id} if role == "other_nurse" else {w.patient.id})
    assert {f["id"] for g in groups for f in g["flags"]} == (
        {w.foreign_flag.id} if role == "other_nurse" else {w.flag.id})


def check_own_clinic(ctx: Ctx, role: str, response) -> None:
    w = ctx.world
    assert response.json["id"] == (w.other_clinic.id if role == "other_nurse" else w.clinic.id)


def check_delivery(ctx: Ctx, role: str, response) -> None:
    ids = {p["patient_id"] for p in response.json["items"]}
    w = ctx.world
    assert ids == ({w.foreign_patient.id} if role == "other_nurse" else {w.patient.id, w.other_patient.id})


def check_calendar(ctx: Ctx, role: str, response) -> None:
    assert response.mimetype == "text/calendar"
    assert b"BEGIN:VEVENT" in response.data


def check_vapid_key(ctx: Ctx, role: str, response) -> None:
    from server.clock.push import application_server_key

    assert response.json == {"key": application_server_key(vapid_private_pem())}


def check_app_shell(ctx: Ctx, role: str, response) -> None:
    assert response.mimetype == "text/html" and b'rel="manifest"' in response.data


def check_worker(ctx: Ctx, role: str, response) -> None:
    assert response.mimetype in ("text/javascript", "application/javascript")
    assert response.headers["Cache-Control"] == "no-cache"


def check_texts(ctx: Ctx, role: str, response) -> None:
    assert response.json["language"] == "en" and "diet.listeria" in response.json["items"]


def check_fhir_questionnaire(ctx: Ctx, role: str, response) -> None:
    assert response.mimetype == "application/fhir+json"
    assert response.json["resourceType"] == "Questionnaire" and response.json["id"] == "ms-monthly-checklist"


def check_fhir_questionnaire_cll(ctx: Ctx, role: str, response) -> None:
    assert response.mimetype == "application/fhir+json"
    assert response.json["resourceType"] == "Questionnaire" and response.json["id"] == "cll-checklist"


def check_protocol_sheet(ctx: Ctx, role: str, response) -> None:
    body = response.json
    assert body["protocol"] == "ms" and body["language"] == "en" and len(body["content_version"]) == 64
    assert any(row["cells"]["code"] == "diet.listeria" for row in body["sections"][0]["rows"])


def check_export(ctx: Ctx, role: str, response) -> None:
    assert response.json["patient"]["id"] == ctx.pid
    assert {"checklists", "lab_results", "flags", "family"} <= set(response.json)


def check_me(ctx: Ctx, role: str, response) -> None:
    assert response.json["id"] == ctx.user_id(role)


def check_erased(ctx: Ctx, role: str, response) -> None:
    assert ctx.db.scalar(select(User.id).where(User.id == ctx.user_id(role))) is None


# --- the table ----------------------------------------------------------------------

P = "/api/v1/patients/<int:patient_id>"
def patient_args(c: Ctx) -> dict[str, int]:
    return {"patient_id": c.pid}


def flag_args(c: Ctx) -> dict[str, int]:
    return {"flag_id": c.world.flag.id}


def course_args(c: Ctx) -> dict[str, int]:
    return {"patient_id": c.pid, "course_id": c.world.patient.courses[0].id}


def pregnancy_args(c: Ctx) -> dict[str, int]:
    return {"patient_id": c.pid, "pregnancy_id": c.world.patient.pregnancies[0].id}


def lab_args(c: Ctx) -> dict[str, int]:
    return {"patient_id": c.pid, "result_id": c.world.patient.lab_result_id_for_tests}

ROUTES: dict[tuple[str, str], Route] = {
    #                                          anon  pat  o_pat fam  rev_f nurse o_nur admin
    # --- liveness (server/api/health.py; not in API.md): public, no database
    ("GET", "/api/v1/health"): Route(by_role(200, 200, 200, 200, 200, 200, 200, 200)),
    # --- the app itself (server/web/pwa.py) and the clinical texts it shows: public, no patient data
    ("GET", "/"): Route(by_role(200, 200, 200, 200, 200, 200, 200, 200), check=check_app_shell),
    ("GET", "/<asset:filename>"): Route(by_role(200, 200, 200, 200, 200, 200, 200, 200),
                                       lambda c: {"filename": "sw.js"}, check=check_worker),
    ("GET", "/api/v1/content/texts"): Route(by_role(200, 200, 200, 200, 200, 200, 200, 200), check=check_texts),
    # the monthly checklist as a FHIR Questionnaire (server/api/fhir.py; issue 19): public, no patient data
    ("GET", "/api/v1/fhir/Questionnaire/ms-monthly-checklist"): Route(by_role(200, 200, 200, 200, 200, 200, 200, 200),
                                                                    check=check_fhir_questionnaire),
    # the CLL checklist at its own resource id (cll2)
    ("GET", "/api/v1/fhir/Questionnaire/cll-checklist"): Route(by_role(200, 200, 200, 200, 200, 200, 200, 200),
                                                             check=check_fhir_questionnaire_cll),
    # --- sessions and accounts
    ("GET", "/api/v1/auth/csrf"): Route(by_role(200, 200, 200, 200, 200, 200, 200, 200)),
    ("POST", "/api/v1/auth/login"): Route(
        by_role(200, 200, 200, 200, 200, 200, 200, 200),
        body=lambda c: {"email": c.world.users["patient"].email, "password": PASSWORD}),
    ("POST", "/api/v1/auth/logout"): Route(by_role(401, 204, 204, 204, 204, 204, 204, 204)),
    ("POST", "/api/v1/auth/register"): Route(
        by_role(201, 201, 201, 201, 201, 201, 201, 201),
        body=lambda c: {"code": c.family_code(), "email": "new.relative@a.test", "password": "a long new password"}),
    ("POST", "/api/v1/auth/password"): Route(
        by_role(401, 200, 200, 200, 200, 200, 200, 200),
        body=lambda c: {"current_password": PASSWORD, "new_password": "another long password"}),
    # a reset code is the key, whoever holds it (issue 16); forgot always answers 202 and tells nothing
    ("POST", "/api/v1/auth/reset"): Route(
        by_role(200, 200, 200, 200, 200, 200, 200, 200),
        body=lambda c: {"email": c.world.users["patient"].email, "code": c.reset_code(),
                        "password": "a long new password"}),
    ("POST", "/api/v1/auth/forgot"): Route(by_role(202, 202, 202, 202, 202, 202, 202, 202),
                                           body=lambda c: {"email": c.world.users["patient"].email}),
    ("GET", "/api/v1/me"): Route(by_role(401, 200, 200, 200, 200, 200, 200, 200), check=check_me),
    # erasure (GDPR Art. 17): a patient or family member, their own account; staff are disabled by an admin
    ("DELETE", "/api/v1/me"): Route(by_role(401, 204, 204, 204, 204, 403, 403, 403),
                                    body=lambda c: {"password": PASSWORD}, check=check_erased),
    # --- patients
    ("POST", "/api/v1/patients"): Route(
        by_role(401, 403, 403, 403, 403, 201, 201, 201),
        body=lambda c: {"display_name": "Newly Enrolled", "sex": "male", "childbearing_potential": False,
                        "breastfeeding": False, "timezone": "Europe/Madrid", "language": "es",
                        "baseline": {"platelets": 240, "creatinine": 80}}),
    ("GET", "/api/v1/patients"): Route(by_role(401, 403, 403, 403, 403, 200, 200, 200),
                                       check=check_own_clinic_patients),
    ("GET", P): Route(by_role(401, 200, 404, 200, 404, 200, 404, 200), patient_args, check=check_patient_record),
    ("PATCH", P): Route(
        by_role(401, 200, 404, 403, 404, 200, 404, 200), patient_args,
        # the two fields a patient may change herself, so every allowed role gets its 200
        body=lambda c: {"timezone": "Europe/Berlin", "language": "de"}),
    ("POST", P + "/enrollment-code"): Route(
        # the world's patient has an account (409), so this uses a patient of clinic A without one; the
        # role "patient" is then another patient (404). The patient on her own record: test below.
        by_role(401, 404, 404, 403, 404, 201, 404, 201),
        lambda c: {"patient_id": c.accountless_patient().id}),
    ("POST", P + "/password-reset"): Route(by_role(401, 403, 404, 403, 404, 201, 404, 201), patient_args),
    ("POST", P + "/courses"): Route(
        by_role(401, 403, 404, 403, 404, 201, 404, 201), patient_args,
        body=lambda c: {"infusions": [(today_madrid() + timedelta(days=300 + i)).isoformat() for i in range(3)],
                        "status": "planned"}),
    # a proposed CLL course (issue 20): the care team; the world's patient follows protocol ms, so 409
    ("POST", P + "/course-proposal"): Route(
        by_role(401, 403, 404, 403, 404, 409, 404, 409), patient_args,
        body=lambda c: {"start": (today_madrid() + timedelta(days=30)).isoformat(), "route": "iv"}),
    ("GET", P + "/timeline"): Route(by_role(401, 200, 404, 200, 404, 200, 404, 200), patient_args,
                                    check=check_timeline),
    # corrections of a wrong entry: the care team of her clinic (audited)
    ("PATCH", P + "/courses/<int:course_id>"): Route(
        by_role(401, 403, 404, 403, 404, 200, 404, 200), course_args,
        body=lambda c: {"infusions": [(today_madrid() - timedelta(days=120 - i)).isoformat() for i in range(3)]}),
    ("DELETE", P + "/courses/<int:course_id>"): Route(by_role(401, 403, 404, 403, 404, 204, 404, 204), course_args),
    ("PATCH", P + "/pregnancies/<int:pregnancy_id>"): Route(
        by_role(401, 403, 404, 403, 404, 200, 404, 200), pregnancy_args, setup=Ctx.pregnancies,
        body=lambda c: {"ended_on": today_madrid().isoformat()}),
    ("DELETE", P + "/pregnancies/<int:pregnancy_id>"): Route(
        by_role(401, 403, 404, 403, 404, 204, 404, 204), pregnancy_args, setup=Ctx.pregnancies),
    # corrections of a lab result (CLINICAL.md 6): the patient her own entries (this one is), her care team any
    ("PATCH", P + "/labs/<int:result_id>"): Route(
        by_role(401, 200, 404, 403, 404, 200, 404, 200), lab_args, setup=Ctx.lab_results,
        body=lambda c: {"value": 105, "reason": "typo"}),
    ("DELETE", P + "/labs/<int:result_id>"): Route(
        by_role(401, 204, 404, 403, 404, 204, 404, 204), lab_args, setup=Ctx.lab_results,
        body=lambda c: {"reason": "entered twice"}),
    # --- checklists
    ("GET", P + "/checklist"): Route(by_role(401, 200, 404, 403, 404, 403, 404, 403), patient_args),
    # her own data as JSON: the patient only (server/api/patients.py; CLINICAL.md 6 "exports own data");
    # format=fhir (the patient and her care team) is test_fhir_export.py's test_who_may_export_fhir
    ("GET", P + "/export"): Route(by_role(401, 200, 404, 403, 404, 403, 404, 403), patient_args, check=check_export),
    ("POST", P + "/checklists"): Route(
        by_role(401, 201, 404, 403, 404, 403, 404, 403), patient_args,
        body=lambda c: {"client_id": new_client_id(), "answered_on": today_madrid().isoformat(),
                        "answers": {"thyroid.weight": False, "bleed.mucosal": False}, "note": None}),
    ("GET", P + "/checklists"): Route(by_role(401, 200, 404, 403, 404, 200, 404, 200), patient_args),
    # --- labs
    ("POST", P + "/labs"): Route(
        by_role(401, 201, 404, 403, 404, 201, 404, 201), patient_args,
        body=lambda c: {"client_id": new_client_id(), "taken_on": today_madrid().isoformat(),
                        "results": [{"analyte": "platelets", "value": 240, "ref_low": None, "ref_high": None}]}),
    ("GET", P + "/labs"): Route(by_role(401, 200, 404, 403, 404, 200, 404, 200), patient_args),
    # --- family access
    ("POST", P + "/family-invites"): Route(by_role(401, 201, 404, 403, 404, 403, 404, 403), patient_args),
    ("GET", P + "/family"): Route(by_role(401, 200, 404, 403, 404, 403, 404, 403), patient_args),
    ("DELETE", P + "/family/<int:user_id>"): Route(
        by_role(401, 204, 404, 403, 404, 403, 404, 403),
        lambda c: {"patient_id": c.pid, "user_id": c.user_id("family")}),
    ("PUT", P + "/family/<int:user_id>/shares"): Route(
        by_role(401, 200, 404, 403, 404, 403, 404, 403),
        lambda c: {"patient_id": c.pid, "user_id": c.user_id("family")},
        body=lambda c: {"shares": ["appointment", "lab"]}),
    ("GET", P + "/family/me"): Route(by_role(401, 403, 404, 200, 404, 403, 404, 403), patient_args),
    # --- reminders: push, calendar feeds, delivery
    ("GET", "/api/v1/push/vapid-public-key"): Route(by_role(200, 200, 200, 200, 200, 200, 200, 200),
                                                    setup=Ctx.configure_push,
                                                    check=check_vapid_key),
    ("POST", "/api/v1/push/subscriptions"): Route(
        by_role(401, 201, 201, 201, 201, 201, 201, 201), setup=Ctx.allow_push_service,
        body=lambda c: {"endpoint": NEW_ENDPOINT, "keys": {"p256dh": P256DH, "auth": PUSH_AUTH}}),
    ("DELETE", "/api/v1/push/subscriptions"): Route(
        by_role(401, 204, 204, 204, 204, 204, 204, 204), setup=Ctx.push_subscription,
        body=lambda c: {"endpoint": KNOWN_ENDPOINT}),
    ("POST", P + "/calendar-feed"): Route(by_role(401, 201, 404, 201, 404, 403, 404, 403), patient_args),
    ("DELETE", P + "/calendar-feed"): Route(by_role(401, 204, 404, 204, 404, 403, 404, 403), patient_args,
                                            setup=Ctx.calendar_feeds),
    # the token is the credential (calendar apps send no cookie): whoever holds it gets the feed
    ("GET", "/calendar/<token>.ics"): Route(by_role(200, 200, 200, 200, 200, 200, 200, 200),
                                            lambda c: {"token": c.token}, setup=Ctx.calendar_feeds,
                                            check=check_calendar),
    ("GET", "/api/v1/delivery"): Route(by_role(401, 403, 403, 403, 403, 200, 200, 200), check=check_delivery),
    # --- flags and snoozes
    ("GET", "/api/v1/flags"): Route(by_role(401, 403, 403, 403, 403, 200, 200, 200), check=check_own_clinic_flags),
    ("POST", "/api/v1/flags/<int:flag_id>/ack"): Route(by_role(401, 403, 403, 403, 403, 200, 404, 200), flag_args),
    ("POST", "/api/v1/flags/<int:flag_id>/resolve"): Route(
        by_role(401, 403, 403, 403, 403, 200, 404, 200), flag_args,
        body=lambda c: {"outcome": "called_patient", "note": "Spoke to her; labs ordered."}),
    ("POST", P + "/snoozes"): Route(
        by_role(401, 403, 404, 403, 404, 201, 404, 201), patient_args,
        body=lambda c: {"code": "thyroid.weight", "until": (today_madrid() + timedelta(days=14)).isoformat(),
                        "reason": "thyroid disease under treatment"}),
    ("GET", P + "/snoozes"): Route(by_role(401, 403, 404, 403, 404, 200, 404, 200), patient_args),
    # --- the nurse's workspace (issue 17): the queue per patient, resolved flags, checklists to read
    ("GET", "/api/v1/flags/queue"): Route(by_role(401, 403, 403, 403, 403, 200, 200, 200),
                                          check=lambda c, role, r: check_own_clinic_queue(c, role, r)),
    ("GET", "/api/v1/flags/resolved"): Route(by_role(401, 403, 403, 403, 403, 200, 200, 200)),
    ("GET", "/api/v1/checklists/to-read"): Route(by_role(401, 403, 403, 403, 403, 200, 200, 200)),
    # a read mark on a routine checklist (tidy): the care team of her clinic; another clinic's nurse 404
    ("POST", "/api/v1/checklists/<int:checklist_id>/read"): Route(
        by_role(401, 403, 403, 403, 403, 200, 404, 200), lambda c: {"checklist_id": c.routine_checklist_id()}),
    # nurse notes: the care team of her clinic only, never the patient or her family
    ("POST", P + "/notes"): Route(by_role(401, 403, 404, 403, 404, 201, 404, 201), patient_args,
                                  body=lambda c: {"text": "Called her about the platelet count."}),
    ("GET", P + "/notes"): Route(by_role(401, 403, 404, 403, 404, 200, 404, 200), patient_args),
    ("GET", P + "/care-summary"): Route(by_role(401, 403, 404, 403, 404, 200, 404, 200), patient_args),
    ("POST", P + "/courses/preview"): Route(
        by_role(401, 403, 404, 403, 404, 200, 404, 200), patient_args,
        body=lambda c: {"infusions": [(today_madrid() + timedelta(days=300 + i)).isoformat() for i in range(3)],
                        "status": "planned"}),
    # --- clinic, staff and audit
    ("GET", "/api/v1/clinic"): Route(by_role(401, 403, 403, 403, 403, 200, 200, 200), check=check_own_clinic),
    ("PATCH", "/api/v1/clinic"): Route(by_role(401, 403, 403, 403, 403, 403, 403, 200),
                                       body=lambda c: {"phone": "+34 900 111 333"}),
    ("GET", "/api/v1/clinic/settings"): Route(by_role(401, 403, 403, 403, 403, 200, 200, 200)),
    ("PUT", "/api/v1/clinic/settings"): Route(by_role(401, 403, 403, 403, 403, 200, 200, 200),
                                              body=lambda c: {"settings": {"skin_yearly": False}}),
    ("GET", "/api/v1/audit"): Route(by_role(401, 403, 403, 403, 403, 403, 403, 200)),
    # --- the protocol sheet (content/ in words, no patient data): the care team only
    ("GET", "/api/v1/protocol"): Route(by_role(401, 403, 403, 403, 403, 200, 200, 200), check=check_protocol_sheet),
    # --- the clinic's staff (issue 17): the admin's; another clinic's member is test_staff_admin.py's 404
    ("GET", "/api/v1/staff"): Route(by_role(401, 403, 403, 403, 403, 403, 403, 200)),
    ("POST", "/api/v1/staff"): Route(by_role(401, 403, 403, 403, 403, 403, 403, 201),
                                     body=lambda c: {"email": "new.nurse@a.test", "role": "nurse"}),
    ("PATCH", "/api/v1/staff/<int:user_id>"): Route(
        by_role(401, 403, 403, 403, 403, 403, 403, 200), lambda c: {"user_id": c.user_id("nurse")},
        body=lambda c: {"role": "admin"}),
    ("POST", "/api/v1/staff/<int:user_id>/code"): Route(
        by_role(401, 403, 403, 403, 403, 403, 403, 201), lambda c: {"user_id": c.user_id("nurse")}),
    ("POST", "/api/v1/users/<int:user_id>/disable"): Route(
        by_role(401, 403, 403, 403, 403, 403, 403, 204), lambda c: {"user_id": c.user_id("other_patient")}),
    # --- lab import (issue 19): keys are the admin's; the FHIR route opens to a clinic API key only
    # (no session of any role: test_lab_import_needs_a_live_key), the CSV upload to the care team
    ("POST", "/api/v1/clinic/api-keys"): Route(by_role(401, 403, 403, 403, 403, 403, 403, 201),
                                               body=lambda c: {"name": "Lab"}),
    ("GET", "/api/v1/clinic/api-keys"): Route(by_role(401, 403, 403, 403, 403, 403, 403, 200)),
    ("DELETE", "/api/v1/clinic/api-keys/<int:key_id>"): Route(
        by_role(401, 403, 403, 403, 403, 403, 403, 204), lambda c: {"key_id": c.api_key_id()}),
    ("POST", "/api/v1/lab-import/fhir"): Route(
        by_role(401, 401, 401, 401, 401, 401, 401, 401), body=lambda c: fhir_bundle()),
    ("POST", "/api/v1/lab-import/csv"): Route(
        by_role(401, 403, 403, 403, 403, 200, 200, 200), body=lambda c: csv_body()),
}


def fhir_bundle() -> dict:
    """One platelet count for the world's patient (hospital number A-1 once set)."""
    return {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": {
        "resourceType": "Observation", "id": "obs-1", "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": "777-3"}]},
        "subject": {"identifier": {"value": "A-1"}}, "effectiveDateTime": today_madrid().isoformat(),
        "valueQuantity": {"value": 240, "code": "10*9/L"}}}]}


def csv_body() -> dict:
    return {"csv": f"mrn,test,value,unit,date\nA-1,platelets,240,10^9/L,{today_madrid().isoformat()}\n",
            "mapping": {"hospital_number": "mrn", "analyte": "test", "value": "value", "unit": "unit",
                        "taken_on": "date"}}

_ARG = re.compile(r"<(?:[^:<>]+:)?([^<>]+)>")


def url_for_rule(rule: str, args: dict[str, Any]) -> str:
    used = set()

    def fill(match):
        used.add(match.group(1))
        return str(args[match.group(1)])

    url = _ARG.sub(fill, rule)
    assert used == set(args), f"{rule}: arguments {sorted(set(args) - used)} are not in the rule"
    return url


def api_routes(app) -> set[tuple[str, str]]:
    return {(method, rule.rule) for rule in app.url_map.iter_rules() if rule.endpoint not in SKIPPED
            for method in rule.methods - IGNORED_METHODS}


def call(client, method: str, url: str, body):
    return client.open(method, url, **({"json": body} if body is not None else {}))


def assert_error_envelope(response, status: int) -> None:
    body = response.get_json(silent=True)
    assert isinstance(body, dict) and set(body) == {"error"}, (status, response.data[:300])
    assert body["error"]["code"] and body["error"]["message"]
    if status == 401:  # the lab import's machine route: no key, not a session
        assert body["error"]["code"] in ("not_logged_in", "invalid_api_key")
    if status == 404:
        assert body["error"]["code"] == "not_found"


# --- the tests ----------------------------------------------------------------------


def test_every_route_is_in_the_table(app):
    in_map = api_routes(app)
    missing = sorted(in_map - set(ROUTES))
    stale = sorted(set(ROUTES) - in_map)
    assert not missing, f"routes with no authorization expectations in ROUTES: {missing}"
    assert not stale, f"ROUTES entries that match no route of the URL map: {stale}"
    for key, route in ROUTES.items():
        assert set(route.expect) == set(ROLES), key


@pytest.mark.parametrize("endpoint", sorted(PUBLIC))
def test_public_endpoints_answer_anonymous(app, endpoint):
    rules = [rule for rule in app.url_map.iter_rules() if rule.endpoint == endpoint]
    assert len(rules) == 1 and "GET" in rules[0].methods
    response = app.test_client().get(rules[0].rule)
    assert response.status_code == 200


def _cases():
    for (method, rule), route in ROUTES.items():
        for role in ROLES:
            marks = []
            if role in route.bugs:
                marks.append(pytest.mark.xfail(strict=True, reason=f"server bug: {route.bugs[role]}"))
            yield pytest.param(method, rule, role, marks=marks, id=f"{method} {rule.removeprefix('/api/v1')} {role}")


@pytest.mark.parametrize("method, rule, role", list(_cases()))
def test_route_answers_each_role_as_specified(app, db, world, client_for, method, rule, role):
    route = ROUTES[(method, rule)]
    ctx = Ctx(app, db, world, role)
    if route.setup:
        route.setup(ctx)
    url = url_for_rule(rule, route.args(ctx))
    body = route.body(ctx) if route.body else None
    client = client_for(role)
    response = call(client, method, url, body)
    expected = route.expect[role]
    assert response.status_code == expected, (
        f"{method} {url} as {role}: {response.status_code} {response.get_data(as_text=True)[:300]}")
    if expected >= 400:
        assert_error_envelope(response, expected)
    elif route.check is not None:
        route.check(ctx, role, response)


# --- object level: another clinic's and another patient's objects ------------------------


#: (role, target) pairs whose target must answer 404 on every route scoped to it
OBJECT_CASES = (
    ("nurse", "foreign"), ("admin", "foreign"),  # another clinic's patient and flag
    ("patient", "foreign"), ("family", "foreign"),  # another clinic's patient
    ("family", "other"),  # another patient of the same clinic, whom the family member has no link to
)


def _object_scoped_routes():
    for (method, rule), route in ROUTES.items():
        for role, target in OBJECT_CASES:
            staff = role in ("nurse", "admin")
            # flag routes are staff-only: a patient or family member gets 403 before any lookup (table above)
            if "<int:patient_id>" in rule or ("<int:flag_id>" in rule and staff):
                marks = []
                if route.foreign_bug:
                    marks.append(pytest.mark.xfail(strict=True, reason=f"server bug: {route.foreign_bug}"))
                yield pytest.param(method, rule, role, target, marks=marks,
                                   id=f"{method} {rule.removeprefix('/api/v1')} {role} on {target}")


def _object_args(rule: str, world: World, target: str, missing: bool = False) -> dict[str, int]:
    patient = world.foreign_patient if target == "foreign" else world.other_patient
    args = {}
    if "<int:patient_id>" in rule:
        args["patient_id"] = 987654 if missing else patient.id
    if "<int:flag_id>" in rule:
        args["flag_id"] = 987654 if missing else world.foreign_flag.id
    if "<int:user_id>" in rule:
        args["user_id"] = world.users["family"].id
    if "<int:course_id>" in rule:
        args["course_id"] = 987654 if missing else patient.courses[0].id
    if "<int:pregnancy_id>" in rule:
        args["pregnancy_id"] = 987654 if missing else patient.pregnancies[0].id
    if "<int:result_id>" in rule:
        args["result_id"] = 987654 if missing else patient.lab_result_id_for_tests
    return args


@pytest.mark.parametrize("method, rule, role, target", list(_object_scoped_routes()))
def test_other_clinics_and_other_patients_objects_answer_404(app, db, world, client_for, method, rule, role,
                                                             target):
    """Clinic B's patient and flag (world.foreign_patient, world.foreign_flag) for clinic A's nurse, admin,
    patient and family member, and another patient of clinic A for the family member, on every patient- and
    flag-scoped route: 404, and the very answer a missing id gets (never reveal that it exists)."""
    route = ROUTES[(method, rule)]
    ctx = Ctx(app, db, world, role)
    if route.setup:
        route.setup(ctx)
    body = route.body(ctx) if route.body else None
    client = client_for(role)
    other = call(client, method, url_for_rule(rule, _object_args(rule, world, target)), body)
    assert other.status_code == 404, (method, rule, role, other.status_code, other.get_data(as_text=True)[:300])
    assert_error_envelope(other, 404)
    if body is not None and "client_id" in body:
        body = {**body, "client_id": new_client_id()}
    absent = call(client, method, url_for_rule(rule, _object_args(rule, world, target, missing=True)), body)
    assert absent.status_code == 404
    assert other.json == absent.json, "the answer must not reveal that the object exists"


def test_admin_cannot_disable_another_clinics_user(world, client_for):
    admin = client_for("admin")
    for role in ("other_nurse", "foreign_patient"):
        foreign = admin.post(f"/api/v1/users/{world.users[role].id}/disable")
        assert foreign.status_code == 404, role
        absent = admin.post("/api/v1/users/987654/disable")
        assert absent.status_code == 404 and foreign.json == absent.json
    assert client_for("other_nurse").get("/api/v1/me").status_code == 200  # still active


def test_disabled_account_is_locked_out_at_once(world, client_for):
    nurse = client_for("nurse")
    assert nurse.get("/api/v1/flags").status_code == 200
    assert client_for("admin").post(f"/api/v1/users/{world.users['nurse'].id}/disable").status_code == 204
    assert nurse.get("/api/v1/flags").status_code == 401
    assert nurse.login(world.users["nurse"].email).status_code == 401


# --- object level inside the patient's own scope -------------------------------------


FULL_PATIENT_BODY = {"display_name": "Patty Patient", "sex": "female", "childbearing_potential": True,
                     "breastfeeding": False, "timezone": "Europe/Madrid", "language": "en",
                     "baseline": {"platelets": 250, "creatinine": 70}}


@pytest.mark.parametrize("role, expected", list(by_role(401, 403, 404, 403, 404, 200, 404, 200).items()))
def test_patch_patient_with_care_team_fields(world, client_for, role, expected):
    """PATCH /patients/{id} with the care team's fields too: the patient herself now gets 403."""
    response = client_for(role).patch(f"/api/v1/patients/{world.patient.id}", json=FULL_PATIENT_BODY)
    assert response.status_code == expected, (role, response.status_code, response.json)
    if expected >= 400:
        assert_error_envelope(response, expected)


@pytest.mark.parametrize("role, expected", list(by_role(401, 403, 404, 403, 404, 200, 404, 200).items()))
@pytest.mark.parametrize("body", [
    pytest.param({"listeria_until": "2026-05-01"}, id="listeria_until"),
    pytest.param({"cervical_screening": False}, id="cervical_screening"),
    pytest.param({"cervical_screening": None, "listeria_until": None}, id="both back to default"),
])
def test_patch_patient_attributes_v2_are_the_care_teams(world, client_for, role, expected, body):
    """CLINICAL.md 1 (v2), 6: the care team sets cervical screening and listeria_until; the patient may not."""
    response = client_for(role).patch(f"/api/v1/patients/{world.patient.id}", json=body)
    assert response.status_code == expected, (role, response.status_code, response.json)
    if expected >= 400:
        assert_error_envelope(response, expected)
    else:
        assert {key: response.json[key] for key in body} == body


def test_enrollment_code_on_the_patients_own_record(world, client_for):
    """The patient may not issue her own enrollment code (403); a nurse gets 409 since she has an account."""
    pid = world.patient.id
    assert client_for("patient").post(f"/api/v1/patients/{pid}/enrollment-code").status_code == 403
    nurse = client_for("nurse").post(f"/api/v1/patients/{pid}/enrollment-code")
    assert nurse.status_code == 409, nurse.json


def test_patient_cannot_remove_a_user_who_is_not_her_family(world, client_for):
    patient = client_for("patient")
    pid = world.patient.id
    for role in ("revoked_family", "other_patient", "nurse"):
        response = patient.delete(f"/api/v1/patients/{pid}/family/{world.users[role].id}")
        assert response.status_code == 404, (role, response.status_code)


def test_removed_family_member_loses_access_at_once(world, client_for):
    family = client_for("family")
    pid = world.patient.id
    assert family.get(f"/api/v1/patients/{pid}/timeline").status_code == 200
    removed = client_for("patient").delete(f"/api/v1/patients/{pid}/family/{world.users['family'].id}")
    assert removed.status_code == 204
    # The open session stays (its app says she no longer shares with them) and sees nothing of her.
    for path in ("/timeline", "", "/family/me"):
        assert family.get(f"/api/v1/patients/{pid}{path}").status_code == 404, path
    assert family.get("/api/v1/me").json["patient_id"] is None
    again = client_for("family")  # a new login works, but the patient is gone from view
    assert again.get(f"/api/v1/patients/{pid}").status_code == 404
    assert again.get(f"/api/v1/patients/{pid}/timeline").status_code == 404


# --- reminders channels: object level -------------------------------------------------


def test_calendar_feed_needs_a_live_token(app, db, world):
    ctx = Ctx(app, db, world)
    ctx.calendar_feeds()
    anonymous = app.test_client()
    assert anonymous.get(f"/calendar/{ctx.token}.ics").status_code == 200
    unknown = anonymous.get(f"/calendar/{'x' * 43}.ics")
    assert unknown.status_code == 404
    calendar.revoke_feeds(db, world.users["patient"], world.patient, utcnow())
    db.commit()
    revoked = anonymous.get(f"/calendar/{ctx.token}.ics")
    assert revoked.status_code == 404 and revoked.json == unknown.json


def test_removed_family_members_calendar_feed_shows_nothing(app, world, client_for):
    family = client_for("family")
    pid = world.patient.id
    created = family.post(f"/api/v1/patients/{pid}/calendar-feed")
    assert created.status_code == 201
    anonymous = app.test_client()
    assert b"BEGIN:VEVENT" in anonymous.get(created.json["path"]).data
    assert client_for("patient").delete(f"/api/v1/patients/{pid}/family/{world.users['family'].id}").status_code == 204
    after = anonymous.get(created.json["path"])
    assert after.status_code in (200, 404)
    assert b"BEGIN:VEVENT" not in after.data and b"Patty" not in after.data


def test_nobody_else_can_unsubscribe_a_device(app, db, world, client_for):
    ctx = Ctx(app, db, world, "patient")
    ctx.push_subscription()
    for role in ("other_patient", "family", "nurse"):
        response = client_for(role).delete("/api/v1/push/subscriptions", json={"endpoint": KNOWN_ENDPOINT})
        assert response.status_code == 404, role
    assert client_for("patient").delete("/api/v1/push/subscriptions",
                                        json={"endpoint": KNOWN_ENDPOINT}).status_code == 204


def test_disabled_accounts_calendar_feed_shows_nothing(app, world, client_for):
    pid = world.patient.id
    created = client_for("family").post(f"/api/v1/patients/{pid}/calendar-feed")
    assert created.status_code == 201
    assert client_for("admin").post(f"/api/v1/users/{world.users['family'].id}/disable").status_code == 204
    after = app.test_client().get(created.json["path"])
    assert after.status_code == 404


def test_lab_import_needs_a_live_key(app, db, world):
    """The FHIR route opens to a clinic API key only; a revoked key gets 401; clinic B's key cannot reach
    clinic A's patient (refused as an unknown patient, nothing stored)."""
    from server.services import api_keys
    world.patient.hospital_number = "A-1"
    row, key = api_keys.create(db, world.users["admin"], "Lab A", utcnow())
    _, key_b = api_keys.create(db, world.users["other_nurse"], "Lab B", utcnow())
    db.commit()
    http = app.test_client()
    headers = {"Authorization": f"Bearer {key}"}
    assert http.post("/api/v1/lab-import/fhir", json=fhir_bundle(), headers=headers).status_code == 200
    refused = http.post("/api/v1/lab-import/fhir", json=fhir_bundle(), headers={"Authorization": f"Bearer {key_b}"})
    assert refused.status_code == 400 and refused.json["error"]["code"] == "import_refused"
    row.revoked_at = utcnow()
    db.commit()
    revoked = http.post("/api/v1/lab-import/fhir", json=fhir_bundle(), headers=headers)
    assert revoked.status_code == 401 and revoked.json["error"]["code"] == "invalid_api_key"
