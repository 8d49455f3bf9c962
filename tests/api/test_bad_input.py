"""Bad input to every endpoint that takes a body: a 4xx with the error envelope, and nothing written.

API.md section 2: every error is ``{"error": {"code", "message", "field"?}}`` with
``field`` naming the faulty field when one field is at fault; 400 for malformed
or invalid input ("nothing is written"), 409 for a conflict, 413 for a body over
the limit (64 KiB). Each case below is sent by a role that may call the endpoint,
and the database (row count and a checksum of the rows of every table) must be
the same after the request as before it.

Field names are compared after normalising ``results[0].value`` to
``results.0.value``; a deeper path (``baseline.platelets``) names its field too.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from dataclasses import field as dc_field
from datetime import date, timedelta
from typing import Any, Callable

import pytest
from sqlalchemy import select

from server.engine.dates import add_months
from server.models import Base, InviteCode, LabResult, LabSubmission, Patient, Pregnancy
from server.services import accounts
from server.timeutil import utcnow

from .conftest import PASSWORD, new_client_id, today_madrid

MAX_BODY = 64 * 1024
#: a valid subscription's keys (an uncompressed P-256 point; 16 bytes), base64url
P256DH = "BNcRdreALRFXTkOOUHK1EtK2wtaz5Ry4YfYCA_0QTpQtUbVlUls0VJXg7A8u-Ts1XbjhazAkj7I99e8QcYP7DkM"
PUSH_AUTH = "tBHItJI5svbpez7KI4CCXg"


# --- the database snapshot ----------------------------------------------------------


#: the throttle's counters: the one write a refusal makes, on purpose (a wrong current
#: password or a refused registration counts; tests/api/test_sessions.py)
COUNTERS = {"login_attempts"}


def snapshot(db) -> dict[str, tuple[int, str]]:
    """(row count, checksum of the rows) of every table of the models' metadata but the counters."""
    out = {}
    for table in Base.metadata.sorted_tables:
        if table.name in COUNTERS:
            continue
        rows = sorted(repr(tuple(row)) for row in db.execute(select(table)).all())
        out[table.name] = (len(rows), hashlib.sha256("\n".join(rows).encode()).hexdigest())
    db.commit()  # end the read so that it does not enclose the request's own transaction
    return out


def changed_tables(before, after) -> list[str]:
    return sorted(name for name in before if before[name] != after[name])


# --- requests -------------------------------------------------------------------------


@dataclass(frozen=True)
class Raw:
    """A body sent as these exact bytes (with a JSON content type unless told)."""

    data: bytes
    content_type: str = "application/json"


@dataclass
class Ctx:
    """What a case's body may refer to: today, the world, a registration code..."""

    today: date
    world: Any
    code: str | None = None
    extra: dict = dc_field(default_factory=dict)

    def day(self, days: int = 0) -> str:
        return (self.today + timedelta(days=days)).isoformat()


def _raw_value(ctx, literal: str) -> bytes:
    """A lab body whose value is a JSON literal that json.dumps cannot write (NaN, 1e999)."""
    return json.dumps(merge(ctx, "labs")).replace('"value": 250', f'"value": {literal}').encode()


def send(client, method: str, path: str, body):
    if isinstance(body, Raw):
        return client.open(method, path, data=body.data, content_type=body.content_type)
    return client.open(method, path, json=body)


def normalise_field(name: str | None) -> str | None:
    return None if name is None else re.sub(r"\[(\d+)\]", r".\1", name)


def names_field(actual: str | None, expected: str | tuple[str, ...]) -> bool:
    actual = normalise_field(actual)
    if actual is None:
        return False
    options = (expected,) if isinstance(expected, str) else expected
    return any(actual == option or actual.startswith(option + ".") for option in options)


def check_envelope(response, status: int | tuple[int, ...], field=None, code: str | None = None) -> dict:
    text = response.get_data(as_text=True)
    assert response.status_code != 500, text
    statuses = (status,) if isinstance(status, int) else status
    assert response.status_code in statuses, (response.status_code, text)
    assert response.mimetype == "application/json", text
    body = response.get_json()
    assert isinstance(body, dict) and set(body) == {"error"}, body
    error = body["error"]
    assert isinstance(error, dict) and set(error) <= {"code", "message", "field"}, error
    assert isinstance(error.get("code"), str) and re.fullmatch(r"[a-z_]+", error["code"]), error
    assert isinstance(error.get("message"), str) and error["message"].strip(), error
    if "field" in error:
        assert isinstance(error["field"], str) and error["field"], error
    if field is not None:
        assert names_field(error.get("field"), field), f"field {error.get('field')!r}, expected {field!r}: {error}"
    if code is not None:
        assert error["code"] == code, error
    return error


# --- endpoints -------------------------------------------------------------------------


@dataclass(frozen=True)
class Endpoint:
    role: str
    method: str
    path: str  # formatted with patient=, flag= and family= (the family member's user id)
    valid: Callable[[Ctx], dict]
    required: tuple[str, ...] = ()


ENDPOINTS = {
    "login": Endpoint("anonymous", "POST", "/api/v1/auth/login",
                      lambda c: {"email": "patty@a.test", "password": "not the password"}, ("email", "password")),
    "register": Endpoint("anonymous", "POST", "/api/v1/auth/register",
                         lambda c: {"code": c.code, "email": "newcomer@a.test", "password": "a long new password"},
                         ("code", "email", "password")),
    "password": Endpoint("patient", "POST", "/api/v1/auth/password",
                         lambda c: {"current_password": PASSWORD, "new_password": "another long password"},
                         ("current_password", "new_password")),
    "reset": Endpoint("anonymous", "POST", "/api/v1/auth/reset",
                      lambda c: {"email": "patty@a.test", "code": "AAAA-BBBB-CCCC", "password": "a long new password"},
                      ("email", "code", "password")),
    "forgot": Endpoint("anonymous", "POST", "/api/v1/auth/forgot", lambda c: {"email": "patty@a.test"}, ("email",)),
    "create_patient": Endpoint("nurse", "POST", "/api/v1/patients",
                               lambda c: {"display_name": "New Patient", "sex": "female",
                                          "childbearing_potential": True, "breastfeeding": False,
                                          "timezone": "Europe/Madrid", "language": "es",
                                          "baseline": {"platelets": 250, "creatinine": 70}},
                               ("display_name", "sex", "timezone")),
    "patch_patient": Endpoint("nurse", "PATCH", "/api/v1/patients/{patient}",
                              lambda c: {**PATCH_BASE, "display_name": "Renamed"}),
    "course": Endpoint("nurse", "POST", "/api/v1/patients/{patient}/courses",
                       lambda c: {"infusions": [c.day(400), c.day(401), c.day(402)], "status": "planned"},
                       ("infusions",)),
    "checklist": Endpoint("patient", "POST", "/api/v1/patients/{patient}/checklists",
                          lambda c: {"client_id": new_client_id(), "answered_on": c.day(0),
                                     "answers": {"bleed.mucosal": False}, "note": None},
                          ("client_id", "answered_on", "answers")),
    "labs": Endpoint("nurse", "POST", "/api/v1/patients/{patient}/labs",
                     lambda c: {"client_id": new_client_id(), "taken_on": c.day(0),
                                "results": [{"analyte": "platelets", "value": 250, "ref_low": None,
                                             "ref_high": None}]},
                     ("client_id", "taken_on", "results")),
    "resolve": Endpoint("nurse", "POST", "/api/v1/flags/{flag}/resolve",
                        lambda c: {"outcome": "called_patient", "note": "spoke to her"}, ("outcome",)),
    "snooze": Endpoint("nurse", "POST", "/api/v1/patients/{patient}/snoozes",
                       lambda c: {"code": "thyroid.weight", "until": c.day(7), "reason": "treated"},
                       ("code", "until")),
    "clinic": Endpoint("admin", "PATCH", "/api/v1/clinic", lambda c: {"phone": "+34 900 000 000"}),
    "settings": Endpoint("nurse", "PUT", "/api/v1/clinic/settings", lambda c: {"settings": {"lab_window_days": 5}},
                         ("settings",)),
    "subscribe": Endpoint("patient", "POST", "/api/v1/push/subscriptions",
                          lambda c: {"endpoint": "https://push.example.test/send/device-0001",
                                     "keys": {"p256dh": P256DH, "auth": PUSH_AUTH}}, ("endpoint", "keys")),
    "unsubscribe": Endpoint("patient", "DELETE", "/api/v1/push/subscriptions",
                            lambda c: {"endpoint": "https://push.example.test/send/device-0001"}, ("endpoint",)),
    "shares": Endpoint("patient", "PUT", "/api/v1/patients/{patient}/family/{family}/shares",
                       lambda c: {"shares": ["appointment", "lab"]}, ("shares",)),
    # corrections (tests/api/test_corrections.py): the world's course, and the pregnancy ctx reports
    "course_patch": Endpoint("nurse", "PATCH", "/api/v1/patients/{patient}/courses/{course}",
                             lambda c: {"infusions": [c.day(-120), c.day(-119)], "status": "given"}),
    "pregnancy_patch": Endpoint("nurse", "PATCH", "/api/v1/patients/{patient}/pregnancies/{pregnancy}",
                                lambda c: {"reported_on": c.day(-400), "ended_on": c.day(-120)}),
    "erase_me": Endpoint("patient", "DELETE", "/api/v1/me", lambda c: {"password": PASSWORD}, ("password",)),
    # corrections of a lab result: the platelet result ctx records for the world's patient
    "lab_patch": Endpoint("nurse", "PATCH", "/api/v1/patients/{patient}/labs/{result}",
                          lambda c: {"value": 120, "unit": "G/L", "reason": "typo"}, ("reason",)),
    "lab_withdraw": Endpoint("nurse", "DELETE", "/api/v1/patients/{patient}/labs/{result}",
                             lambda c: {"reason": "entered twice"}, ("reason",)),
    # the nurse's workspace (issue 17): notes, a course previewed before it is saved, removed with a reason
    "note": Endpoint("nurse", "POST", "/api/v1/patients/{patient}/notes",
                     lambda c: {"text": "Called her; platelets again next week."}, ("text",)),
    "course_preview": Endpoint("nurse", "POST", "/api/v1/patients/{patient}/courses/preview",
                               lambda c: {"infusions": [c.day(400), c.day(401), c.day(402)], "status": "planned"},
                               ("infusions",)),
    "course_remove": Endpoint("nurse", "DELETE", "/api/v1/patients/{patient}/courses/{course}",
                              lambda c: {"reason": "entered for the wrong patient"}),
    # lab import (issue 19): an API key's name (the import bodies: test_bad_import_body_*)
    "api_key": Endpoint("admin", "POST", "/api/v1/clinic/api-keys", lambda c: {"name": "Lab system"}, ("name",)),
}


