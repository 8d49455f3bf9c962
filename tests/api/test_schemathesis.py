"""Property-based API tests: Schemathesis against the app's own OpenAPI document.

Every operation of ``/api/v1/openapi.json`` is run as every role of the test
world (anonymous, patient, family, nurse, admin, and the outsiders: another
clinic's nurse, a revoked family member), a bounded number of examples each,
with the checks

* ``not_a_server_error``: no 5xx, ever;
* ``status_code_conformance``: the status is one the operation documents;
* ``content_type_conformance``: the answer's media type is the documented one;
* ``response_schema_conformance``: the body is valid against the documented schema.

Each generated request carries the role's session cookie and its X-CSRF-Token.
Generated path ids mostly name nothing (404); a second batch of examples per
operation fixes the path ids to the world's own patient, flag and users so that
the 2xx answers are exercised and checked as well.

Examples are derandomized (the same examples each run) so that a known failure,
marked ``xfail(strict=True)``, fails or passes the same way every time. Raise
``ALEMTRACK_SCHEMATHESIS_EXAMPLES`` to explore further.
"""

from __future__ import annotations

import os
from collections import Counter, defaultdict

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import checks
from schemathesis.core.failures import FailureGroup

from server import create_app

from ..conftest import TEST_CONFIG
from .conftest import PASSWORD, Client

SPEC_PATH = "/api/v1/openapi.json"
COOKIE = "alemtrack_session"
#: examples per operation and role, for each of the two batches (generated ids, real ids)
EXAMPLES = int(os.environ.get("ALEMTRACK_SCHEMATHESIS_EXAMPLES", "8"))
ROLES = ("anonymous", "patient", "family", "nurse", "admin", "other_nurse", "revoked_family")
CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
]
#: operations after which the role's session may be over: the client logs in again
SESSION_ENDING = {
    "POST /api/v1/auth/logout",
    "POST /api/v1/auth/password",
    "POST /api/v1/users/{user_id}/disable",
}


def _load_schema():
    """The OpenAPI document, as the app serves it (a spec-only instance: the document needs no database)."""
    spec_app = create_app({**TEST_CONFIG, "DATABASE_URL": "sqlite://"})
    return schemathesis.openapi.from_wsgi(SPEC_PATH, spec_app)


SCHEMA = _load_schema()
OPERATIONS = {result.ok().label: result.ok() for result in SCHEMA.get_all_operations()}

#: (role, operation label) -> why it is a known server bug (xfail strict)
KNOWN_BUGS: dict[tuple[str, str], str] = {}

#: where examples with the world's real ids must reach a 2xx at least once (API.md section 2)
MUST_SUCCEED = {
    "GET /api/v1/patients/{patient_id}": {"patient", "family", "nurse", "admin"},
    "GET /api/v1/patients/{patient_id}/timeline": {"patient", "family", "nurse", "admin"},
    "GET /api/v1/patients/{patient_id}/checklist": {"patient"},
    "GET /api/v1/patients/{patient_id}/checklists": {"patient", "nurse", "admin"},
    "GET /api/v1/patients/{patient_id}/labs": {"patient", "nurse", "admin"},
    "GET /api/v1/patients/{patient_id}/family": {"patient"},
    "POST /api/v1/patients/{patient_id}/family-invites": {"patient"},
    "DELETE /api/v1/patients/{patient_id}/family/{user_id}": {"patient"},
    "POST /api/v1/flags/{flag_id}/ack": {"nurse", "admin"},
    "POST /api/v1/users/{user_id}/disable": {"admin"},
    "GET /api/v1/flags": {"nurse", "admin"},
    "GET /api/v1/patients": {"nurse", "admin"},
    "GET /api/v1/me": {"patient", "family", "nurse", "admin"},
}

#: what ran, for the report: (role, label) -> Counter of statuses, per batch
STATUSES: dict[tuple[str, str, str], Counter] = defaultdict(Counter)


def _params():
    for label in OPERATIONS:
        for role in ROLES:
            marks = []
            if (role, label) in KNOWN_BUGS:
                marks.append(pytest.mark.xfail(strict=True, reason=KNOWN_BUGS[role, label]))
            yield pytest.param(role, label, id=f"{role}-{label}", marks=marks)


class Session:
    """The role's session cookie and CSRF token, sent with every generated request."""

    def __init__(self, app, world, role: str):
        self.app, self.world, self.role = app, world, role
        self.refresh()

    def refresh(self) -> None:
        client = Client(self.app)
        if self.role != "anonymous":
            response = client.login(self.world.users[self.role].email, PASSWORD)
            assert response.status_code == 200, response.json
        self.cookie = client.http.get_cookie(COOKIE).value
        self.csrf = client.csrf

    def kwargs(self) -> dict:
        return {"headers": {"X-CSRF-Token": self.csrf}, "cookies": {COOKIE: self.cookie}}


def _real_path_parameters(label: str, world) -> dict:
    """The world's own ids for the operation's path parameters."""
    operation = OPERATIONS[label]
    names = {parameter.name for parameter in operation.path_parameters}
    ids = {"patient_id": world.patient.id, "flag_id": world.flag.id}
    if "user_id" in names:
        # a family member of the patient; for disabling, another account of the clinic
        ids["user_id"] = world.users["family" if "/family/" in label else "other_patient"].id
    return {name: ids[name] for name in names}


def _real_body(label: str, world):
    if label == "POST /api/v1/auth/login":
        return {"email": world.users["patient"].email, "password": PASSWORD}
    return schemathesis.core.NOT_SET


def _run(app, session: Session, role: str, label: str, strategy, batch: str) -> None:
    statuses = STATUSES[role, label, batch]

    @settings(max_examples=EXAMPLES, database=None, derandomize=True,
              phases=[Phase.explicit, Phase.generate, Phase.shrink],
              suppress_health_check=list(HealthCheck))
    @given(case=strategy)
    def run(case):
        response = case.call(app=app, **session.kwargs())
        statuses[response.status_code] += 1
        try:
            case.validate_response(response, checks=CHECKS, headers=session.kwargs()["headers"])
        finally:
            if label in SESSION_ENDING:
                session.refresh()

    try:
        run()
    except FailureGroup as failure:  # schemathesis's report: the checks that failed, and a curl to reproduce
        pytest.fail(f"{role} {label} ({batch} ids):\n{failure}", pytrace=False)


def test_the_fixture_app_serves_the_document_tested(app):
    served = app.test_client().get(SPEC_PATH)
    assert served.status_code == 200
    assert served.json == SCHEMA.raw_schema
    assert len(OPERATIONS) >= 30


@pytest.mark.parametrize(("role", "label"), list(_params()))
def test_operation(app, world, role, label):
    operation = OPERATIONS[label]
    session = Session(app, world, role)

    _run(app, session, role, label, operation.as_strategy(), "generated")

    real_path = _real_path_parameters(label, world)
    real_body = _real_body(label, world)
    if real_path or real_body is not schemathesis.core.NOT_SET:
        strategy = operation.as_strategy(path_parameters=real_path or None, body=real_body)
        _run(app, session, role, label, strategy, "real")
        if role in MUST_SUCCEED.get(label, ()):
            seen = STATUSES[role, label, "real"]
            assert any(200 <= status < 300 for status in seen), (
                f"{role} {label}: no 2xx with the world's ids {real_path}: {dict(seen)}")
    elif role in MUST_SUCCEED.get(label, ()):
        seen = STATUSES[role, label, "generated"]
        assert any(200 <= status < 300 for status in seen), f"{role} {label}: no 2xx: {dict(seen)}"
