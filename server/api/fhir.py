"""GET /fhir/Questionnaire/ms-monthly-checklist: the monthly checklist as a FHIR R4 Questionnaire (public).

It holds no patient data, so that other systems can render the checklist; the
FHIR export (GET /patients/{id}/export?format=fhir) carries the same resource.
"""

from __future__ import annotations

from ..services import fhir
from . import bp, content, large_list
from .schemas import FhirQuestionnaireQuery, FhirResourceOut

FHIR_JSON = "application/fhir+json"


@bp.get(f"/fhir/Questionnaire/{fhir.QUESTIONNAIRE_ID}")
@bp.input(FhirQuestionnaireQuery, location="query", arg_name="query")
@bp.output(FhirResourceOut)
@bp.doc(summary="The monthly symptom checklist as a FHIR R4 Questionnaire in one language (public: no patient "
                "data)", responses={200: {"description": "A FHIR R4 Questionnaire",
                                          "content": {FHIR_JSON: {"schema": FhirResourceOut}}}, 400: "Bad language"})
def fhir_questionnaire(query):
    response = large_list(fhir.questionnaire(content(), query["language"]))
    response.mimetype = FHIR_JSON
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response