def _generic_cases():
    """The same kinds of bad body for every endpoint."""
    cases = []
    for name, ep in ENDPOINTS.items():
        def p(case_id, body, status=400, field=None, code=None, marks=(), _name=name):
            cases.append(pytest.param(_name, None, body, status, field, code, id=f"{_name}-{case_id}", marks=marks))

        p("malformed-json", Raw(b"{bad"), code="malformed_json")
        p("truncated-json", Raw(b'{"a": '), code="malformed_json")
        p("trailing-garbage", Raw(b'{"a": 1} x'), code="malformed_json")
        p("not-utf8", Raw(b'{"a": "\xff\xfe"}'))
        p("json-array", lambda c, ep=ep: [ep.valid(c)])
        p("json-string", "hello")
        p("json-number", 42)
        p("json-null", Raw(b"null"))
        p("deeply-nested", Raw(b"[" * 30000 + b"]" * 30000))
        p("unknown-field", lambda c, ep=ep: {**ep.valid(c), "bogus": 1}, field="bogus")
        p("oversized", lambda c, ep=ep: Raw(json.dumps({**ep.valid(c), "padding": "x" * (MAX_BODY + 1024)}).encode()),
          status=413, code="body_too_large")
        for missing in ep.required:
            p(f"missing-{missing}", lambda c, ep=ep, m=missing: {k: v for k, v in ep.valid(c).items() if k != m},
              field=missing)
        if ep.required:
            p("empty-object", {})
            p("empty-body", Raw(b""))
            p("form-encoded", Raw(b"a=1&b=2", "application/x-www-form-urlencoded"), status=(400, 415))
    return cases


def merge(c: Ctx, endpoint: str, **changes) -> dict:
    return {**ENDPOINTS[endpoint].valid(c), **changes}


def result(c: Ctx, **changes) -> dict:
    return {"analyte": "platelets", "value": 250, "ref_low": None, "ref_high": None, **changes}


def labs_with(*results) -> Callable[[Ctx], dict]:
    return lambda c: merge(c, "labs", results=[r(c) if callable(r) else r for r in results])


def settings_with(**values) -> Callable[[Ctx], dict]:
    return lambda c: {"settings": values}


#: the fields PatientPatchIn wrongly requires on every PATCH
PATCH_BASE = {"display_name": "Patty Patient", "sex": "female", "timezone": "Europe/Madrid"}




def patch(**fields) -> dict:
    return {**PATCH_BASE, **fields}


