"""Property-based API tests: Schemathesis against the app's own OpenAPI document.

Every operation of ``/api/v1/openapi.json`` is run as every role of the test
world (anonymous, patient, family, nurse, admin; and, where the path names an
id, the outsiders: another clinic's nurse, a revoked family member), a bounded
number of examples each, with the checks

* ``not_a_server_error``: no 5xx, ever;
* ``status_code_conformance``: the status is one the operation documents;
* ``content_type_conformance``: the answer's media type is the documented one;
* ``response_schema_conformance``: the body is valid against the documented schema.

Each generated request carries the role's session cookie and its X-CSRF-Token.
Generated path ids mostly name nothing (404); a second batch of examples per
operation fixes the path ids to the world's own patient, flag and users, and a
third request sends a body the server's own rules accept, so that the 2xx
answers are exercised and checked as well.

Examples are derandomized (the same examples each run) so that a known failure,
marked ``xfail(strict=True)``, fails or passes the same way every time. Raise
``ALEMTRACK_SCHEMATHESIS_EXAMPLES`` to explore further.
"""

from __future__ import annotations

import os
from collections import Counter, defaultdict
from datetime import timedelta

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import checks
from schemathesis.core import NOT_SET
from schemathesis.core.failures import FailureGroup

from server import create_app

from ..conftest import TEST_CONFIG
from .conftest import PASSWORD, Client, new_client_id, today_madrid

SPEC_PATH = "/api/v1/openapi.json"
COOKIE = "alemtrack_session"
#: examples per operation and role, in each batch (generated ids; the world's ids)
EXAMPLES = int(os.environ.get("ALEMTRACK_SCHEMATHESIS_EXAMPLES", "5"))
ROLES = ("anonymous", "patient", "family", "nurse", "admin")
#: outsiders to the world's patient: run on the operations that name an id (elsewhere they are a nurse
#: or a family member like any other)
OUTSIDER_ROLES = ("other_nurse", "revoked_family")
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

#: (role, operation label) -> why its run fails on a known server bug (marked xfail strict); none at present
KNOWN_BUGS: dict[tuple[str, str], str] = {}

#: who must get a 2xx at least once, from the world's ids or a valid body (API.md section 2)
MUST_SUCCEED = {
    "GET /api/v1/patients/{patient_id}": {"patient", "family", "nurse", "admin"},
    "GET /api/v1/patients/{patient_id}/timeline": {"patient", "family", "nurse", "admin"},
    "GET /api/v1/patients/{patient_id}/checklist": {"patient"},
    "GET /api/v1/patients/{patient_id}/checklists": {"patient", "nurse", "admin"},
    "GET /api/v1/patients/{patient_id}/labs": {"patient", "nurse", "admin"},
    "GET /api/v1/patients/{patient_id}/family": {"patient"},
    "POST /api/v1/patients/{patient_id}/family-invites": {"patient"},
    "DELETE /api/v1/patients/{patient_id}/family/{user_id}": {"patient"},
    "GET /api/v1/patients/{patient_id}/family/me": {"family"},
    "POST /api/v1/flags/{flag_id}/ack": {"nurse", "admin"},
    "POST /api/v1/users/{user_id}/disable": {"admin"},
    "GET /api/v1/flags": {"nurse", "admin"},
    "GET /api/v1/patients": {"nurse", "admin"},
    "GET /api/v1/me": {"patient", "family", "nurse", "admin"},
    "GET /api/v1/fhir/Questionnaire/ms-monthly-checklist": {"anonymous", "patient", "family", "nurse", "admin"},
    "GET /api/v1/fhir/Questionnaire/cll-checklist": {"anonymous", "patient", "family", "nurse", "admin"},
    # the care team's 2xx is the FHIR Bundle, with the query of _real_query
    "GET /api/v1/patients/{patient_id}/export": {"patient", "nurse", "admin"},
    # with the valid body of _valid_body
    "POST /api/v1/patients": {"nurse", "admin"},
    "PATCH /api/v1/patients/{patient_id}": {"nurse", "admin"},
    "POST /api/v1/patients/{patient_id}/checklists": {"patient"},
    "POST /api/v1/patients/{patient_id}/courses": {"nurse", "admin"},
    "POST /api/v1/patients/{patient_id}/labs": {"patient", "nurse", "admin"},
    "POST /api/v1/patients/{patient_id}/snoozes": {"nurse", "admin"},
    "POST /api/v1/flags/{flag_id}/resolve": {"nurse", "admin"},
    "PUT /api/v1/patients/{patient_id}/family/{user_id}/shares": {"patient"},
}

#: roles that must never get a 2xx for the world's patient, flag or users (API.md: 404 for another clinic's)
OUTSIDERS = {"anonymous", "other_nurse", "revoked_family"}

#: what ran, for a report: (backend, role, label, batch) -> Counter of the statuses answered
STATUSES: dict[tuple[str, str, str, str], Counter] = defaultdict(Counter)


