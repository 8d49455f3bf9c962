"""Lab import (issue 19): clinic API keys, a laboratory's FHIR Bundle, the nurse's CSV upload."""

from __future__ import annotations

from flask import request

from .. import auth
from ..db import get_session
from ..errors import api_error
from ..models import ApiKey
from ..services import api_keys, audit, clinics
from ..services import lab_import as service
from ..services.errors import NotFound
from ..timeutil import utcnow
from . import bp, content, iso, large_list
from .schemas import (
    ApiKeyCreatedOut,
    ApiKeyIn,
    ApiKeyListOut,
    CsvImportIn,
    CsvImportQuery,
    FhirBundleIn,
    FhirImportQuery,
    ImportOut,
)

STAFF = ("nurse", "admin")
#: the machine route: a key in the Authorization header, no session, no CSRF token
FHIR_ENDPOINT = "api.import_fhir"


def key_json(row: ApiKey) -> dict:
    return {"id": row.id, "name": row.name, "prefix": row.prefix, "created_at": iso(row.created_at),
            "last_used_at": iso(row.last_used_at), "revoked_at": iso(row.revoked_at)}


@bp.post("/clinic/api-keys")
@bp.input(ApiKeyIn, arg_name="body")
@bp.output(ApiKeyCreatedOut, status_code=201)
@bp.doc(summary="Create an API key for a laboratory system (admin); the key is shown this once",
        responses=[400, 401, 403, 413])
def create_api_key(body):
    admin = auth.require_role("admin")
    session = get_session()
    row, key = api_keys.create(session, admin, body["name"], utcnow())
    auth.record_access(admin, "api_key.create", None)
    session.commit()
    return {**key_json(row), "key": key}, 201


@bp.get("/clinic/api-keys")
@bp.output(ApiKeyListOut)
@bp.doc(summary="The clinic's API keys: names, created, last used, revoked (admin)", responses=[401, 403])
def list_api_keys():
    admin = auth.require_role("admin")
    session = get_session()
    items = [key_json(row) for row in api_keys.of_clinic(session, admin.clinic_id)]
    session.commit()
    return {"items": items}


@bp.delete("/clinic/api-keys/<int:key_id>")
@bp.output({}, status_code=204)
@bp.doc(summary="Revoke an API key of the clinic (admin): it is refused from now on", responses=[401, 403, 404])
def revoke_api_key(key_id):
    admin = auth.require_role("admin")
    session = get_session()
    try:
        api_keys.revoke(session, admin, key_id, utcnow())
    except NotFound:
        auth.record_denial(admin, "denied.api_key", None)
        raise api_error(404, "not_found", "No such API key.") from None
    auth.record_access(admin, "api_key.revoke", None)
    session.commit()
    return ""


@bp.post("/lab-import/fhir")
@bp.input(FhirImportQuery, location="query", arg_name="query", validation=False)
@bp.input(FhirBundleIn, arg_name="body", validation=False)
@bp.output(ImportOut)
@bp.doc(summary="Import a laboratory's FHIR Bundle of Observations with the clinic's API key "
                "(Authorization: Bearer <key>; no session, no CSRF token). All or nothing unless "
                "accept_valid=true; idempotent per observation.",
        security="apiKeyBearer", responses=[400, 401, 413])
def import_fhir(query, body):
    # The key first: a caller without one learns nothing from the body's checks (hence validation=False).
    session = get_session()
    scheme, _, key = request.headers.get("Authorization", "").partition(" ")
    now = utcnow()
    key_row = api_keys.authenticate(session, key.strip() if scheme.lower() == "bearer" else None, now)
    session.commit()  # the key's last use, whatever the import's outcome
    flag = request.args.get("accept_valid", "false")
    if flag not in ("true", "false") or set(request.args) - {"accept_valid"}:
        raise api_error(400, "invalid_value", "accept_valid is true or false, the only query parameter.",
                        "accept_valid")
    bundle = request.get_json(silent=True) if request.is_json else None
    if bundle is None:
        raise api_error(400, "malformed_json", "Send a FHIR Bundle as JSON (Content-Type: application/json).")
    clinic = clinics.clinic_by_id(session, key_row.clinic_id)
    rows = service.fhir_rows(bundle, content())
    outcomes = service.run(session, clinic, service.Recorder(), rows, now, content(), store=True,
                           accept_valid=flag == "true")
    audit.record_key_import(session, key_row, sorted({o.patient.id for o in outcomes if o.status == "stored"}), now)
    session.commit()
    return large_list(service.summary(outcomes))


@bp.post("/lab-import/csv")
@bp.input(CsvImportQuery, location="query", arg_name="query")
@bp.input(CsvImportIn, arg_name="body")
@bp.output(ImportOut)
@bp.doc(summary="Preview (preview=true, the default: nothing stored) or store the results of a CSV file whose "
                "columns the mapping names; all or nothing unless confirm_valid", responses=[400, 401, 403, 413])
def import_csv(query, body):
    nurse = auth.require_role(*STAFF)
    session = get_session()
    clinic = clinics.clinic_of(session, nurse)
    header, rows = service.csv_rows(body["csv"], body["mapping"], content())
    outcomes = service.run(session, clinic, nurse, rows, utcnow(), content(), store=not query["preview"],
                           accept_valid=body["confirm_valid"])
    if query["preview"]:
        auth.record_access(nurse, "labs.import_preview", None)
    for patient_id in sorted({o.patient.id for o in outcomes if o.status == "stored"}):
        auth.record_access(nurse, "labs.import_csv", patient_id)
    session.commit()
    return large_list({**service.summary(outcomes), "header": header})