# (endpoint, role override, body, status, field, code)
SPECIFIC = [
    # --- POST /auth/login
    pytest.param("login", None, {"email": 42, "password": "x"}, 400, "email", None, id="login-email-number"),
    pytest.param("login", None, {"email": "patty@a.test", "password": True}, 400, "password", None,
                 id="login-password-bool"),
    pytest.param("login", None, {"email": None, "password": "x"}, 400, "email", None, id="login-email-null"),
    pytest.param("login", None, {"email": "", "password": "x"}, 400, "email", None, id="login-email-empty"),
    pytest.param("login", None, {"email": "x" * 300 + "@a.test", "password": "x"}, 400, "email", None,
                 id="login-email-too-long"),
    pytest.param("login", None, {"email": "patty@a.test", "password": ["x"]}, 400, "password", None,
                 id="login-password-list"),
    # --- POST /auth/register
    pytest.param("register", None, lambda c: merge(c, "register", code=""), 400, "code", None,
                 id="register-code-empty"),
    pytest.param("register", None, lambda c: merge(c, "register", code=42), 400, "code", None,
                 id="register-code-number"),
    pytest.param("register", None, lambda c: merge(c, "register", email=42), 400, "email", None,
                 id="register-email-number"),
    pytest.param("register", None, lambda c: merge(c, "register", email="not-an-email"), 400, "email", None,
                 id="register-email-shape"),
    pytest.param("register", None, lambda c: merge(c, "register", email="two words@a.test"), 400, "email", None,
                 id="register-email-space"),
    pytest.param("register", None, lambda c: merge(c, "register", password=1234567890), 400, "password", None,
                 id="register-password-number"),
    pytest.param("register", None, lambda c: merge(c, "register", password="short"), 400, "password",
                 "weak_password", id="register-password-weak"),
    pytest.param("register", None, lambda c: merge(c, "register", code="AAAA-BBBB-CCCC"), 400, "code",
                 "invalid_code", id="register-code-unknown"),
    pytest.param("register", None, lambda c: merge(c, "register", code=c.extra["used_code"]), 400, "code",
                 "invalid_code", id="register-code-used"),
    pytest.param("register", None, lambda c: merge(c, "register", code=c.extra["expired_code"]), 400, "code",
                 "invalid_code", id="register-code-expired"),
    pytest.param("register", None, lambda c: merge(c, "register", email="patty@a.test"), 409, "email",
                 None, id="register-email-taken"),
    pytest.param("register", None, lambda c: merge(c, "register", email="PATTY@A.test"), 409, "email",
                 None, id="register-email-taken-other-case"),
    # --- POST /auth/reset and /auth/forgot (issue 16)
    pytest.param("reset", None, lambda c: merge(c, "reset", code=""), 400, "code", None, id="reset-code-empty"),
    pytest.param("reset", None, lambda c: merge(c, "reset", email=42), 400, "email", None, id="reset-email-number"),
    pytest.param("reset", None, lambda c: merge(c, "reset", password="short"), 400, "password", "weak_password",
                 id="reset-password-weak"),
    pytest.param("reset", None, lambda c: merge(c, "reset", password=["x"]), 400, "password", None,
                 id="reset-password-list"),
    pytest.param("reset", None, {"email": "patty@a.test", "code": "AAAA-BBBB-CCCC", "password": "a long new one!"},
                 400, "code", "invalid_code", id="reset-code-wrong"),
    pytest.param("reset", None, {"email": "nobody@a.test", "code": "AAAA-BBBB-CCCC", "password": "a long new one!"},
                 400, "code", "invalid_code", id="reset-email-unknown"),
    pytest.param("forgot", None, {"email": ""}, 400, "email", None, id="forgot-email-empty"),
    pytest.param("forgot", None, {"email": ["a@b.c"]}, 400, "email", None, id="forgot-email-list"),
    pytest.param("forgot", None, {"email": "x" * 300 + "@a.test"}, 400, "email", None, id="forgot-email-too-long"),
    # --- POST /auth/password
    pytest.param("password", None, {"current_password": "wrong password!", "new_password": "another long password"},
                 400, "current_password", None, id="password-current-wrong"),
    pytest.param("password", None, {"current_password": PASSWORD, "new_password": "short"}, 400, "new_password",
                 "weak_password", id="password-new-weak"),
    pytest.param("password", None, {"current_password": PASSWORD, "new_password": 12345678901}, 400,
                 "new_password", None, id="password-new-number"),
    pytest.param("password", None, {"current_password": None, "new_password": "another long password"}, 400,
                 "current_password", None, id="password-current-null"),
    pytest.param("password", None, {"current_password": PASSWORD, "new_password": "y" * 300}, 400,
                 "new_password", None, id="password-new-too-long"),
    # --- POST /patients
    pytest.param("create_patient", None, lambda c: merge(c, "create_patient", display_name=42), 400,
                 "display_name", None, id="create-name-number"),
    pytest.param("create_patient", None, lambda c: merge(c, "create_patient", display_name=""), 400,
                 "display_name", None, id="create-name-empty"),
    pytest.param("create_patient", None, lambda c: merge(c, "create_patient", display_name="x" * 121), 400,
                 "display_name", None, id="create-name-too-long"),
    pytest.param("create_patient", None, lambda c: merge(c, "create_patient", sex="robot"), 400, "sex", None,
                 id="create-sex-unknown"),
    pytest.param("create_patient", None, lambda c: merge(c, "create_patient", sex=1), 400, "sex", None,
                 id="create-sex-number"),
    pytest.param("create_patient", None, lambda c: merge(c, "create_patient", childbearing_potential=1), 400,
                 "childbearing_potential", None, id="create-childbearing-1"),
    pytest.param("create_patient", None, lambda c: merge(c, "create_patient", childbearing_potential="yes"), 400,
                 "childbearing_potential", None, id="create-childbearing-yes"),
    pytest.param("create_patient", None, lambda c: merge(c, "create_patient", breastfeeding="true"), 400,
                 "breastfeeding", None, id="create-breastfeeding-string"),
    pytest.param("create_patient", None, lambda c: merge(c, "create_patient", breastfeeding=0), 400,
                 "breastfeeding", None, id="create-breastfeeding-0"),
    # (v2) childbearing potential whatever sex says: male + childbearing is accepted (test_patient_attributes_v2.py)
    pytest.param("create_patient", None, lambda c: merge(c, "create_patient", cervical_screening="yes"), 400,
                 "cervical_screening", None, id="create-cervical-screening-string"),
    pytest.param("create_patient", None, lambda c: merge(c, "create_patient", cervical_screening=1), 400,
                 "cervical_screening", None, id="create-cervical-screening-1"),
    pytest.param("create_patient", None, lambda c: merge(c, "create_patient", listeria_until="2026-02-30"), 400,
                 "listeria_until", None, id="create-listeria-until-impossible-date"),
    pytest.param("create_patient", None, lambda c: merge(c, "create_patient", listeria_until="20260105"), 400,
                 "listeria_until", None, id="create-listeria-until-non-iso"),
    pytest.param("create_patient", None, lambda c: merge(c, "create_patient", listeria_until=20260105), 400,
                 "listeria_until", None, id="create-listeria-until-number"),
    pytest.param("create_patient", None, lambda c: merge(c, "create_patient", timezone="Mars/Olympus_Mons"), 400,
                 "timezone", None, id="create-timezone-unknown"),
    pytest.param("create_patient", None, lambda c: merge(c, "create_patient", timezone=1), 400, "timezone", None,
                 id="create-timezone-number"),
    pytest.param("create_patient", None, lambda c: merge(c, "create_patient", timezone="../../etc/passwd"), 400,
                 "timezone", None, id="create-timezone-path"),
    pytest.param("create_patient", None, lambda c: merge(c, "create_patient", language="xx"), 400, "language",
                 None, id="create-language-unknown"),
    pytest.param("create_patient", None, lambda c: merge(c, "create_patient", baseline={"platelets": "250"}), 400,
                 "baseline", None, id="create-baseline-string"),
    pytest.param("create_patient", None, lambda c: merge(c, "create_patient", baseline={"platelets": True}), 400,
                 "baseline", None, id="create-baseline-bool"),
    pytest.param("create_patient", None, lambda c: merge(c, "create_patient", baseline={"unicorns": 1}), 400,
                 "baseline", None, id="create-baseline-unknown-analyte"),
    pytest.param("create_patient", None, lambda c: merge(c, "create_patient", baseline={"urine_blood": 1}), 400,
                 "baseline", None, id="create-baseline-qualitative"),
    pytest.param("create_patient", None, lambda c: merge(c, "create_patient", baseline=[250]), 400,
                 "baseline", None, id="create-baseline-list"),
    pytest.param("create_patient", None, lambda c: merge(c, "create_patient", baseline={"platelets": -5}), 400,
                 "baseline", None, id="create-baseline-negative"),
    pytest.param("create_patient", None, lambda c: merge(c, "create_patient", baseline={"platelets": 1e12}), 400,
                 "baseline", None, id="create-baseline-huge"),
    # --- PATCH /patients/{id}
    # The nurse's cases send display_name, sex and timezone (valid) alongside the bad field; the
    # "partial" cases send what a client really sends: the one field.
    pytest.param("patch_patient", None, patch(sex="robot"), 400, "sex", None, id="patch-sex-unknown"),
    pytest.param("patch_patient", None, patch(cervical_screening="no"), 400, "cervical_screening", None,
                 id="patch-cervical-screening-string"),
    pytest.param("patch_patient", None, patch(listeria_until="2026-13-01"), 400, "listeria_until", None,
                 id="patch-listeria-until-impossible-date"),
    pytest.param("patch_patient", None, patch(listeria_until=True), 400, "listeria_until", None,
                 id="patch-listeria-until-bool"),
    pytest.param("patch_patient", None, patch(childbearing_potential="yes"), 400, "childbearing_potential", None,
                 id="patch-childbearing-yes"),
    pytest.param("patch_patient", None, patch(breastfeeding=1), 400, "breastfeeding", None,
                 id="patch-breastfeeding-1"),
    pytest.param("patch_patient", None, patch(timezone="Nowhere/Land"), 400, "timezone", None,
                 id="patch-timezone-unknown"),
    pytest.param("patch_patient", None, patch(timezone=None), 400, "timezone", None, id="patch-timezone-null"),
    pytest.param("patch_patient", None, patch(display_name=None), 400, "display_name", None, id="patch-name-null"),
    pytest.param("patch_patient", None, patch(display_name=7), 400, "display_name", None, id="patch-name-number"),
    pytest.param("patch_patient", None, patch(language="klingon"), 400, "language", None,
                 id="patch-language-unknown"),
    pytest.param("patch_patient", None, patch(baseline={"platelets": "lots"}), 400, "baseline", None,
                 id="patch-baseline-string"),
    pytest.param("patch_patient", None, patch(baseline={"creatinine": -70}), 400, "baseline", None,
                 id="patch-baseline-negative"),
    pytest.param("patch_patient", None, patch(pregnancies=[{"reported_on": "2026-02-30"}]), 400,
                 "pregnancies", None, id="patch-pregnancy-impossible-date"),
    pytest.param("patch_patient", None, patch(pregnancies=[{"reported_on": "20260105"}]), 400,
                 "pregnancies", None, id="patch-pregnancy-non-iso-date"),
    pytest.param("patch_patient", None, patch(pregnancies=[{"reported_on": "2026-01-05T00:00:00"}]), 400,
                 "pregnancies", None, id="patch-pregnancy-datetime"),
    pytest.param("patch_patient", None, lambda c: {**PATCH_BASE, "pregnancies": [{"reported_on": c.day(-5),
                                                                                  "ended_on": c.day(-30)}]}, 400,
                 "pregnancies", None, id="patch-pregnancy-ends-before-start"),
    pytest.param("patch_patient", None, patch(pregnancies=[{}]), 400, "pregnancies", None,
                 id="patch-pregnancy-missing-date"),
    pytest.param("patch_patient", None, lambda c: {**PATCH_BASE, "pregnancies": [{"reported_on": c.day(-5),
                                                                                  "twins": True}]},
                 400, "pregnancies", None, id="patch-pregnancy-unknown-field"),
    pytest.param("patch_patient", None, patch(pregnancies="yes"), 400, "pregnancies", None,
                 id="patch-pregnancies-string"),
    pytest.param("patch_patient", None, patch(pregnancies=[{"reported_on": "2026-01-05"}] * 21), 400,
                 "pregnancies", None, id="patch-too-many-pregnancies"),
    pytest.param("patch_patient", "patient", patch(), 403, ("display_name", "sex"), "forbidden",
                 id="patch-as-patient-care-team-field"),
    # what a client really sends: the one field (expected failures while PATCH is not partial)
    pytest.param("patch_patient", None, {"sex": "robot"}, 400, "sex", None, id="patch-partial-sex-unknown"),
    pytest.param("patch_patient", None, {"bogus": 1}, 400, "bogus", None, id="patch-partial-unknown-field"),
    pytest.param("patch_patient", None, {"cervical_screening": 0}, 400, "cervical_screening", None,
                 id="patch-partial-cervical-screening-0"),
    pytest.param("patch_patient", None, {"listeria_until": "1 May"}, 400, "listeria_until", None,
                 id="patch-partial-listeria-until-text"),
    pytest.param("patch_patient", "patient", {"listeria_until": "2026-05-01"}, 403, "listeria_until", "forbidden",
                 id="patch-partial-as-patient-listeria-until"),
    pytest.param("patch_patient", "patient", {"cervical_screening": False}, 403, "cervical_screening", "forbidden",
                 id="patch-partial-as-patient-cervical-screening"),
    pytest.param("patch_patient", None, {"pregnancies": [{"reported_on": "2026-02-30"}]}, 400, "pregnancies",
                 None, id="patch-partial-pregnancy-impossible-date"),
    pytest.param("patch_patient", "patient", {"display_name": "Me"}, 403, "display_name", "forbidden",
                 id="patch-partial-as-patient-care-team-field"),
    pytest.param("patch_patient", "patient", {"language": "xx"}, 400, "language", None,
                 id="patch-partial-as-patient-language-unknown"),
    pytest.param("patch_patient", "patient", {"timezone": 3}, 400, "timezone", None,
                 id="patch-partial-as-patient-timezone-number"),
    # --- POST /patients/{id}/courses
    pytest.param("course", None, {"infusions": []}, 400, "infusions", None, id="course-empty-infusions"),
    pytest.param("course", None, lambda c: {"infusions": c.day(400)}, 400, "infusions", None,
                 id="course-infusions-string"),
    pytest.param("course", None, {"infusions": ["2027-02-30"]}, 400, "infusions", None,
                 id="course-impossible-date"),
    pytest.param("course", None, {"infusions": ["20270105"]}, 400, "infusions", None, id="course-non-iso-date"),
    pytest.param("course", None, {"infusions": [20270105]}, 400, "infusions", None, id="course-date-number"),
    pytest.param("course", None, {"infusions": [None]}, 400, "infusions", None, id="course-date-null"),
    pytest.param("course", None, lambda c: {"infusions": [c.day(400), c.day(400)]}, 400, "infusions", None,
                 id="course-repeated-date"),
    pytest.param("course", None, lambda c: {"infusions": [c.day(400 + i) for i in range(31)]}, 400, "infusions",
                 None, id="course-too-many-infusions"),
    pytest.param("course", None, lambda c: {"infusions": [c.day(400), c.day(401), c.day(402)], "status": "given"},
                 400, ("infusions", "status"), None, id="course-given-in-the-future"),
    pytest.param("course", None, lambda c: merge(c, "course", status="maybe"), 400, "status", None,
                 id="course-status-unknown"),
    pytest.param("course", None, lambda c: merge(c, "course", status=True), 400, "status", None,
                 id="course-status-bool"),
    pytest.param("course", None, lambda c: {"infusions": [c.day(-118), c.day(-117)], "status": "given"}, 400,
                 "infusions", None, id="course-overlaps-existing"),
    pytest.param("course", None, lambda c: {"infusions": [c.day(-125), c.day(-110)], "status": "given"}, 400,
                 "infusions", None, id="course-encloses-existing"),
    # --- PATCH /patients/{id}/courses/{id}, PATCH /patients/{id}/pregnancies/{id}, DELETE /me
    pytest.param("course_patch", None, {"infusions": []}, 400, "infusions", None, id="course-patch-no-infusions"),
    pytest.param("course_patch", None, lambda c: {"infusions": [c.day(10)], "status": "given"}, 400, "infusions",
                 None, id="course-patch-given-in-the-future"),
    pytest.param("course_patch", None, {"status": "maybe"}, 400, "status", None, id="course-patch-status-unknown"),
    pytest.param("course_patch", None, lambda c: {"status": "given", "reason": "  "}, 400, "reason", None,
                 id="course-patch-blank-reason"),
    pytest.param("course_patch", None, lambda c: {"status": "given", "reason": "x" * 501}, 400, "reason", None,
                 id="course-patch-reason-too-long"),
    pytest.param("course_remove", None, {"reason": " \n "}, 400, "reason", None, id="course-remove-blank-reason"),
    pytest.param("course_remove", None, {"reason": 42}, 400, "reason", None, id="course-remove-reason-number"),
    # --- nurse notes and the course preview (issue 17)
    pytest.param("note", None, {"text": "   \n\t"}, 400, "text", None, id="note-blank"),
    pytest.param("note", None, {"text": ""}, 400, "text", None, id="note-empty"),
    pytest.param("note", None, {"text": "x" * 4001}, 400, "text", None, id="note-too-long"),
    pytest.param("note", None, {"text": 12}, 400, "text", None, id="note-number"),
    pytest.param("note", None, {"text": None}, 400, "text", None, id="note-null"),
    pytest.param("course_preview", None, lambda c: {"infusions": [c.day(400), c.day(401)], "status": "given"}, 400,
                 "infusions", None, id="course-preview-given-in-the-future"),
    pytest.param("course_preview", None, lambda c: {"infusions": [c.day(-118)], "status": "given"}, 400,
                 "infusions", None, id="course-preview-overlaps-existing"),
    pytest.param("course_preview", None, lambda c: {"infusions": [c.day(400)], "replaces": 2**31 - 2}, 404, None,
                 None, id="course-preview-replaces-unknown-course"),
    pytest.param("course_preview", None, {"infusions": ["2027-02-30"]}, 400, "infusions", None,
                 id="course-preview-impossible-date"),
    pytest.param("course_preview", None, lambda c: merge(c, "course_preview", status="maybe"), 400, "status", None,
                 id="course-preview-status-unknown"),
    pytest.param("pregnancy_patch", None, lambda c: {"reported_on": c.day(-5), "ended_on": c.day(-50)}, 400,
                 "ended_on", None, id="pregnancy-patch-ends-before-start"),
    pytest.param("pregnancy_patch", None, lambda c: {"reported_on": c.day(-100)}, 400, "reported_on", None,
                 id="pregnancy-patch-report-after-the-stored-end"),
    pytest.param("pregnancy_patch", None, {"ended_on": "2026-02-30"}, 400, "ended_on", None,
                 id="pregnancy-patch-impossible-date"),
    pytest.param("erase_me", None, {"password": "not the password"}, 400, "password", "invalid_credentials",
                 id="erase-me-wrong-password"),
    pytest.param("erase_me", None, {"password": 42}, 400, "password", None, id="erase-me-password-number"),
    # --- POST /patients/{id}/checklists
    # An empty body reads as no fields, as for every endpoint: the first required one is named.
    pytest.param("checklist", None, Raw(b""), 400, ("client_id", "answered_on", "answers"), None,
                 id="checklist-empty-body-names-a-field"),
    pytest.param("checklist", None, lambda c: merge(c, "checklist", client_id="not-a-uuid"), 400, "client_id",
                 None, id="checklist-client-id-not-uuid"),
    pytest.param("checklist", None, lambda c: merge(c, "checklist", client_id=42), 400, "client_id", None,
                 id="checklist-client-id-number"),
    pytest.param("checklist", None, lambda c: merge(c, "checklist", client_id=None), 400, "client_id", None,
                 id="checklist-client-id-null"),
    pytest.param("checklist", None, lambda c: merge(c, "checklist", answered_on="2026-02-30"), 400,
                 "answered_on", None, id="checklist-impossible-date"),
    pytest.param("checklist", None, lambda c: merge(c, "checklist", answered_on="20260105"), 400,
                 "answered_on", None, id="checklist-non-iso-date"),
    pytest.param("checklist", None, lambda c: merge(c, "checklist", answered_on="5/1/2026"), 400,
                 "answered_on", None, id="checklist-us-date"),
    pytest.param("checklist", None, lambda c: merge(c, "checklist", answered_on=20260105), 400,
                 "answered_on", None, id="checklist-date-number"),
    pytest.param("checklist", None, lambda c: merge(c, "checklist", answered_on=c.day(1)), 400,
                 "answered_on", None, id="checklist-answered-in-future"),
    pytest.param("checklist", None, lambda c: merge(c, "checklist", answered_on=c.day(-61)), 400,
                 "answered_on", None, id="checklist-answered-too-long-ago"),
    pytest.param("checklist", None, lambda c: merge(c, "checklist", answers="yes"), 400, "answers", None,
                 id="checklist-answers-string"),
    pytest.param("checklist", None, lambda c: merge(c, "checklist", answers=["bleed.mucosal"]), 400, "answers",
                 None, id="checklist-answers-list"),
    pytest.param("checklist", None, lambda c: merge(c, "checklist", answers={"bleed.nose": True}), 400,
                 "answers", None, id="checklist-unknown-question-code"),
    pytest.param("checklist", None, lambda c: merge(c, "checklist", answers={"bleed.mucosal": 1}), 400,
                 "answers", None, id="checklist-answer-1"),
    pytest.param("checklist", None, lambda c: merge(c, "checklist", answers={"bleed.mucosal": "yes"}), 400,
                 "answers", None, id="checklist-answer-yes"),
    pytest.param("checklist", None, lambda c: merge(c, "checklist", answers={"bleed.mucosal": None}), 400,
                 "answers", None, id="checklist-answer-null"),
    pytest.param("checklist", None, lambda c: merge(c, "checklist", answers={"x" * 61: True}), 400, "answers",
                 None, id="checklist-answer-code-too-long"),
    pytest.param("checklist", None, lambda c: merge(c, "checklist", note=42), 400, "note", None,
                 id="checklist-note-number"),
    pytest.param("checklist", None, lambda c: merge(c, "checklist", note="x" * 2001), 400, "note", None,
                 id="checklist-note-too-long"),
    pytest.param("checklist", "other_patient",
                 lambda c: {**merge(c, "checklist", answers={"bleed.menstrual": True})}, 400, "answers", None,
                 id="checklist-question-not-asked-of-male"),
    # CLINICAL.md 3 pregnancy.possible (v2): asked only with childbearing potential, even a "no"
    pytest.param("checklist", "other_patient",
                 lambda c: {**merge(c, "checklist", answers={"pregnancy.possible": False})}, 400, "answers", None,
                 id="checklist-pregnancy-question-without-childbearing-potential"),
    # --- POST /patients/{id}/labs
    pytest.param("labs", None, lambda c: merge(c, "labs", results=[]), 400, "results", None,
                 id="labs-empty-results"),
    pytest.param("labs", None, lambda c: merge(c, "labs", results={"platelets": 250}), 400, "results", None,
                 id="labs-results-object"),
    pytest.param("labs", None, lambda c: merge(c, "labs", results=[result(c)] * 31), 400, "results", None,
                 id="labs-too-many-results"),
    pytest.param("labs", None, labs_with(lambda c: result(c, analyte="unobtainium")), 400, "results.0.analyte",
                 None, id="labs-unknown-analyte"),
    pytest.param("labs", None, labs_with(lambda c: result(c, analyte="unobtainium", value=None)), 400,
                 "results.0.analyte", None, id="labs-unknown-analyte-sample-taken"),
    pytest.param("labs", None, labs_with(lambda c: result(c, value=None, ref_low=400, ref_high=150)), 400,
                 ("results.0.ref_low", "results.0.ref_high"), None, id="labs-sample-taken-ref-low-above-high"),
    pytest.param("labs", None, labs_with(lambda c: result(c, value=None, ref_low=-3)), 400,
                 "results.0.ref_low", None, id="labs-sample-taken-ref-low-negative"),
    pytest.param("labs", None, labs_with(lambda c: result(c, analyte="x" * 41)), 400, "results.0.analyte", None,
                 id="labs-analyte-too-long"),
    pytest.param("labs", None, labs_with(lambda c: result(c, analyte=5)), 400, "results.0.analyte", None,
                 id="labs-analyte-number"),
    pytest.param("labs", None, labs_with(lambda c: result(c, value=-5)), 400, "results.0.value", None,
                 id="labs-negative-value"),
    pytest.param("labs", None, labs_with(lambda c: result(c, value="250")), 400, "results.0.value", None,
                 id="labs-value-string"),
    pytest.param("labs", None, labs_with(lambda c: result(c, value=True)), 400, "results.0.value", None,
                 id="labs-value-bool"),
    pytest.param("labs", None, labs_with(lambda c: result(c, value=[250])), 400, "results.0.value", None,
                 id="labs-value-list"),
    pytest.param("labs", None, labs_with(lambda c: result(c, value=1e12)), 400, "results.0.value", None,
                 id="labs-value-huge"),
    pytest.param("labs", None, lambda c: Raw(_raw_value(c, "NaN")), 400, "results.0.value", None,
                 id="labs-value-nan"),
    pytest.param("labs", None, lambda c: Raw(_raw_value(c, "1e999")), 400, "results.0.value", None,
                 id="labs-value-infinite"),
    pytest.param("labs", None, labs_with(lambda c: result(c, analyte="urine_blood", value="maybe")), 400,
                 "results.0.value", None, id="labs-qualitative-unknown-word"),
    pytest.param("labs", None, labs_with(lambda c: result(c, analyte="urine_blood", value=1)), 400,
                 "results.0.value", None, id="labs-qualitative-number"),
    pytest.param("labs", None, labs_with(lambda c: result(c, analyte="urine_protein", value="positive",
                                                          ref_low=0)), 400,
                 ("results.0.ref_low", "results.0.ref_high"), None, id="labs-qualitative-with-range"),
    pytest.param("labs", None, labs_with(lambda c: result(c, ref_low=400, ref_high=150)), 400,
                 ("results.0.ref_low", "results.0.ref_high"), None, id="labs-ref-low-above-high"),
    pytest.param("labs", None, labs_with(lambda c: result(c, ref_low="150")), 400, "results.0.ref_low", None,
                 id="labs-ref-low-string"),
    pytest.param("labs", None, labs_with(lambda c: result(c, ref_high=False)), 400, "results.0.ref_high", None,
                 id="labs-ref-high-bool"),
    pytest.param("labs", None, labs_with(lambda c: result(c, ref_low=-1)), 400, "results.0.ref_low", None,
                 id="labs-ref-low-negative"),
    pytest.param("labs", None, labs_with({"analyte": "platelets"}), 400, "results.0.value", None,
                 id="labs-value-missing"),
    pytest.param("labs", None, labs_with({"value": 250}), 400, "results.0.analyte", None,
                 id="labs-analyte-missing"),
    pytest.param("labs", None, labs_with(lambda c: result(c, units="10^9/L")), 400, "results.0.units", None,
                 id="labs-result-unknown-field"),
    pytest.param("labs", None, labs_with(lambda c: result(c), lambda c: result(c, value=240)), 400,
                 "results.1.analyte", None, id="labs-analyte-twice"),
    pytest.param("labs", None, labs_with(lambda c: result(c, analyte="tsh", value=2.0),
                                         lambda c: result(c, value=-1)), 400,
                 "results.1.value", None, id="labs-second-result-bad"),
    pytest.param("labs", None, labs_with("platelets"), 400, "results.0", None, id="labs-result-string"),
    # units and plausible values (CLINICAL.md 4.1, v2): the field is named, nothing is written
    pytest.param("labs", None, labs_with(lambda c: result(c, analyte="creatinine", value=1.1, unit="mg/L")), 400,
                 "results.0.unit", None, id="labs-unknown-unit"),
    pytest.param("labs", None, labs_with(lambda c: result(c, analyte="tsh", value=2.0),
                                         lambda c: result(c, unit="mg/dL")), 400,
                 "results.1.unit", None, id="labs-second-result-unit-of-another-analyte"),
    pytest.param("labs", None, labs_with(lambda c: result(c, unit=12)), 400, "results.0.unit", None,
                 id="labs-unit-number"),
    pytest.param("labs", None, labs_with(lambda c: result(c, unit="x" * 21)), 400, "results.0.unit", None,
                 id="labs-unit-too-long"),
    pytest.param("labs", None, labs_with(lambda c: result(c, analyte="urine_blood", value="positive",
                                                          unit="mg/dL")), 400,
                 "results.0.unit", None, id="labs-qualitative-with-unit"),
    pytest.param("labs", None, labs_with(lambda c: result(c, analyte="creatinine", value=88, unit="mg/dL")), 400,
                 "results.0.value", None, id="labs-implausible-after-conversion"),
    pytest.param("labs", None, labs_with(lambda c: result(c, value=0)), 400, "results.0.value", None,
                 id="labs-platelets-zero-implausible"),
    pytest.param("labs", None, labs_with(lambda c: result(c, value=250000, unit="10^9/L")), 400, "results.0.value",
                 None, id="labs-platelets-per-uL-typed-as-10^9/L"),
    pytest.param("labs", None, labs_with(lambda c: result(c, analyte="creatinine", value=1.0, unit="mg/dL",
                                                          ref_high=110)), 400,
                 "results.0.ref_high", None, id="labs-implausible-reference-limit"),
    # --- PATCH and DELETE /patients/{id}/labs/{id} (corrections, CLINICAL.md 6)
    pytest.param("lab_patch", None, {"value": 120}, 400, "reason", None, id="lab-patch-no-reason"),
    pytest.param("lab_patch", None, {"value": 120, "reason": "   "}, 400, "reason", None, id="lab-patch-blank-reason"),
    pytest.param("lab_patch", None, {"unit": "mg/dL", "reason": "wrong unit"}, 400, "unit", None,
                 id="lab-patch-unit-of-another-analyte"),
    pytest.param("lab_patch", None, {"value": 95, "unit": "/uL", "reason": "wrong unit"}, 400, "value", None,
                 id="lab-patch-implausible-in-the-new-unit"),
    pytest.param("lab_patch", None, {"value": "trace", "reason": "x"}, 400, "value", None,
                 id="lab-patch-value-word"),
    pytest.param("lab_patch", None, lambda c: {"taken_on": c.day(1), "reason": "x"}, 400, "taken_on", None,
                 id="lab-patch-taken-in-future"),
    pytest.param("lab_patch", None, {"ref_low": 300, "ref_high": 200, "reason": "x"}, 400, "ref_low", None,
                 id="lab-patch-range-reversed"),
    pytest.param("lab_patch", "other_patient", {"value": 120, "reason": "x"}, 404, None, None,
                 id="lab-patch-another-patients-result"),
    pytest.param("lab_withdraw", None, {}, 400, "reason", None, id="lab-withdraw-no-reason"),
    pytest.param("lab_withdraw", None, {"reason": ""}, 400, "reason", None, id="lab-withdraw-empty-reason"),
    pytest.param("lab_withdraw", None, {"reason": "x" * 501}, 400, "reason", None, id="lab-withdraw-reason-too-long"),
    pytest.param("labs", None, lambda c: merge(c, "labs", taken_on=c.day(1)), 400, "taken_on", None,
                 id="labs-taken-in-future"),
    pytest.param("labs", None, lambda c: merge(c, "labs", taken_on="2026-02-30"), 400, "taken_on", None,
                 id="labs-impossible-date"),
    pytest.param("labs", None, lambda c: merge(c, "labs", taken_on="20260105"), 400, "taken_on", None,
                 id="labs-non-iso-date"),
    pytest.param("labs", None, lambda c: merge(c, "labs", client_id="1234"), 400, "client_id", None,
                 id="labs-client-id-not-uuid"),
    pytest.param("labs", "patient", labs_with(lambda c: result(c, value=-5)), 400, "results.0.value", None,
                 id="labs-as-patient-negative-value"),
    pytest.param("labs", "patient", lambda c: merge(c, "labs", taken_on=c.day(3)), 400, "taken_on", None,
                 id="labs-as-patient-taken-in-future"),
    # --- POST /flags/{id}/resolve
    pytest.param("resolve", None, {"outcome": "fixed"}, 400, "outcome", None, id="resolve-outcome-unknown"),
    pytest.param("resolve", None, {"outcome": 3}, 400, "outcome", None, id="resolve-outcome-number"),
    pytest.param("resolve", None, {"outcome": None}, 400, "outcome", None, id="resolve-outcome-null"),
    pytest.param("resolve", None, {"outcome": "Called_Patient"}, 400, "outcome", None,
                 id="resolve-outcome-wrong-case"),
    pytest.param("resolve", None, {"outcome": "called_patient", "note": 5}, 400, "note", None,
                 id="resolve-note-number"),
    pytest.param("resolve", None, {"outcome": "called_patient", "note": "x" * 2001}, 400, "note", None,
                 id="resolve-note-too-long"),
    # --- POST /patients/{id}/snoozes
    pytest.param("snooze", None, lambda c: merge(c, "snooze", code="thyroid.everything"), 400, "code",
                 "unknown_code", id="snooze-unknown-code"),
    pytest.param("snooze", None, lambda c: merge(c, "snooze", code="platelets.low"), 400, "code",
                 "unknown_code", id="snooze-lab-rule-code"),
    pytest.param("snooze", None, lambda c: merge(c, "snooze", code=5), 400, "code", None,
                 id="snooze-code-number"),
    pytest.param("snooze", None, lambda c: merge(c, "snooze", code=""), 400, "code", None, id="snooze-code-empty"),
    pytest.param("snooze", None, lambda c: merge(c, "snooze", until=(add_months(c.today, 1)
                                                                     + timedelta(days=1)).isoformat()),
                 400, "until", None, id="snooze-longer-than-a-month"),
    pytest.param("snooze", None, lambda c: merge(c, "snooze", until=c.day(365)), 400, "until", None,
                 id="snooze-a-year"),
    pytest.param("snooze", None, lambda c: merge(c, "snooze", until=c.day(-1)), 400, "until", None,
                 id="snooze-in-the-past"),
    pytest.param("snooze", None, lambda c: merge(c, "snooze", until="2026-02-30"), 400, "until", None,
                 id="snooze-impossible-date"),
    pytest.param("snooze", None, lambda c: merge(c, "snooze", until="20260105"), 400, "until", None,
                 id="snooze-non-iso-date"),
    pytest.param("snooze", None, lambda c: merge(c, "snooze", until=None), 400, "until", None,
                 id="snooze-until-null"),
    pytest.param("snooze", None, lambda c: merge(c, "snooze", reason=5), 400, "reason", None,
                 id="snooze-reason-number"),
    pytest.param("snooze", None, lambda c: merge(c, "snooze", reason="x" * 501), 400, "reason", None,
                 id="snooze-reason-too-long"),
    # --- PATCH /clinic
    pytest.param("clinic", None, {"name": ""}, 400, "name", None, id="clinic-name-empty"),
    pytest.param("clinic", None, {"name": 5}, 400, "name", None, id="clinic-name-number"),
    pytest.param("clinic", None, {"name": None}, 400, "name", None, id="clinic-name-null"),
    pytest.param("clinic", None, {"phone": 900111222}, 400, "phone", None, id="clinic-phone-number"),
    pytest.param("clinic", None, {"phone": "12"}, 400, "phone", None, id="clinic-phone-too-short"),
    pytest.param("clinic", None, {"emergency_number": 112}, 400, "emergency_number", None,
                 id="clinic-emergency-number-number"),
    pytest.param("clinic", None, {"emergency_number": "1"}, 400, "emergency_number", None,
                 id="clinic-emergency-number-too-short"),
    pytest.param("clinic", None, {"name": "   "}, 400, "name", None, id="clinic-name-blank"),
    pytest.param("clinic", None, {"phone": "    "}, 400, "phone", None, id="clinic-phone-blank"),
    pytest.param("clinic", None, {"emergency_number": "   "}, 400, "emergency_number", None,
                 id="clinic-emergency-number-blank"),
    pytest.param("clinic", None, {"settings": {"lab_window_days": 3}}, 400, "settings", None,
                 id="clinic-settings-not-here"),
    # --- PUT /clinic/settings
    pytest.param("settings", None, {"settings": []}, 400, "settings", None, id="settings-list"),
    pytest.param("settings", None, {"settings": "lab_window_days=5"}, 400, "settings", None,
                 id="settings-string"),
    pytest.param("settings", None, settings_with(lab_window=5), 400, "settings.lab_window", None,
                 id="settings-unknown-name"),
    pytest.param("settings", None, {"settings": {"": 1}}, 400, "settings", None, id="settings-empty-name"),
    pytest.param("settings", None, settings_with(lab_window_days=10 ** 30), 400, "settings.lab_window_days", None,
                 id="settings-int-huge"),
    pytest.param("settings", None, settings_with(lab_window_days="7"), 400, "settings.lab_window_days", None,
                 id="settings-int-as-string"),
    pytest.param("settings", None, settings_with(lab_window_days=True), 400, "settings.lab_window_days", None,
                 id="settings-int-as-bool"),
    pytest.param("settings", None, settings_with(lab_window_days=7.5), 400, "settings.lab_window_days", None,
                 id="settings-int-fraction"),
    pytest.param("settings", None, settings_with(lab_window_days=99), 400, "settings.lab_window_days", None,
                 id="settings-int-above-max"),
    pytest.param("settings", None, settings_with(lab_window_days=-1), 400, "settings.lab_window_days", None,
                 id="settings-int-negative"),
    pytest.param("settings", None, settings_with(urgent_ack_hours=0), 400, "settings.urgent_ack_hours", None,
                 id="settings-int-below-min"),
    pytest.param("settings", None, settings_with(creatinine_rise=0.5), 400, "settings.creatinine_rise", None,
                 id="settings-number-below-min"),
    pytest.param("settings", None, settings_with(creatinine_rise="1.5"), 400, "settings.creatinine_rise", None,
                 id="settings-number-as-string"),
    pytest.param("settings", None, settings_with(antihistamine=1), 400, "settings.antihistamine", None,
                 id="settings-bool-as-1"),
    pytest.param("settings", None, settings_with(mri_yearly="yes"), 400, "settings.mri_yearly", None,
                 id="settings-bool-as-yes"),
    pytest.param("settings", None, settings_with(aciclovir_duration="3 months"), 400,
                 "settings.aciclovir_duration", None, id="settings-choice-unknown"),
    pytest.param("settings", None, settings_with(aciclovir_duration=2), 400, "settings.aciclovir_duration", None,
                 id="settings-choice-number"),
    # CLINICAL.md 1a (v2): listeria_until is a patient attribute; the clinic setting is gone
    pytest.param("settings", None, settings_with(listeria_until="2026-05-01"), 400, "settings.listeria_until",
                 None, id="settings-listeria-until-is-gone"),
    pytest.param("settings", None, settings_with(herpes_prophylaxis_drug="famciclovir"), 400,
                 "settings.herpes_prophylaxis_drug", None, id="settings-herpes-drug-unknown"),
    pytest.param("settings", None, settings_with(cd4_before_next_course="true"), 400,
                 "settings.cd4_before_next_course", None, id="settings-cd4-before-next-course-string"),
    pytest.param("settings", None, settings_with(reminder_time="9am"), 400, "settings.reminder_time", None,
                 id="settings-time-shape"),
    pytest.param("settings", None, settings_with(reminder_time="25:00"), 400, "settings.reminder_time", None,
                 id="settings-time-impossible"),
    pytest.param("settings", None, settings_with(quiet_hours="21:00"), 400, "settings.quiet_hours", None,
                 id="settings-range-shape"),
    pytest.param("settings", None, settings_with(quiet_hours="21:00-08:61"), 400, "settings.quiet_hours", None,
                 id="settings-range-impossible"),
    pytest.param("settings", None, settings_with(lab_window_days=5, mri_yearly=1), 400, "settings.mri_yearly",
                 None, id="settings-one-good-one-bad"),
]