def _params():
    for label, operation in OPERATIONS.items():
        for role in ROLES + (OUTSIDER_ROLES if len(operation.path_parameters) else ()):
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
        # identity: the answer as sent, not gzip- or brotli-encoded (schemathesis's WSGI transport
        # reads the body as it comes, where a browser or requests would decode it first)
        return {"headers": {"X-CSRF-Token": self.csrf, "Accept-Encoding": "identity"},
                "cookies": {COOKIE: self.cookie}}


def _real_path_parameters(label: str, world) -> dict:
    """The world's own ids for the operation's path parameters."""
    operation = OPERATIONS[label]
    names = {parameter.name for parameter in operation.path_parameters}
    ids = {"patient_id": world.patient.id, "flag_id": world.flag.id, "course_id": world.patient.courses[0].id,
           # the world records no pregnancy: an id that names none (a 404 for everyone)
           "pregnancy_id": 2**31 - 1,
           # nor a lab result: the 2xx of its corrections are tests/api/test_lab_units_and_corrections.py's
           "result_id": 2**31 - 1,
           # nor an API key (its revocation: tests/api/test_lab_import.py)
           "key_id": 2**31 - 1,
           # nor a checklist (its read mark: tests/api/test_checklist_read_marks.py)
           "checklist_id": 2**31 - 1}
    if "user_id" in names:
        # a family member of the patient; for disabling, another account of the clinic
        ids["user_id"] = world.users["family" if "/family/" in label else "other_patient"].id
    return {name: ids[name] for name in names}


def _real_query(label: str) -> dict | None:
    """A query the runs with the world's ids send: the FHIR export (the care team's only 2xx there)."""
    return {"format": "fhir"} if label == "GET /api/v1/patients/{patient_id}/export" else None


def _real_body(label: str, world):
    if label == "POST /api/v1/auth/login":
        return {"email": world.users["patient"].email, "password": PASSWORD}
    return NOT_SET


def _run(app, session: Session, role: str, label: str, strategy, batch: str) -> Counter:
    """Run the checks on examples of ``strategy``; the statuses answered."""
    statuses: Counter = Counter()

    @settings(max_examples=EXAMPLES, database=None, derandomize=True,
              phases=[Phase.explicit, Phase.generate, Phase.shrink],
              suppress_health_check=list(HealthCheck))
    @given(case=strategy)
    def run(case):
        try:
            response = case.call(app=app, **session.kwargs())
        except Exception as error:  # the app raised: schemathesis re-raises what would be a 500
            raise AssertionError(f"server error: {type(error).__name__}: {error}\n"
                                 f"{case.as_curl_command(headers=session.kwargs()['headers'])}") from error
        statuses[response.status_code] += 1
        try:
            case.validate_response(response, checks=CHECKS, headers=session.kwargs()["headers"])
        finally:
            if label in SESSION_ENDING:
                session.refresh()

    report = None
    try:
        run()
    except FailureGroup as failure:  # schemathesis's report: the checks that failed, and a curl to reproduce
        report = f"{role} {label} [{batch}]:\n{failure}"
    STATUSES[app.extensions["alemtrack_db"].engine.dialect.name, role, label, batch].update(statuses)
    if report is not None:
        pytest.fail(report, pytrace=False)
    return statuses


def test_the_fixture_app_serves_the_document_tested(app):
    served = app.test_client().get(SPEC_PATH)
    assert served.status_code == 200
    assert served.json == SCHEMA.raw_schema
    assert len(OPERATIONS) >= 30


@pytest.mark.parametrize(("role", "label"), list(_params()))
def test_operation(app, world, role, label):
    operation = OPERATIONS[label]
    session = Session(app, world, role)

    seen = _run(app, session, role, label, operation.as_strategy(), "generated")

    real_path = _real_path_parameters(label, world)
    real_body = _real_body(label, world)
    with_world = Counter()  # statuses of the requests that name the world's ids or send a valid body
    real_query = _real_query(label)
    if real_path or real_body is not NOT_SET:
        extra = {"query": real_query} if real_query else {}
        strategy = operation.as_strategy(path_parameters=real_path or None, body=real_body, **extra)
        with_world += _run(app, session, role, label, strategy, "real")
    valid_body = _valid_body(label)
    if valid_body is not NOT_SET:
        # Generated bodies rarely pass the server's own rules (known codes, outcomes, dates): one
        # request with a body that does, so that the 2xx answer is checked against its schema too.
        strategy = operation.as_strategy(path_parameters=real_path or None, body=valid_body)
        with_world += _run(app, session, role, label, strategy, "valid")
    seen += with_world

    if role in MUST_SUCCEED.get(label, ()):
        assert any(200 <= status < 300 for status in seen), (
            f"{role} {label}: no 2xx, with the world's ids {real_path}: {dict(seen)}")
    if role in OUTSIDERS and real_path:
        assert not any(200 <= status < 300 for status in with_world), (
            f"{role} {label}: a 2xx for another clinic's or a revoked member's ids {real_path}: "
            f"{dict(with_world)}")


#: the operations that take an id: a path id, or the audit log's before_id
ID_OPERATIONS = [label for label, operation in OPERATIONS.items()
                 if len(operation.path_parameters) or label == "GET /api/v1/audit"]


