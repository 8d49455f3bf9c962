"""GET /fhir/Questionnaire/<id>: each protocol's symptom checklist as a FHIR R4 Questionnaire (public).

One resource id per questionnaire, as a FHIR read (``[base]/Questionnaire/[id]``)
expects: ``ms-monthly-checklist`` (the MS monthly checklist, issue 19) and
``cll-checklist`` (the CLL weekly-then-monthly checklist, issue 20); any other
id answers 404 in the JSON error envelope, as every unknown route does. They
hold no patient data, so that other systems can render the checklists; the FHIR
export (GET /patients/{id}/export?format=fhir) carries the patient's protocol's.
"""

from __future__ import annotations

from ..services import fhir
from . import bp, content, large_list
from .schemas import FhirQuestionnaireQuery, FhirResourceOut

FHIR_JSON = "application/fhir+json"
#: the view's endpoint per protocol (server/api/__init__.py PUBLIC names them); MS's kept from issue 19
ENDPOINTS = {"ms": "fhir_questionnaire", "cll": "fhir_questionnaire_cll"}
_ABOUT = {"ms": "The monthly symptom checklist (protocol ms)",
          "cll": "The weekly, then monthly symptom checklist (protocol cll)"}


def _questionnaire_route(protocol: str) -> None:
    """The public route of ``protocol``'s Questionnaire, at its own resource id."""

    @bp.get(f"/fhir/Questionnaire/{fhir.QUESTIONNAIRE_IDS[protocol]}", endpoint=ENDPOINTS[protocol])
    @bp.input(FhirQuestionnaireQuery, location="query", arg_name="query")
    @bp.output(FhirResourceOut)
    @bp.doc(summary=f"{_ABOUT[protocol]} as a FHIR R4 Questionnaire in one language (public: no patient data)",
            operation_id=f"get_{ENDPOINTS[protocol]}",
            responses={200: {"description": "A FHIR R4 Questionnaire",
                             "content": {FHIR_JSON: {"schema": FhirResourceOut}}}, 400: "Bad language"})
    def questionnaire(query):
        response = large_list(fhir.questionnaire(content().of(protocol), query["language"]))
        response.mimetype = FHIR_JSON
        response.headers["Cache-Control"] = "public, max-age=3600"
        return response


for _protocol in fhir.QUESTIONNAIRE_IDS:
    _questionnaire_route(_protocol)