# --- dates in range (CLINICAL.md section 1): 1900-01-01..2100-12-31, in the one LocalDate field --------

DATES_OUT_OF_RANGE = [
    pytest.param("course", None, {"infusions": ["9999-12-29", "9999-12-30", "9999-12-31"], "status": "planned"},
                 400, "infusions", None, id="course-planned-in-9999"),
    pytest.param("course", None, {"infusions": ["2101-01-01"], "status": "planned"}, 400, "infusions", None,
                 id="course-planned-after-2100"),
    pytest.param("course", None, {"infusions": ["0001-01-01"], "status": "given"}, 400, "infusions", None,
                 id="course-given-in-year-1"),
    pytest.param("course", None, {"infusions": ["1899-12-31"], "status": "given"}, 400, "infusions", None,
                 id="course-given-before-1900"),
    pytest.param("patch_patient", None, patch(pregnancies=[{"reported_on": "9999-01-01"}]), 400, "pregnancies",
                 None, id="patch-pregnancy-reported-in-9999"),
    pytest.param("patch_patient", None, lambda c: patch(pregnancies=[{"reported_on": c.day(-5),
                                                                      "ended_on": "2101-01-01"}]),
                 400, "pregnancies", None, id="patch-pregnancy-ending-after-2100"),
    pytest.param("labs", None, lambda c: merge(c, "labs", taken_on="1899-12-31"), 400, "taken_on", None,
                 id="labs-taken-before-1900"),
    pytest.param("checklist", None, lambda c: merge(c, "checklist", answered_on="0001-01-01"), 400, "answered_on",
                 None, id="checklist-answered-in-year-1"),
    pytest.param("snooze", None, lambda c: merge(c, "snooze", until="9999-12-31"), 400, "until", None,
                 id="snooze-until-9999"),
    pytest.param("create_patient", None, lambda c: merge(c, "create_patient", listeria_until="9999-12-31"), 400,
                 "listeria_until", None, id="create-listeria-until-9999"),
    pytest.param("patch_patient", None, patch(listeria_until="1899-12-31"), 400, "listeria_until", None,
                 id="patch-listeria-until-before-1900"),
    pytest.param("course_patch", None, {"infusions": ["9999-12-31"]}, 400, "infusions", None,
                 id="course-patch-in-9999"),
    pytest.param("pregnancy_patch", None, {"reported_on": "1899-12-31"}, 400, "reported_on", None,
                 id="pregnancy-patch-reported-before-1900"),
    pytest.param("pregnancy_patch", None, {"ended_on": "2101-01-01"}, 400, "ended_on", None,
                 id="pregnancy-patch-ending-after-2100"),
]


