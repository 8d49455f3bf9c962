"""The patient's record as a FHIR R4 Bundle, and the checklist as a FHIR Questionnaire (issue 19).

Plain dicts in FHIR's JSON form: the tests validate them against fhir.resources'
R4B models (tests/api/test_fhir_export.py); the server itself needs no FHIR
library. docs/decisions.md "FHIR export (issue 19)" says what each resource holds.

Every resource has an id and a ``urn:uuid:`` fullUrl, the same uuid: a uuid5 of
the row (``Observation/<lab result id>``), so that an export made twice names
each record the same way. The Questionnaire is the one exception: its id is
:data:`QUESTIONNAIRE_ID` and its canonical url :data:`QUESTIONNAIRE_URL`, the
same in every export and at the public URL of the API.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, timezone
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..engine.content.model import DEFAULT_LANGUAGE, LANGUAGES, Content
from ..models import Checklist, Flag, LabResult, Patient
from ..timeutil import utcnow
from . import patients as patient_service

#: the project's own FHIR namespace (code systems and canonical urls)
BASE = "https://alemtrack.example/fhir"
CHECKLIST_SYSTEM = f"{BASE}/CodeSystem/checklist"
#: the levels of content/checklist.toml (none < routine < soon < urgent < emergency)
LEVEL_SYSTEM = f"{BASE}/CodeSystem/level"
#: the timeline's item codes (content/protocol.toml)
ITEM_SYSTEM = f"{BASE}/CodeSystem/item"
#: the lab rules of content/labs.toml
RULE_SYSTEM = f"{BASE}/CodeSystem/lab-rule"
#: the checklist of each protocol as a Questionnaire, at its own public id (server/api/fhir.py)
QUESTIONNAIRE_IDS = {"ms": "ms-monthly-checklist", "cll": "cll-checklist"}
QUESTIONNAIRE_ID = QUESTIONNAIRE_IDS["ms"]
QUESTIONNAIRE_URL = f"{BASE}/Questionnaire/{QUESTIONNAIRE_ID}"
#: a Questionnaire's computable name and its description, per protocol
_QUESTIONNAIRE_ABOUT = {
    "ms": ("MsMonthlyChecklist", "The monthly symptom checklist for people treated with alemtuzumab for MS; each "
                                 "question is a sign to report, with the level a yes gives in content/checklist.toml."),
    "cll": ("CllChecklist", "The weekly, then monthly symptom checklist for people treated with alemtuzumab for "
                            "chronic lymphocytic leukaemia; each question is a sign to report, with the level a yes "
                            "gives in content/cll/checklist.toml."),
}
#: the linkId of the checklist's free-text note (no question code of content/ has this form)
NOTE_LINK_ID = "note"

LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
SNOMED = "http://snomed.info/sct"
CATEGORY_SYSTEM = "http://terminology.hl7.org/CodeSystem/observation-category"
INTERPRETATION_SYSTEM = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"
LANGUAGE_SYSTEM = "urn:ietf:bcp:47"
#: positive / negative results (qualitative analytes)
QUALITATIVE = {"positive": ("10828004", "Positive"), "negative": ("260385009", "Negative")}
INTERPRETATION = {"L": "Low", "H": "High", "N": "Normal", "A": "Abnormal"}
#: Patient.gender from the record's sex
GENDER = {"female": "female", "male": "male"}
#: CarePlan activity detail.kind from the timeline item's kind (a FHIR resource type)
ACTIVITY_KIND = {"lab": "ServiceRequest", "appointment": "Appointment", "medication": "MedicationRequest",
                 "diet": "NutritionOrder", "checklist": "Task"}
#: CarePlan activity detail.status from the timeline's item status
ACTIVITY_STATUS = {"upcoming": "scheduled", "due": "in-progress", "overdue": "not-started", "done": "completed",
                   "missed": "stopped"}

_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, BASE)


def row_uuid(kind: str, *key: Any) -> str:
    """The stable uuid of one exported record: ``kind`` and the row's key."""
    return str(uuid.uuid5(_NAMESPACE, "/".join([kind, *map(str, key)])))


def _entry(resource: dict[str, Any], full_url: str | None = None) -> dict[str, Any]:
    return {"fullUrl": full_url or f"urn:uuid:{resource['id']}", "resource": resource}