def _valid_body(label: str):
    today = today_madrid()
    bodies = {
        "PATCH /api/v1/patients/{patient_id}": {"display_name": "Patty Patient", "sex": "female",
                                                "timezone": "Europe/Madrid"},
        "POST /api/v1/patients/{patient_id}/checklists": {
            "client_id": new_client_id(), "answered_on": today.isoformat(), "answers": {}, "note": None},
        "POST /api/v1/patients/{patient_id}/courses": {"infusions": [today.isoformat()], "status": "planned"},
        "POST /api/v1/patients/{patient_id}/labs": {
            "client_id": new_client_id(), "taken_on": today.isoformat(),
            "results": [{"analyte": "platelets", "value": 200, "ref_low": 150, "ref_high": 400}]},
        "POST /api/v1/patients/{patient_id}/snoozes": {
            "code": "bleed.mucosal", "until": (today + timedelta(days=7)).isoformat(), "reason": None},
        "POST /api/v1/flags/{flag_id}/resolve": {"outcome": "called_patient", "note": None},
        "PATCH /api/v1/patients/{patient_id}/labs/{result_id}": {"value": 120, "unit": "G/L", "reason": "typo"},
        "DELETE /api/v1/patients/{patient_id}/labs/{result_id}": {"reason": "entered twice"},
        "PUT /api/v1/patients/{patient_id}/family/{user_id}/shares": {"shares": ["lab"]},
        "POST /api/v1/patients": {"display_name": "Vera Valid", "sex": "female", "childbearing_potential": True,
                                  "breastfeeding": False, "timezone": "Europe/Madrid", "language": "es",
                                  "baseline": {"platelets": 240}},
    }
    return bodies.get(label, NOT_SET)


@pytest.mark.parametrize("value", [2**31, 2**63], ids=["2**31", "2**63"])
@pytest.mark.parametrize("label", ID_OPERATIONS)
def test_ids_beyond_the_id_columns_range(app, world, label, value):
    """An id no row can have names nothing: 404 (or 400, or an empty page), never a 500.

    The document declares the ids as unbounded integers, and Flask's int converter
    takes any digits, so without a guard these requests reach the database, whose
    driver fails on an integer wider than the column.
    """
    operation = OPERATIONS[label]
    body = _valid_body(label)
    session = Session(app, world, "admin")  # staff of the clinic: gets past every role check to the lookup
    if label == "GET /api/v1/audit":
        strategy = operation.as_strategy(query={"before_id": value})
    else:
        # A valid body where there is one, so that the request is not refused before the lookup.
        strategy = operation.as_strategy(
            path_parameters={parameter.name: value for parameter in operation.path_parameters}, body=body)
    _run(app, session, "admin", label, strategy, f"id {value}")


@pytest.mark.parametrize("label", [label for label in ID_OPERATIONS if OPERATIONS[label].path_parameters])
def test_negative_path_ids_are_not_found(app, world, label):
    """An id no row can have names nothing: 404, whatever the method."""
    operation = OPERATIONS[label]
    path = operation.full_path
    for parameter in operation.path_parameters:
        path = path.replace("{%s}" % parameter.name, "-1")
    client = Client(app)
    assert client.login(world.users["admin"].email).status_code == 200
    body = _valid_body(label)
    kwargs = {} if body is NOT_SET else {"json": body}
    response = client.open(operation.method.upper(), path, **kwargs)
    assert response.status_code == 404, (label, response.status_code, response.get_data(as_text=True))
    assert response.json["error"]["code"] == "not_found"


# --- found while building the runs above -----------------------------------------------------
# PATCH /patients/{id} once loaded its body as a whole record (PatientPatchIn's ``Meta.partial`` is
# no marshmallow option): display_name, sex and timezone were required, so a patient could never
# change her language, and every field left out was reset to its default (baseline to {},
# childbearing_potential to false). The document said so too, so the runs could not see it.


def test_a_patient_may_patch_her_own_language_alone(world, client_for):
    response = client_for("patient").patch(f"/api/v1/patients/{world.patient.id}", json={"language": "es"})
    assert response.status_code == 200, response.json
    assert response.json["language"] == "es"


def test_a_nurse_may_patch_one_field(world, client_for):
    response = client_for("nurse").patch(f"/api/v1/patients/{world.patient.id}", json={"display_name": "Patty P."})
    assert response.status_code == 200, response.json
    assert response.json["display_name"] == "Patty P."


def test_a_patch_keeps_the_fields_it_was_not_sent(world, client_for):
    nurse = client_for("nurse")
    path = f"/api/v1/patients/{world.patient.id}"
    before = nurse.get(path).json
    assert before["baseline"] and before["childbearing_potential"] is True
    response = nurse.patch(path, json={"display_name": "Patty P.", "sex": before["sex"],
                                       "timezone": before["timezone"]})
    assert response.status_code == 200, response.json
    after = nurse.get(path).json
    assert after["display_name"] == "Patty P."
    assert {k: v for k, v in after.items() if k != "display_name"} == \
        {k: v for k, v in before.items() if k != "display_name"}