# --- control characters (issue 13, point 4) ----------------------------------------------------------
#
# Every string field of every body, dates, ids and object keys included, with a NUL in its
# value: 400 naming that field, nothing written (PostgreSQL refuses NUL in text, so without the
# check this is a 500 there). A path is a tuple of keys and list positions; KEY stands for the
# first key of the object it follows (its name, not its value, gets the character).

KEY = object()
#: (endpoint, body or None for the endpoint's valid one, path of the string)
STRING_FIELDS = [
    ("login", None, ("email",)),
    ("login", None, ("password",)),
    ("register", None, ("code",)),
    ("register", None, ("email",)),
    ("register", None, ("password",)),
    ("password", None, ("current_password",)),
    ("password", None, ("new_password",)),
    ("create_patient", None, ("display_name",)),
    ("create_patient", None, ("sex",)),
    ("create_patient", None, ("timezone",)),
    ("create_patient", None, ("language",)),
    ("create_patient", None, ("baseline", KEY)),
    ("patch_patient", None, ("display_name",)),
    ("patch_patient", None, ("sex",)),
    ("patch_patient", None, ("timezone",)),
    ("patch_patient", lambda c: patch(language="es"), ("language",)),
    ("patch_patient", lambda c: patch(baseline={"platelets": 240}), ("baseline", KEY)),
    ("patch_patient", lambda c: patch(pregnancies=[{"reported_on": c.day(-30), "ended_on": c.day(-5)}]),
     ("pregnancies", 0, "reported_on")),
    ("patch_patient", lambda c: patch(pregnancies=[{"reported_on": c.day(-30), "ended_on": c.day(-5)}]),
     ("pregnancies", 0, "ended_on")),
    ("course", None, ("infusions", 1)),
    ("course", None, ("status",)),
    ("checklist", None, ("client_id",)),
    ("checklist", None, ("answered_on",)),
    ("checklist", None, ("answers", KEY)),
    ("checklist", lambda c: merge(c, "checklist", note="felt tired"), ("note",)),
    ("labs", None, ("client_id",)),
    ("labs", None, ("taken_on",)),
    ("labs", None, ("results", 0, "analyte")),
    ("labs", labs_with(lambda c: result(c, analyte="urine_blood", value="negative")), ("results", 0, "value")),
    ("resolve", None, ("outcome",)),
    ("resolve", None, ("note",)),
    ("snooze", None, ("code",)),
    ("snooze", None, ("until",)),
    ("snooze", None, ("reason",)),
    ("clinic", lambda c: {"name": "Clinic A", "phone": "+34 900 000 000", "emergency_number": "112"}, ("name",)),
    ("clinic", None, ("phone",)),
    ("clinic", lambda c: {"emergency_number": "112"}, ("emergency_number",)),
    ("settings", None, ("settings", KEY)),
    ("settings", settings_with(aciclovir_duration="2 months"), ("settings", "aciclovir_duration")),
    ("settings", settings_with(herpes_prophylaxis_drug="valaciclovir"), ("settings", "herpes_prophylaxis_drug")),
    ("create_patient", lambda c: merge(c, "create_patient", listeria_until=c.day(30)), ("listeria_until",)),
    ("patch_patient", lambda c: patch(listeria_until=c.day(30)), ("listeria_until",)),
    ("settings", settings_with(reminder_time="09:00"), ("settings", "reminder_time")),
    ("subscribe", None, ("endpoint",)),
    ("subscribe", None, ("keys", "p256dh")),
    ("subscribe", None, ("keys", "auth")),
    ("unsubscribe", None, ("endpoint",)),
    ("shares", None, ("shares", 0)),
    ("course_patch", None, ("infusions", 0)),
    ("course_patch", None, ("status",)),
    ("pregnancy_patch", None, ("reported_on",)),
    ("pregnancy_patch", None, ("ended_on",)),
    ("erase_me", None, ("password",)),
]