def _day(value: date | datetime | None) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        # a FHIR dateTime with a time needs its zone: stored instants are UTC
        return (value if value.tzinfo else value.replace(tzinfo=timezone.utc)).replace(microsecond=0).isoformat()
    return value.isoformat()


def _language(language: str) -> str:
    return language if language in LANGUAGES else DEFAULT_LANGUAGE


# --- the checklist ---------------------------------------------------------------------


def questionnaire_url(protocol: str) -> str:
    return f"{BASE}/Questionnaire/{QUESTIONNAIRE_IDS[protocol]}"


def questionnaire(content: Content, language: str) -> dict[str, Any]:
    """The symptom checklist of ``content``'s protocol in ``language``: one boolean
    item per question (linkId = its code), then the free-text note."""
    language = _language(language)
    texts = content.texts[language]["questions"]
    items = []
    for question in content.questions:
        words = texts[question.code]
        signs = list(words.get("signs", ()))
        text = f"{words['text']} {'; '.join(signs)}" if signs else words["text"]
        items.append({"linkId": question.code, "text": text, "type": "boolean", "required": False,
                      "code": [{"system": CHECKLIST_SYSTEM, "code": question.code}]})
    # content/ has no words for the note field (the app's own screen labels it)
    items.append({"linkId": NOTE_LINK_ID, "text": "Note", "type": "text", "required": False})
    checklist = next(item.code for item in content.items if item.kind == "checklist")
    title = content.item_text(language, checklist, "title")
    name, description = _QUESTIONNAIRE_ABOUT[content.protocol]
    return {
        "resourceType": "Questionnaire",
        "id": QUESTIONNAIRE_IDS[content.protocol],
        "url": questionnaire_url(content.protocol),
        "name": name,
        "title": title,
        "status": "active",
        "language": language,
        "subjectType": ["Patient"],
        "publisher": "Alemtrack",
        "description": description,
        "item": items,
    }


def _questionnaire_response(checklist: Checklist, subject: dict[str, str], url: str) -> dict[str, Any]:
    items = [{"linkId": code, "answer": [{"valueBoolean": bool(value)}]}
             for code, value in sorted(dict(checklist.answers).items()) if isinstance(value, bool)]
    if checklist.note:
        items.append({"linkId": NOTE_LINK_ID, "answer": [{"valueString": checklist.note}]})
    resource = {"resourceType": "QuestionnaireResponse", "id": row_uuid("QuestionnaireResponse", checklist.id),
                "questionnaire": url, "status": "completed", "subject": subject,
                "authored": _day(checklist.answered_on)}
    if items:
        resource["item"] = items
    return resource


# --- lab results ---------------------------------------------------------------------------


def _quantity(value: float, analyte) -> dict[str, Any]:
    quantity: dict[str, Any] = {"value": value, "unit": analyte.unit}
    if analyte.ucum:
        quantity.update(system=UCUM, code=analyte.ucum)
    return quantity


def _interpretation(code: str) -> list[dict[str, Any]]:
    return [{"coding": [{"system": INTERPRETATION_SYSTEM, "code": code, "display": INTERPRETATION[code]}]}]


def observation(result: LabResult, content: Content, language: str, subject: dict[str, str]) -> dict[str, Any]:
    """One lab result (not withdrawn): LOINC code and UCUM unit from content/labs.toml."""
    analyte = content.analytes[result.analyte]
    name = content.texts[language]["analytes"].get(result.analyte, result.analyte)
    code: dict[str, Any] = {"text": name}
    if analyte.loinc:
        code["coding"] = [{"system": LOINC, "code": analyte.loinc, "display": analyte.loinc_display}]
    resource: dict[str, Any] = {
        "resourceType": "Observation", "id": row_uuid("Observation", result.id), "status": "final",
        "category": [{"coding": [{"system": CATEGORY_SYSTEM, "code": "laboratory", "display": "Laboratory"}]}],
        "code": code, "subject": subject, "effectiveDateTime": _day(result.taken_on),
    }
    value = result.value
    if value is None:  # "sample taken": no value yet
        resource["status"] = "registered"
    elif analyte.kind == "number":
        resource["valueQuantity"] = _quantity(float(value), analyte)
        low = result.ref_low if result.ref_low is not None else analyte.low
        high = result.ref_high if result.ref_high is not None else analyte.high
        if low is not None or high is not None:
            reference: dict[str, Any] = {}
            if low is not None:
                reference["low"] = _quantity(float(low), analyte)
            if high is not None:
                reference["high"] = _quantity(float(high), analyte)
            resource["referenceRange"] = [reference]
        flag = "L" if low is not None and value < low else "H" if high is not None and value > high else "N"
        resource["interpretation"] = _interpretation(flag)
    else:
        if str(value) in QUALITATIVE:
            snomed, display = QUALITATIVE[str(value)]
            resource["valueCodeableConcept"] = {"coding": [{"system": SNOMED, "code": snomed, "display": display}],
                                                "text": str(value)}
        else:  # content/ knows positive and negative only; anything else goes as it is
            resource["valueString"] = str(value)
        if analyte.normal is not None:
            resource["interpretation"] = _interpretation("N" if value == analyte.normal else "A")
    if result.patient_reported:
        resource["note"] = [{"text": "Entered by the patient."}]
    return resource


