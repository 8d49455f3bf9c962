"""Each protocol's checklist as a public FHIR R4 Questionnaire (issues 19 and 20, cll2).

One resource id per questionnaire: ``ms-monthly-checklist`` (its id and url
unchanged) and ``cll-checklist``; every language; an unknown id answers 404 in
the JSON error envelope. A CLL patient's FHIR export carries the same resource.
"""

from __future__ import annotations

import pytest
from fhir.resources.R4B.questionnaire import Questionnaire

from server.engine.content.loading import default_content

from .test_authorization import assert_error_envelope
from .test_cll_journey import enrol, register
from .test_fhir_export import FHIR_JSON, export, resources

CONTENT = default_content()
BASE = "https://alemtrack.example/fhir/Questionnaire/"
IDS = {"ms": "ms-monthly-checklist", "cll": "cll-checklist"}


@pytest.mark.parametrize("language", ["en", "es", "de", "it"])
@pytest.mark.parametrize("protocol", ["ms", "cll"])
def test_each_protocols_checklist_is_public_in_every_language(app, protocol, language):
    own = CONTENT.of(protocol)
    response = app.test_client().get(f"/api/v1/fhir/Questionnaire/{IDS[protocol]}?language={language}")
    assert response.status_code == 200 and response.mimetype == FHIR_JSON
    assert response.headers["Cache-Control"] == "public, max-age=3600"
    form = response.json
    Questionnaire.model_validate(form)
    assert (form["id"], form["url"], form["language"]) == (IDS[protocol], BASE + IDS[protocol], language)
    assert [i["linkId"] for i in form["item"] if i["type"] == "boolean"] == list(own.question_codes)
    for item in form["item"][:-1]:
        assert own.texts[language]["questions"][item["linkId"]]["text"] in item["text"]
    checklist = "checklist.weekly" if protocol == "cll" else "checklist.monthly"
    assert form["title"] == own.item_text(language, checklist, "title")


def test_the_two_questionnaires_share_no_question():
    assert not set(CONTENT.of("ms").question_codes) & set(CONTENT.of("cll").question_codes)


@pytest.mark.parametrize("path", ["/api/v1/fhir/Questionnaire/aml-checklist",
                                  "/api/v1/fhir/Questionnaire/cll-checklist/extra",
                                  "/api/v1/fhir/Questionnaire/CLL-CHECKLIST"])
def test_an_unknown_questionnaire_answers_404_in_the_error_envelope(app, path):
    response = app.test_client().get(path)
    assert_error_envelope(response, 404)
    assert response.json["error"]["code"] == "not_found"


def test_an_unknown_language_is_refused_naming_the_field(app):
    response = app.test_client().get("/api/v1/fhir/Questionnaire/cll-checklist?language=fr")
    assert_error_envelope(response, 400)
    assert response.json["error"]["field"] == "language"


def test_a_cll_patients_export_carries_the_public_cll_questionnaire(app, client_for):
    record = enrol(client_for("nurse"))
    patient = register(app, record["enrollment_code"], "quinta@a.test")
    (exported,) = resources(export(patient, record["id"]).json, "Questionnaire")
    public = app.test_client().get("/api/v1/fhir/Questionnaire/cll-checklist?language=en").json
    assert exported == public