def tainted(text: str, character: str) -> str:
    """``text`` with ``character`` after its first letter (inside, so that no trimming removes it)."""
    return text[:1] + character + text[1:]


def with_character(body: Any, path: tuple, character: str) -> Any:
    """A copy of ``body`` whose string at ``path`` holds ``character``."""
    body = json.loads(json.dumps(body))
    *parents, last = path
    holder = body
    for step in parents:
        holder = holder[step]
    if last is KEY:
        name = next(iter(holder))
        holder[tainted(name, character)] = holder.pop(name)
    else:
        holder[last] = tainted(holder[last], character)
    return body


def field_of(path: tuple) -> str:
    """The field an error names for ``path``: ``results.0.analyte``; a key names its object."""
    return ".".join(str(step) for step in path if step is not KEY)


def _control_character_cases():
    cases = []
    for endpoint, body, path in STRING_FIELDS:
        make = body or ENDPOINTS[endpoint].valid
        cases.append(pytest.param(
            endpoint, None, lambda c, make=make, path=path: with_character(make(c), path, "\x00"), 400,
            field_of(path), None, id=f"{endpoint}-nul-in-{field_of(path) or 'key'}"))
    # Other control characters, in a one-line text and in a note (where only \n and \t may be).
    others = {"soh": "\x01", "escape": "\x1b", "delete": "\x7f", "c1-next-line": "\x85", "lone-surrogate": "\ud800",
              "carriage-return": "\r"}
    for name, character in {**others, "line-feed": "\n", "tab": "\t"}.items():
        cases.append(pytest.param(
            "create_patient", None, lambda c, ch=character: with_character(merge(c, "create_patient"),
                                                                           ("display_name",), ch),
            400, "display_name", None, id=f"create_patient-{name}-in-display_name"))
    for name, character in others.items():
        cases.append(pytest.param(
            "resolve", None, lambda c, ch=character: with_character(merge(c, "resolve"), ("note",), ch),
            400, "note", None, id=f"resolve-{name}-in-note"))
    return cases