# --- flags -------------------------------------------------------------------------------


def _reason_text(reason: str, content: Content, language: str) -> str:
    texts = content.texts[language]
    if reason in texts.get("questions", {}):
        return f"{reason}: {texts['questions'][reason]['text']}"
    if reason in texts.get("rules", {}):
        return f"{reason}: {texts['rules'][reason]['title']}"
    if reason.startswith("group:") and reason[6:] in texts.get("groups", {}):
        return f"{reason}: {texts['groups'][reason[6:]]}"
    return reason


def flag_resource(flag: Flag, content: Content, language: str, subject: dict[str, str]) -> dict[str, Any]:
    """A flag for the care team: the rules or questions that raised it and its level."""
    level_name = content.texts[language]["levels"].get(flag.level, {}).get("name", flag.level)
    reasons = "; ".join(_reason_text(reason, content, language) for reason in flag.reasons)
    source = "checklist" if flag.source == "checklist" else "lab result"
    period = {"start": _day(flag.created_at)}
    if flag.resolved_at is not None:
        period["end"] = _day(flag.resolved_at)
    codings = [{"system": LEVEL_SYSTEM, "code": flag.level, "display": level_name}]
    # the question and rule codes are coded; a group rule or a note is in the text only
    questions, rules = set(content.question_codes), {rule.code for rule in content.rules}
    codings += [{"system": CHECKLIST_SYSTEM if reason in questions else RULE_SYSTEM, "code": reason}
                for reason in flag.reasons if reason in questions or reason in rules]
    return {
        "resourceType": "Flag", "id": row_uuid("Flag", flag.id),
        "status": "inactive" if flag.status == "resolved" else "active",
        "category": [{"text": source}],
        "code": {"coding": codings, "text": f"{level_name} ({flag.level}) from a {source}: {reasons}"},
        "subject": subject, "period": period,
    }


# --- schedule and courses ------------------------------------------------------------------


def care_plan(session: Session, patient: Patient, content: Content, subject: dict[str, str],
              today: date) -> dict[str, Any]:
    """Her monitoring schedule: one activity per timeline item with its status and dates,
    and one per planned infusion. A record the engine cannot use (UnusableRecord)
    gives a plan with no activities and a note saying why."""
    language = _language(patient.language)
    resource: dict[str, Any] = {
        "resourceType": "CarePlan", "id": row_uuid("CarePlan", patient.id), "status": "active", "intent": "plan",
        "title": "Alemtuzumab monitoring", "subject": subject,
    }
    try:
        result, items = patient_service.timeline_with_status(patient_service.load_history(session, patient), today,
                                                             content, language)
    except patient_service.UnusableRecord as error:
        resource["note"] = [{"text": error.message}]
        return resource
    activities = []
    for item in items:
        detail: dict[str, Any] = {
            "code": {"coding": [{"system": ITEM_SYSTEM, "code": item["code"]}], "text": item["title"]},
            "status": ACTIVITY_STATUS.get(item["status"], "unknown"),
        }
        if item["kind"] in ACTIVITY_KIND:
            detail["kind"] = ACTIVITY_KIND[item["kind"]]
        if "due" in item:
            detail["scheduledPeriod"] = {"start": item["due"], "end": item["due"]}
        elif item.get("end"):
            detail["scheduledPeriod"] = {"start": item["start"], "end": item["end"]}
        else:
            detail["scheduledPeriod"] = {"start": item["start"]}
        activities.append({"detail": detail})
    for course in patient.courses:
        if course.status != "planned":
            continue
        for day in course.infusions:
            activities.append({"detail": {"kind": "MedicationRequest", "status": "scheduled",
                                          "code": {"text": "alemtuzumab infusion"},
                                          "scheduledPeriod": {"start": day, "end": day}}})
    if result.monitoring_ends is not None:
        resource["period"] = {"end": result.monitoring_ends.isoformat()}
    if activities:
        resource["activity"] = activities
    return resource