CONTROL_CHARACTERS = _control_character_cases()


# --- emails: NFKC, lower case, and printable ASCII after NFKC (docs/decisions.md, "Input") ---------------

EMAILS = [
    pytest.param(endpoint, None, lambda c, ep=endpoint, e=email: merge(c, ep, email=e), 400, "email", None,
                 id=f"{endpoint}-email-{name}")
    for endpoint in ("login", "register")
    for name, email in {
        "zero-width-space": "pat\u200btty@a.test",
        "zero-width-joiner": "newcomer\u200d@a.test",
        "soft-hyphen": "new\u00adcomer@a.test",
        "bidi-override": "\u202enewcomer@a.test",
        "bidi-isolate": "newcomer@a.\u2066test",
        "byte-order-mark": "\ufeffnewcomer@a.test",
        "cyrillic-a": "p\u0430tty@a.test",
        "greek-omicron-in-domain": "newcomer@ex\u03bfmple.test",
        "accented-local-part": "n\u00e9wcomer@a.test",
        "unicode-domain": "newcomer@b\u00fccher.test",
        "non-breaking-space-inside": "new\u00a0comer@a.test",
    }.items()
] + [
    # full-width letters fold to the same address: it is the same account, so it is taken
    pytest.param("register", None, lambda c: merge(c, "register", email="\uff30\uff41\uff54\uff54\uff59@a.test"),
                 409, "email", None, id="register-email-taken-full-width"),
]


@pytest.fixture
def ctx(world, db, app) -> Ctx:
    """Today, and single-use codes for /auth/register (a fresh one, a used one, an expired one)."""
    now = utcnow()
    newcomer = Patient(clinic_id=world.clinic.id, display_name="Nina Newcomer", sex="female",
                       childbearing_potential=False, breastfeeding=False, timezone="Europe/Madrid",
                       language="en", baseline={})
    db.add(newcomer)
    db.flush()
    code, _ = accounts.issue_code(db, newcomer, "enrollment", world.users["nurse"], now, 14)
    used, _ = accounts.issue_code(db, world.patient, "enrollment", world.users["nurse"], now - timedelta(days=3), 14)
    expired, _ = accounts.issue_code(db, newcomer, "enrollment", world.users["nurse"], now - timedelta(days=30), 14)
    db.commit()
    row = db.scalar(select(InviteCode).where(InviteCode.code_hash == accounts.code_hash(used)))
    row.used_at, row.used_by_id = now - timedelta(days=2), world.users["patient"].id
    # a pregnancy the corrections' cases can address (ENDPOINTS["pregnancy_patch"])
    world.patient.pregnancies.append(Pregnancy(reported_on=today_madrid() - timedelta(days=400),
                                               ended_on=today_madrid() - timedelta(days=130)))
    # a result the corrections' cases can address (ENDPOINTS["lab_patch"], ["lab_withdraw"])
    taken = today_madrid() - timedelta(days=3)
    lab = LabResult(patient_id=world.patient.id, analyte="platelets", value_num=95.0, unit="10^9/L",
                    value_as_recorded=95.0, unit_as_recorded="10^9/L", taken_on=taken, patient_reported=True)
    db.add(LabSubmission(patient_id=world.patient.id, client_id=new_client_id(), taken_on=taken,
                         patient_reported=True, response={}, results=[lab]))
    db.commit()
    world.patient.lab_result_id_for_tests = lab.id
    return Ctx(today=today_madrid(), world=world, code=code, extra={"used_code": used, "expired_code": expired})


def endpoint_path(ep: Endpoint, role: str, world) -> str:
    return ep.path.format(patient=world.user(role).patient_id if role == "other_patient" else world.patient.id,
                          flag=world.flag.id, family=world.users["family"].id,
                          course=world.patient.courses[0].id,
                          pregnancy=world.patient.pregnancies[0].id if world.patient.pregnancies else 0,
                          result=getattr(world.patient, "lab_result_id_for_tests", 0))


@pytest.mark.parametrize("endpoint,role,body,status,field,code",
                         _generic_cases() + SPECIFIC + DATES_OUT_OF_RANGE + CONTROL_CHARACTERS + EMAILS)
def test_bad_input_is_refused_and_writes_nothing(endpoint, role, body, status, field, code, ctx, world, db,
                                                 client_for):
    ep = ENDPOINTS[endpoint]
    role = role or ep.role
    client = client_for(role)
    path = endpoint_path(ep, role, world)
    if callable(body):
        body = body(ctx)
    before = snapshot(db)
    response = send(client, ep.method, path, body)
    check_envelope(response, status, field, code)
    after = snapshot(db)
    assert changed_tables(before, after) == [], f"{response.status_code} {response.get_json()}"



# --- queries: the same rules for the strings and dates of a query string ------------------------------

QUERIES = [
    pytest.param("nurse", "/api/v1/patients/{patient}/labs?analyte=pla%00telets", "analyte", id="labs-analyte-nul"),
    pytest.param("nurse", "/api/v1/flags?status=o%00pen", "status", id="flags-status-nul"),
    pytest.param("nurse", "/api/v1/patients/{patient}/timeline?from=2026-01-01%00", "from", id="timeline-from-nul"),
    pytest.param("nurse", "/api/v1/patients/{patient}/timeline?to=20%0026-01-01", "to", id="timeline-to-nul"),
    pytest.param("nurse", "/api/v1/patients/{patient}/timeline?to=9999-12-31", "to", id="timeline-to-9999"),
    pytest.param("nurse", "/api/v1/patients/{patient}/timeline?from=1899-12-31", "from",
                 id="timeline-from-before-1900"),
    pytest.param("anonymous", "/api/v1/content/texts?lang=e%00n", "lang", id="texts-lang-nul"),
    pytest.param("nurse", "/api/v1/patients?page=1%00", "page", id="patients-page-nul"),
    pytest.param("admin", "/api/v1/audit?before_id=1%00", "before_id", id="audit-before-id-nul"),
    pytest.param("nurse", "/api/v1/delivery?per_page=5%00", "per_page", id="delivery-per-page-nul"),
    pytest.param("nurse", "/api/v1/flags/queue?level=severe", "level", id="queue-level-unknown"),
    pytest.param("nurse", "/api/v1/flags/queue?status=resolved", "status", id="queue-status-resolved"),
    pytest.param("nurse", "/api/v1/flags/resolved?limit=0", "limit", id="resolved-limit-zero"),
    pytest.param("nurse", "/api/v1/checklists/to-read?days=abc", "days", id="to-read-days-text"),
]


@pytest.mark.parametrize("role,path,field", QUERIES)
def test_bad_query_is_refused_naming_the_parameter(role, path, field, world, db, client_for):
    client = client_for(role)
    before = snapshot(db)
    response = client.get(path.format(patient=world.patient.id))
    check_envelope(response, 400, field)
    assert changed_tables(before, snapshot(db)) == []

# --- conflicts and idempotency of checklists ---------------------------------------------


def _checklist(ctx: Ctx, **changes) -> dict:
    return merge(ctx, "checklist", **changes)