#: a recorded route's words (protocol cll: CLINICAL.md 7.1)
ROUTE_TEXT = {"iv": "intravenous", "sc": "subcutaneous"}


def _dosage(dose: dict[str, Any] | None) -> dict[str, Any] | None:
    """MedicationAdministration.dosage from a recorded dose and route (None when neither)."""
    if not dose or (dose.get("mg") is None and dose.get("route") is None):
        return None
    dosage: dict[str, Any] = {}
    if dose.get("route") is not None:
        dosage["route"] = {"text": ROUTE_TEXT[dose["route"]]}
    if dose.get("mg") is not None:
        dosage["dose"] = {"value": dose["mg"], "unit": "mg", "system": UCUM, "code": "mg"}
    return dosage


def _administrations(patient: Patient, subject: dict[str, str]) -> list[dict[str, Any]]:
    out = []
    for course in patient.courses:
        if course.status != "given":
            continue
        for index, day in enumerate(course.infusions):
            given = {"resourceType": "MedicationAdministration",
                     "id": row_uuid("MedicationAdministration", course.id, day), "status": "completed",
                     "medicationCodeableConcept": {"text": "alemtuzumab"}, "subject": subject,
                     "effectiveDateTime": day}
            dosage = _dosage(course.doses[index] if course.doses else None)
            if dosage is not None:
                given["dosage"] = dosage
            out.append(given)
    return out


# --- the bundle ------------------------------------------------------------------------------


def patient_resource(patient: Patient) -> dict[str, Any]:
    """No more identity than the JSON export holds: the display name, sex, language, clinic."""
    return {
        "resourceType": "Patient", "id": row_uuid("Patient", patient.id),
        "name": [{"text": patient.display_name}],
        "gender": GENDER.get(patient.sex, "other"),
        "communication": [{"language": {"coding": [{"system": LANGUAGE_SYSTEM, "code": patient.language}]},
                           "preferred": True}],
        "managingOrganization": {"display": patient.clinic.name},
    }


def bundle(session: Session, patient: Patient, content: Content, now: datetime | None = None) -> dict[str, Any]:
    """The patient's record as a FHIR R4 Bundle of type collection."""
    now = now or utcnow()
    content = content.of(patient.protocol)  # her protocol's checklist, rules and words
    language = _language(patient.language)
    person = patient_resource(patient)
    subject = {"reference": f"urn:uuid:{person['id']}", "display": patient.display_name}
    entries = [_entry(person)]
    form = questionnaire(content, language)
    entries.append(_entry(form, f"urn:uuid:{row_uuid('Questionnaire', form['id'])}"))
    for checklist in session.scalars(select(Checklist).where(Checklist.patient_id == patient.id)
                                     .order_by(Checklist.answered_on, Checklist.id)):
        entries.append(_entry(_questionnaire_response(checklist, subject, form["url"])))
    for result in patient_service.lab_results_of(session, patient.id):
        entries.append(_entry(observation(result, content, language, subject)))
    for flag in session.scalars(select(Flag).where(Flag.patient_id == patient.id).order_by(Flag.id)):
        entries.append(_entry(flag_resource(flag, content, language, subject)))
    try:
        today = patient_service.today_of(patient, now)
    except patient_service.UnusableRecord:  # an unknown time zone: the plan says why (care_plan)
        today = now.date()
    entries.append(_entry(care_plan(session, patient, content, subject, today)))
    entries.extend(_entry(resource) for resource in _administrations(patient, subject))
    return {"resourceType": "Bundle", "id": row_uuid("Bundle", patient.id, now.isoformat()), "type": "collection",
            "timestamp": _day(now), "entry": entries}