def test_second_checklist_of_the_month_is_a_conflict_and_writes_nothing(ctx, world, db, client_for):
    patient = client_for("patient")
    path = f"/api/v1/patients/{world.patient.id}/checklists"
    body = _checklist(ctx, answers={"thyroid.weight": True})
    first = patient.post(path, json=body)
    assert first.status_code == 201, first.json
    before = snapshot(db)
    second = patient.post(path, json=_checklist(ctx, answers={"bleed.mucosal": True}))
    check_envelope(second, 409, "answered_on")
    assert changed_tables(before, snapshot(db)) == []
    # the first one's replay still answers with its first body
    replay = patient.post(path, json=body)
    assert replay.status_code == 200 and replay.json == first.json
    assert changed_tables(before, snapshot(db)) == []


@pytest.mark.parametrize("answers,flagged", [
    pytest.param({"bleed.mucosal": True}, True, id="urgent-with-flag"),
    pytest.param({"thyroid.weight": True}, False, id="routine-without-flag"),
    pytest.param({}, False, id="nothing"),
])
def test_same_client_id_again_answers_200_with_the_same_body_and_writes_nothing(answers, flagged, ctx, world, db,
                                                                              client_for):
    patient = client_for("patient")
    path = f"/api/v1/patients/{world.patient.id}/checklists"
    body = _checklist(ctx, answers=answers)
    first = patient.post(path, json=body)
    assert first.status_code == 201, first.json
    assert (first.json["flag_id"] is not None) == flagged
    before = snapshot(db)
    again = patient.post(path, json=body)
    assert again.status_code == 200, again.json
    assert again.json == first.json
    assert changed_tables(before, snapshot(db)) == []
    # The replay wins even when the rest of the body differs (an outbox resend after an edit).
    changed = {**body, "answers": {"emergency.neuro": True}}
    third = patient.post(path, json=changed)
    assert third.status_code == 200 and third.json == first.json
    assert changed_tables(before, snapshot(db)) == []


@pytest.mark.parametrize("role", ["patient", "nurse"])
def test_same_client_id_for_labs_answers_200_with_the_same_body_and_writes_nothing(role, ctx, world, db,
                                                                                  client_for):
    """The replay writes no lab data. A staff replay still shows the stored results to a staff member,
    which CLINICAL.md 6 says is audited: for a nurse the one new row allowed is that audit event."""
    client = client_for(role)
    path = f"/api/v1/patients/{world.patient.id}/labs"
    body = merge(ctx, "labs", results=[result(ctx, value=80)])
    first = client.post(path, json=body)
    assert first.status_code == 201, first.json
    before = snapshot(db)
    again = client.post(path, json=body)
    assert again.status_code == 200 and again.json == first.json
    after = snapshot(db)
    if role == "patient":
        assert changed_tables(before, after) == []
    else:
        assert changed_tables(before, after) in ([], ["audit_events"])
        assert after["audit_events"][0] - before["audit_events"][0] <= 1


def test_a_bad_request_after_a_good_one_leaves_the_good_one_alone(ctx, world, db, client_for):
    """A refused request rolls back only itself: the earlier write stays exactly as it was."""
    nurse = client_for("nurse")
    ok = nurse.post(f"/api/v1/patients/{world.patient.id}/labs", json=merge(ctx, "labs"))
    assert ok.status_code == 201
    before = snapshot(db)
    bad = nurse.post(f"/api/v1/patients/{world.patient.id}/labs",
                     json=merge(ctx, "labs", results=[result(ctx, analyte="tsh", value=9.0),
                                                      result(ctx, value=-1)]))
    check_envelope(bad, 400, "results.1.value")
    assert changed_tables(before, snapshot(db)) == []


def test_the_snapshot_sees_a_write(ctx, world, db, client_for):
    """Guard against a vacuous check: a good request does change the snapshot."""
    nurse = client_for("nurse")
    before = snapshot(db)
    ok = nurse.post(f"/api/v1/patients/{world.patient.id}/labs", json=merge(ctx, "labs"))
    assert ok.status_code == 201
    assert {"lab_results", "lab_submissions"} <= set(changed_tables(before, snapshot(db)))
    before = snapshot(db)
    assert nurse.put("/api/v1/clinic/settings", json={"settings": {"mri_yearly": False}}).status_code == 200
    assert changed_tables(before, snapshot(db)) == ["clinics"]


# --- lab import (issue 19): the CSV upload's and the FHIR route's bodies -------------------------------
# Their error bodies carry more than the envelope's three keys (every refused row; the row and column of a
# malformed file), so they are checked here rather than through check_envelope.

CSV_MAPPING = {"hospital_number": "mrn", "analyte": "test", "value": "value", "unit": "unit", "taken_on": "date"}


def _csv(c: Ctx, **changes) -> dict:
    text = f"mrn,test,value,unit,date\nA-1,platelets,240,10^9/L,{c.day(0)}\n"
    return {"csv": text, "mapping": CSV_MAPPING, **changes}


BAD_CSV = [
    pytest.param(Raw(b"{bad"), "malformed_json", None, id="malformed-json"),
    pytest.param([1], None, None, id="json-array"),
    pytest.param({}, None, "csv", id="empty-object"),
    pytest.param(lambda c: {k: v for k, v in _csv(c).items() if k != "mapping"}, None, "mapping", id="no-mapping"),
    pytest.param(lambda c: _csv(c, bogus=1), None, "bogus", id="unknown-field"),
    pytest.param(lambda c: _csv(c, csv=42), None, "csv", id="csv-number"),
    pytest.param(lambda c: _csv(c, csv=""), None, "csv", id="csv-empty"),
    pytest.param(lambda c: _csv(c, csv="a,b\n1,\u0000\n"), None, "csv", id="csv-nul"),
    pytest.param(lambda c: _csv(c, confirm_valid="yes"), None, "confirm_valid", id="confirm-string"),
    pytest.param(lambda c: _csv(c, mapping={**CSV_MAPPING, "value": 3}), None, "mapping.value", id="mapping-number"),
    pytest.param(lambda c: _csv(c, mapping={**CSV_MAPPING, "unit": "Units"}), None, "mapping.unit",
                 id="mapping-unknown-column"),
    pytest.param(lambda c: _csv(c, mapping={k: v for k, v in CSV_MAPPING.items() if k != "taken_on"}), None,
                 "mapping.taken_on", id="mapping-missing-part"),
    pytest.param(lambda c: _csv(c, csv='mrn,test\n"A-1,platelets\n'), "malformed_csv", None, id="unclosed-quote"),
    pytest.param(lambda c: _csv(c, csv="mrn,test\nA-1\n"), "malformed_csv", None, id="short-row"),
]


@pytest.mark.parametrize("preview", ["true", "false"])
@pytest.mark.parametrize("body,code,field", BAD_CSV)
def test_bad_import_body_csv_is_refused_and_writes_nothing(body, code, field, preview, ctx, db, client_for):
    client = client_for("nurse")
    body = body(ctx) if callable(body) else body
    before = snapshot(db)
    response = send(client, "POST", f"/api/v1/lab-import/csv?preview={preview}", body)
    assert response.status_code == 400, response.get_data(as_text=True)
    error = response.get_json()["error"]
    assert error["message"] and (code is None or error["code"] == code), error
    if field is not None:
        assert error.get("field") == field, error
    assert changed_tables(before, snapshot(db)) == []


def test_bad_import_query_is_refused(ctx, db, client_for):
    client = client_for("nurse")
    response = send(client, "POST", "/api/v1/lab-import/csv?preview=maybe", _csv(ctx))
    assert response.status_code == 400 and response.get_json()["error"]["field"] == "preview"


BAD_BUNDLES = [
    pytest.param(Raw(b"{bad"), id="malformed-json"),
    pytest.param(Raw(b"a=1", "application/x-www-form-urlencoded"), id="form-encoded"),
    pytest.param([1], id="json-array"),
    pytest.param({"resourceType": "Patient"}, id="not-a-bundle"),
    pytest.param({"resourceType": "Bundle", "type": "searchset", "entry": [{}]}, id="bundle-type"),
    pytest.param({"resourceType": "Bundle", "type": "collection", "entry": []}, id="no-entry"),
    pytest.param({"resourceType": "Bundle", "type": "collection", "entry": {"a": 1}}, id="entry-object"),
    pytest.param({"resourceType": "Bundle", "type": "collection", "entry": [1, {"resource": {}}]},
                 id="entries-not-observations"),
    pytest.param({"resourceType": "Bundle", "type": "collection", "entry": [{"resource": {
        "resourceType": "Observation", "subject": {"identifier": {"value": "A-1"}},
        "code": {"coding": [{"system": "http://loinc.org", "code": "777-3"}]},
        "valueQuantity": {"value": "240", "code": "10*9/L"}, "effectiveDateTime": "2026-01-01"}}]},
        id="value-string"),
    pytest.param({"resourceType": "Bundle", "type": "collection", "entry": [{"resource": {
        "resourceType": "Observation", "subject": {"identifier": {"value": "A-1"}},
        "code": {"coding": [{"system": "http://loinc.org", "code": "777-3"}]},
        "valueQuantity": {"value": 240, "code": "10*9/L"}, "effectiveDateTime": "yesterday"}}]},
        id="bad-date"),
]


@pytest.mark.parametrize("body", BAD_BUNDLES)
def test_bad_import_body_fhir_is_refused_and_writes_nothing(body, app, ctx, world, db):
    from server.services import api_keys
    world.patient.hospital_number = "A-1"
    _, key = api_keys.create(db, world.users["admin"], "Lab", utcnow())
    db.commit()
    before = snapshot(db)
    client = app.test_client()
    if isinstance(body, Raw):
        response = client.post("/api/v1/lab-import/fhir", data=body.data, content_type=body.content_type,
                               headers={"Authorization": f"Bearer {key}"})
    else:
        response = client.post("/api/v1/lab-import/fhir", json=body, headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 400, response.get_data(as_text=True)
    assert response.get_json()["error"]["message"]
    # only the key's last use changes
    assert changed_tables(before, snapshot(db)) in ([], ["api_keys"])
