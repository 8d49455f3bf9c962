"""Request and response schemas: they validate input and generate the OpenAPI document.

Fields are strict: a boolean is true or false (not 1 or "yes"), a number is a
JSON number (not "12" or true), a date is YYYY-MM-DD, a real calendar day and
within 1900-01-01..2100-12-31 (:class:`LocalDate`, the engine's parser), a text
has no control characters (:class:`Text`; notes may have line breaks and
tabs). Unknown fields are refused (marshmallow's default), so a typo cannot
drop data. Every body and query is a marshmallow schema (docs/decisions.md).
"""

from __future__ import annotations

import math
import re
import unicodedata
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from apiflask import Schema
from apiflask.fields import UUID, Boolean, Date, Dict, Field, Integer, List, Nested, String
from apiflask.validators import Length, OneOf, Range, Regexp
from marshmallow import INCLUDE, ValidationError, validates_schema

from ..engine.content.model import LANGUAGES
from ..engine.dates import parse_date
from ..engine.errors import InputError
from ..engine.inputs import MAX_NUMBER, PROTOCOLS, ROUTES, SEXES
from ..engine.sheet import FORMATS
from ..models.flags import OUTCOMES
from ..services import patient_list


class StrictBoolean(Boolean):
    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, bool):
            raise ValidationError("Expected true or false.")
        return value


class StrictNumber(Field):
    """A JSON number (never a string or a boolean), finite, from 0 to MAX_NUMBER:
    every number the API takes (lab values, ranges, baselines) is a measurement."""

    def _serialize(self, value, attr, obj, **kwargs):
        return value

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValidationError("Expected a number.")
        if isinstance(value, float) and not math.isfinite(value) or abs(value) > MAX_NUMBER:
            raise ValidationError("Expected a finite number of sensible size.")
        if value < 0:
            raise ValidationError("Must not be negative.")
        return value

    def _jsonschema_type_mapping(self):
        return {"type": "number"}


class LocalDate(Date):
    """A patient-local date: the one date rule of every body and query.

    YYYY-MM-DD only, a real calendar day, from 1900-01-01 to 2100-12-31
    ("Dates in range", 1900-01-01..2100-12-31): the engine's own parser, so the
    API and the command line refuse the same dates.
    """

    def _deserialize(self, value, attr, data, **kwargs):
        try:
            return parse_date(value, attr or "date")
        except InputError as exc:
            raise ValidationError(exc.problem) from None


#: Control characters (Unicode Cc: C0, DEL, C1) and lone surrogates: no text a
#: person types has them, PostgreSQL refuses NUL in text, and a lone surrogate
#: cannot even be encoded as UTF-8 for either database.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
#: the same, but line feed and tab are allowed (a multi-line note)
_CONTROL_IN_NOTE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")


def no_control_characters(value: object, pattern: re.Pattern = _CONTROL) -> None:
    """Refuse a string holding a control character (a validator; other values pass)."""
    found = pattern.search(value) if isinstance(value, str) else None
    if found is not None:
        raise ValidationError(f"Must not contain control characters (found U+{ord(found.group()):04X}).")


class Text(String):
    """A string without control characters: every string field of every body and query.

    ``multiline=True`` allows line feeds and tabs, for notes typed in a text area.
    """

    def __init__(self, *args, multiline: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.control = _CONTROL_IN_NOTE if multiline else _CONTROL

    def _deserialize(self, value, attr, data, **kwargs):
        value = super()._deserialize(value, attr, data, **kwargs)
        no_control_characters(value, self.control)
        return value


#: an address after NFKC: printable ASCII, no blanks (docs/decisions.md, "Input")
_EMAIL_CHARACTERS = re.compile("[!-~]+")


class Email(Text):
    """An email address, in the form accounts.normalise_email stores and compares.

    Folded by NFKC (full-width and other compatibility forms become ASCII),
    trimmed and lower-cased. What is left must be printable ASCII without
    blanks: that refuses invisible characters (zero-width, bidi controls and
    other format characters) and look-alikes (a Cyrillic "а" for a Latin "a")
    with one rule. An internationalised domain is sent in its ASCII form
    (``xn--...``); a non-ASCII local part is refused.
    """

    def _deserialize(self, value, attr, data, **kwargs):
        value = unicodedata.normalize("NFKC", super()._deserialize(value, attr, data, **kwargs)).strip()
        if value and not _EMAIL_CHARACTERS.fullmatch(value):
            raise ValidationError("Use only ASCII letters, digits and punctuation, without blanks, "
                                  "in an email address.")
        return value.lower()


#: what people type for a phone number; at least five digits (checked in Phone)
_PHONE = re.compile(r"\+?[0-9 ()\-.]+")


class Phone(Text):
    """A phone number as typed: digits, blanks and + - . ( ), 5 to 20 digits."""

    def _deserialize(self, value, attr, data, **kwargs):
        value = super()._deserialize(value, attr, data, **kwargs).strip()
        digits = sum(ch.isdigit() for ch in value)
        if not _PHONE.fullmatch(value) or not 5 <= digits <= 20:
            raise ValidationError("Not a phone number: use digits, blanks and + - ( ), e.g. +34 612 345 678.")
        return value


class TimeZone(Text):
    def _deserialize(self, value, attr, data, **kwargs):
        value = super()._deserialize(value, attr, data, **kwargs)
        try:
            if not value:
                raise ValueError
            ZoneInfo(value)
        except (ValueError, ZoneInfoNotFoundError, OSError):
            raise ValidationError("Not an IANA time zone (e.g. Europe/Madrid).") from None
        return value


def _number_meta(**kwargs):
    return {"metadata": {"type": "number", **kwargs}}


# --- auth -------------------------------------------------------------------------


class CsrfOut(Schema):
    csrf_token = String(required=True)


class LoginIn(Schema):
    email = Email(required=True, validate=Length(1, 254))
    password = Text(required=True, validate=Length(1, 1024))


class UserOut(Schema):
    id = Integer(required=True)
    email = String(required=True)
    role = String(required=True)
    clinic_id = Integer(required=True)
    patient_id = Integer(allow_none=True)


class LoginOut(Schema):
    user = Nested(UserOut, required=True)
    csrf_token = String(required=True)


class RegisterIn(Schema):
    code = Text(required=True, validate=Length(1, 40))
    email = Email(required=True, validate=Length(3, 254))
    password = Text(required=True, validate=Length(1, 1024))

    @validates_schema
    def _email_shape(self, data, **kwargs):
        email = data.get("email", "")
        local, _, domain = email.partition("@")
        if not local or "." not in domain or any(c.isspace() for c in email):
            raise ValidationError("Not a valid email address.", "email")


class PasswordIn(Schema):
    current_password = Text(required=True, validate=Length(1, 1024))
    new_password = Text(required=True, validate=Length(1, 1024))


class ForgotIn(Schema):
    email = Email(required=True, validate=Length(1, 254))


class ResetIn(Schema):
    email = Email(required=True, validate=Length(1, 254))
    code = Text(required=True, validate=Length(1, 40))
    password = Text(required=True, validate=Length(1, 1024))


class EraseIn(Schema):
    """DELETE /me: the password once more, so that an open session alone cannot erase an account."""

    password = Text(required=True, validate=Length(1, 1024))


# --- patients ---------------------------------------------------------------------


class PregnancyIn(Schema):
    reported_on = LocalDate(required=True)
    ended_on = LocalDate(allow_none=True, load_default=None)

    @validates_schema
    def _order(self, data, **kwargs):
        if data.get("ended_on") and data.get("reported_on") and data["ended_on"] < data["reported_on"]:
            raise ValidationError("Is before reported_on.", "ended_on")


def _check_baseline(data) -> None:
    from ..engine.content.loading import default_content
    analytes = default_content().analytes
    for name in data.get("baseline") or {}:
        if name not in analytes or analytes[name].kind != "number":
            raise ValidationError(f"{name!r} is not a number analyte.", "baseline")


class PatientIn(Schema):
    display_name = Text(required=True, validate=Length(1, 120))
    sex = Text(required=True, validate=OneOf(SEXES))
    #: the protocol she follows (CLINICAL.md 1), set at enrolment: "ms" (default) or "cll"
    protocol = Text(load_default="ms", validate=OneOf(PROTOCOLS))
    #: whatever ``sex`` says (CLINICAL.md 1, v2): contraception and the pregnancy test follow it
    childbearing_potential = StrictBoolean(load_default=False)
    #: null or left out: the default by sex (true for female)
    cervical_screening = StrictBoolean(allow_none=True, load_default=None)
    breastfeeding = StrictBoolean(load_default=False)
    timezone = TimeZone(required=True)
    language = Text(load_default="en", validate=OneOf(LANGUAGES))
    baseline = Dict(keys=Text(), values=StrictNumber(), load_default=dict)
    #: a later end for the listeria diet of her latest course (CLINICAL.md 2.1, v2)
    listeria_until = LocalDate(allow_none=True, load_default=None)
    #: the hospital's number for her (lab imports match on it), unique within the clinic
    hospital_number = Text(allow_none=True, load_default=None, validate=Length(1, 40))
    phone = Phone(allow_none=True, load_default=None, validate=Length(max=30))
    #: not after her today (checked by the service, which knows her time zone)
    date_of_birth = LocalDate(allow_none=True, load_default=None)

    @validates_schema
    def _consistent(self, data, **kwargs):
        _check_baseline(data)


class PatientPatchIn(Schema):
    """A change to a patient record: only the fields sent change (no defaults here)."""

    display_name = Text(validate=Length(1, 120))
    sex = Text(validate=OneOf(SEXES))
    childbearing_potential = StrictBoolean()
    #: null: back to the default by sex
    cervical_screening = StrictBoolean(allow_none=True)
    breastfeeding = StrictBoolean()
    timezone = TimeZone()
    language = Text(validate=OneOf(LANGUAGES))
    baseline = Dict(keys=Text(), values=StrictNumber())
    pregnancies = List(Nested(PregnancyIn), validate=Length(max=20))
    detailed_notifications = StrictBoolean()
    #: null: no later end
    listeria_until = LocalDate(allow_none=True)
    #: null: none
    hospital_number = Text(allow_none=True, validate=Length(1, 40))
    #: null: none
    phone = Phone(allow_none=True, validate=Length(max=30))
    #: null: none
    date_of_birth = LocalDate(allow_none=True)
    #: staff only, and only while she has no course recorded (a wrong choice at enrolment)
    protocol = Text(validate=OneOf(PROTOCOLS))

    @validates_schema
    def _consistent(self, data, **kwargs):
        _check_baseline(data)




class PregnancyOut(Schema):
    id = Integer(required=True)
    reported_on = String(required=True)
    ended_on = String(allow_none=True)


class CorrectedPregnancyOut(PregnancyOut):
    """PregnancyOut as the answer of its PATCH (a schema class is registered in the spec once)."""


class ClinicOut(Schema):
    id = Integer(required=True)
    name = String(required=True)
    phone = String(required=True)
    emergency_number = String(required=True)


class DoseOut(Schema):
    """What was given on one administration date (protocol cll): null when not recorded."""

    mg = Field(allow_none=True, **_number_meta(nullable=True))
    route = String(allow_none=True)


class CourseOut(Schema):
    id = Integer(required=True)
    infusions = List(String(), required=True)
    status = String(required=True)
    #: protocol cll: parallel to ``infusions``; left out when no dose or route was recorded
    doses = List(Nested(DoseOut))


class CourseRowOut(CourseOut):
    """CourseOut nested in a patient (a schema class is registered in the spec once)."""


class CourseWarningOut(Schema):
    """A warning on a planned course (CLINICAL.md 2.3): staff only; it raises no flag."""

    code = String(required=True)
    #: k: the course's number among the patient's courses in date order (1 = the first)
    course = Integer(required=True)
    #: a short line in the patient's language (the PWA shows its own, from /content/texts)
    text = String(required=True)


class PatientOut(Schema):
    id = Integer(required=True)
    display_name = String(required=True)
    sex = String()
    #: "ms" or "cll" (CLINICAL.md 1): it decides the items, checklist, lab rules and words
    protocol = String()
    childbearing_potential = Boolean()
    #: as recorded: null means the default by sex
    cervical_screening = Boolean(allow_none=True)
    listeria_until = String(allow_none=True)
    breastfeeding = Boolean()
    timezone = String()
    language = String()
    baseline = Dict(keys=String(), values=Field(**_number_meta()))
    pregnancies = List(Nested(PregnancyOut))
    courses = List(Nested(CourseRowOut))
    clinic = Nested(ClinicOut)
    monitoring_ends = String(allow_none=True)
    has_account = Boolean()
    detailed_notifications = Boolean()
    hospital_number = String(allow_none=True)
    phone = String(allow_none=True)
    date_of_birth = String(allow_none=True)
    #: services.patients.RECORD_NEEDS_CORRECTION when the stored record is one the engine cannot use
    status_error = String()
    #: for the care team only: the warnings on her planned courses (empty when none)
    warnings = List(Nested(CourseWarningOut))


class PatientCreatedOut(PatientOut):
    enrollment_code = String(required=True)
    enrollment_code_expires_at = String(required=True)


class AdherenceOut(Schema):
    """Null figures for a patient whose record needs correction (``status_error``)."""

    done_on_time = Integer(required=True, allow_none=True)
    due_so_far = Integer(required=True, allow_none=True)
    overdue_labs = Integer(required=True, allow_none=True)
    missed_checklists = Integer(required=True, allow_none=True)
    rate = Field(allow_none=True, **_number_meta(nullable=True))


class PatientSummaryOut(Schema):
    id = Integer(required=True)
    display_name = String(required=True)
    hospital_number = String(required=True, allow_none=True)
    open_flags = Integer(required=True)
    #: a push device or a calendar feed can bring her reminders
    reachable = Boolean(required=True)
    adherence = Nested(AdherenceOut, required=True)
    #: services.patients.RECORD_NEEDS_CORRECTION when the stored record is one the engine cannot use
    status_error = String()


class FilterCountsOut(Schema):
    """How many of the clinic's patients each filter keeps, whatever the search."""

    overdue_labs = Integer(required=True)
    missed_checklists = Integer(required=True)
    open_flags = Integer(required=True)
    unreachable = Integer(required=True)


class PatientListOut(Schema):
    items = List(Nested(PatientSummaryOut), required=True)
    page = Integer(required=True)
    per_page = Integer(required=True)
    total = Integer(required=True)
    counts = Nested(FilterCountsOut, required=True)
    #: patients whose figures are still to compute (shown with older or null figures meanwhile)
    figures_pending = Integer(required=True)


class Trimmed(Text):
    """A text with surrounding blanks removed before its length is checked."""

    def _deserialize(self, value, attr, data, **kwargs):
        return super()._deserialize(value, attr, data, **kwargs).strip()


class PageQuery(Schema):
    page = Integer(load_default=1, validate=Range(1, 100000))
    per_page = Integer(load_default=50, validate=Range(1, 200))


class Administration(Field):
    """One administration of a course: a date, or (protocol cll) an object
    ``{"on": date, "mg": number, "route": "iv"|"sc"}`` with its dose and route
    (API.md section 1). Loaded as ``(date, mg or None, route or None)``."""

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, str):
            return LocalDate()._deserialize(value, attr, data), None, None
        if not isinstance(value, dict):
            raise ValidationError("Expected a date or {on, mg, route}.")
        unknown = set(value) - {"on", "mg", "route"}
        if unknown:
            raise ValidationError(f"Unknown field(s): {', '.join(sorted(unknown))}.")
        if "on" not in value:
            raise ValidationError("'on' (the date) is required.")
        on = LocalDate()._deserialize(value["on"], attr, data)
        mg = value.get("mg")
        if mg is not None:
            mg = StrictNumber()._deserialize(mg, attr, data)
        route = value.get("route")
        if route is not None and route not in ROUTES:
            raise ValidationError(f"'route' must be one of {', '.join(ROUTES)}.")
        return on, mg, route

    def _jsonschema_type_mapping(self):
        return {"oneOf": [{"type": "string", "format": "date"},
                          {"type": "object", "required": ["on"], "additionalProperties": False,
                           "properties": {"on": {"type": "string", "format": "date"},
                                          "mg": {"type": ["number", "null"]},
                                          "route": {"type": ["string", "null"], "enum": [*ROUTES, None]}}}]}


class PatientListQuery(PageQuery):
    """GET /patients: search, filters, order and page (services.patient_list)."""

    #: part of the name, or the start of the hospital number (case-insensitive)
    q = Trimmed(validate=Length(0, 100))
    #: patients with each of these (repeat the parameter for several): all must hold
    only = List(Text(validate=OneOf(patient_list.FILTERS)), load_default=list, validate=Length(max=4))
    sort = Text(load_default="name", validate=OneOf(patient_list.SORTS))
    order = Text(load_default="asc", validate=OneOf(("asc", "desc")))


class CourseIn(Schema):
    #: dates, or for protocol cll objects with a dose and route; the protocol sets the most
    infusions = List(Administration(), required=True, validate=Length(1, 60))
    status = Text(load_default="given", validate=OneOf(("given", "planned")))
    #: protocol cll: the route of every administration that does not give its own
    route = Text(load_default=None, allow_none=True, validate=OneOf(ROUTES))


class ProposalIn(Schema):
    """A proposed CLL course (CLINICAL.md 7.1): its first day and route."""

    start = LocalDate(required=True)
    route = Text(required=True, validate=OneOf(ROUTES))


class ProposedDoseOut(Schema):
    on = String(required=True)
    mg = Field(required=True, **_number_meta())
    route = String(required=True)


class ProposalOut(Schema):
    """Nothing is saved: the care team edits the dates and records them as a course."""

    route = String(required=True)
    infusions = List(Nested(ProposedDoseOut), required=True)


class CoursePatchIn(Schema):
    """A correction of a recorded course: only the fields sent change."""

    infusions = List(Administration(), validate=Length(1, 60))
    status = Text(validate=OneOf(("given", "planned")))
    #: protocol cll: the route of every administration sent without its own
    route = Text(allow_none=True, validate=OneOf(ROUTES))


class PregnancyPatchIn(Schema):
    """A correction of a reported pregnancy: only the fields sent change (``ended_on`` null: not ended)."""

    reported_on = LocalDate()
    ended_on = LocalDate(allow_none=True)

    @validates_schema
    def _order(self, data, **kwargs):
        if data.get("ended_on") and data.get("reported_on") and data["ended_on"] < data["reported_on"]:
            raise ValidationError("Is before reported_on.", "ended_on")


class ExportOut(Schema):
    exported_at = String(required=True)
    patient = Dict(required=True)
    account = Dict(required=True, allow_none=True)
    checklists = List(Dict(), required=True)
    lab_results = List(Dict(), required=True)
    flags = List(Dict(), required=True)
    snoozes = List(Dict(), required=True)
    family = List(Dict(), required=True)
    codes = List(Dict(), required=True)
    push_subscriptions = List(Dict(), required=True)
    calendar_feeds = List(Dict(), required=True)
    reminders = List(Dict(), required=True)
    deliveries = List(Dict(), required=True)
    access_log = List(Dict(), required=True)


# --- timeline ---------------------------------------------------------------------


class ExportQuery(Schema):
    format = String(load_default="json", validate=OneOf(("json", "fhir")))


class FhirResourceOut(Schema):
    """A FHIR R4 resource (a Bundle, a Questionnaire) in FHIR's own JSON form; the tests validate it against
    fhir.resources' R4B models."""

    class Meta:
        unknown = INCLUDE

    resourceType = String(required=True)


class FhirQuestionnaireQuery(Schema):
    language = String(load_default="en", validate=OneOf(LANGUAGES))


class TimelineQuery(Schema):
    from_ = LocalDate(data_key="from")
    to = LocalDate()


class TimelineItemOut(Schema):
    code = String(required=True)
    kind = String(required=True)
    title = String(required=True)
    due = String()
    start = String()
    end = String(allow_none=True)
    course = Integer()
    month = Integer()
    cadence = String()
    #: the words variant (med.aciclovir: "aciclovir" or "valaciclovir")
    variant = String()
    #: safety items: what to watch for, in the patient's language (the early signs
    #: of CMV that a CLL patient's relatives read too, CLINICAL.md 7.2)
    detail = String()
    status = String(required=True)
    tracked = Boolean(required=True)


class TimelineWarningOut(CourseWarningOut):
    """CourseWarningOut in a timeline (a schema class is registered in the spec once)."""


class TimelineOut(Schema):
    items = List(Nested(TimelineItemOut), required=True)
    monitoring_ends = String(allow_none=True)
    #: for the care team only: the warnings on planned courses (CLINICAL.md 2.3)
    warnings = List(Nested(TimelineWarningOut))


# --- checklists -------------------------------------------------------------------


class QuestionOut(Schema):
    code = String(required=True)
    group = String(required=True)
    #: the level of a "yes" (CLINICAL.md 3; a level that depends on the date says its usual one)
    level = String()
    text = String(required=True)
    #: the signs the question asks about, one short item each, shown as a list
    #: under ``text`` ("Have you had any of these?"); empty for most questions
    signs = List(String(), required=True)
    why = String(required=True)


class CurrentChecklistOut(Schema):
    period = Integer(required=True)
    due = String(allow_none=True)
    submitted = Boolean(required=True)
    questions = List(Nested(QuestionOut), required=True)


class ChecklistIn(Schema):
    """The monthly checklist as sent (the answers are checked against the questions asked later)."""

    client_id = UUID(required=True)
    answered_on = LocalDate(required=True)
    answers = Dict(keys=Text(validate=Length(1, 60)), values=StrictBoolean(), required=True)
    note = Text(multiline=True, allow_none=True, load_default=None, validate=Length(max=2000))


class AdviceOut(Schema):
    level = String(required=True)
    text = String(required=True)
    phone = String(required=True)
    emergency_number = String(required=True)


class ChecklistResultOut(Schema):
    id = Integer(required=True)
    level = String(required=True)
    reasons = List(String(), required=True)
    advice = Nested(AdviceOut, required=True)
    flag_id = Integer(allow_none=True)


class YesAnswerOut(Schema):
    code = String(required=True)
    #: the question in the patient's language, and the signs it lists (empty for most)
    text = String(required=True)
    signs = List(String())


class CareTeamOut(Schema):
    """What the care team did with a checklist's flag (its note stays with the team)."""

    status = String(required=True)  # open | acknowledged | resolved (a flag's); read (a routine checklist's)
    acknowledged_at = String(allow_none=True)
    resolved_at = String(allow_none=True)
    outcome = String(allow_none=True)
    #: when a nurse marked a routine checklist read (no flag: status "read")
    read_at = String(allow_none=True)
    #: who marked it read: for the care team only (null for the patient)
    read_by_email = String(allow_none=True)


class ChecklistOut(Schema):
    id = Integer(required=True)
    answered_on = String(required=True)
    period = Integer(required=True)
    level = String(required=True)
    reasons = List(String(), required=True)
    answers = Dict(keys=String(), values=Boolean())
    note = String(allow_none=True)
    yes = List(Nested(YesAnswerOut))
    #: null when the checklist raised no flag for the care team
    team = Nested(CareTeamOut, allow_none=True)


class ChecklistListOut(Schema):
    items = List(Nested(ChecklistOut), required=True)


# --- labs -------------------------------------------------------------------------


class LabValueIn(Schema):
    analyte = Text(required=True, validate=Length(1, 40))
    value = Field(required=True, allow_none=True, validate=no_control_characters,
                  metadata={"oneOf": [{"type": "number"}, {"type": "string", "enum": ["positive", "negative"]}],
                            "nullable": True})
    #: the unit of value and range as the lab prints it (CLINICAL.md 4.1); null or absent: the canonical unit
    unit = Text(allow_none=True, load_default=None, validate=Length(max=20))
    ref_low = StrictNumber(allow_none=True, load_default=None)
    ref_high = StrictNumber(allow_none=True, load_default=None)


class LabIn(Schema):
    client_id = UUID(required=True)
    taken_on = LocalDate(required=True)
    results = List(Nested(LabValueIn), required=True, validate=Length(1, 30))


class FindingOut(Schema):
    rule = String(required=True)
    level = String(required=True)
    taken_on = String(required=True)
    analyte = String(required=True)
    #: in the canonical ``unit`` (absent for positive/negative tests)
    value = Field(required=True, metadata={"oneOf": [{"type": "number"}, {"type": "string"}]})
    unit = String()
    #: present when the result was entered in another unit
    value_as_recorded = Field(**_number_meta())
    unit_as_recorded = String()


class AdviceRuleOut(Schema):
    rule = String(required=True)
    title = String(required=True)
    detail = String(required=True)


class LabAdviceOut(Schema):
    """What the patient sees at once when her result raises an urgent or emergency rule."""

    level = String(required=True)
    text = String(required=True)
    phone = String(required=True)
    emergency_number = String(required=True)
    rules = List(Nested(AdviceRuleOut), required=True)


class LabResultOut(Schema):
    id = Integer(required=True)
    taken_on = String(required=True)
    flags = List(Nested(FindingOut), required=True)
    flag_id = Integer(allow_none=True)
    #: null unless the patient's own result raised an urgent or emergency rule
    advice = Nested(LabAdviceOut, allow_none=True)


class LabQuery(Schema):
    analyte = Text(validate=Length(1, 40))


class LabRowOut(Schema):
    id = Integer(required=True)
    analyte = String(required=True)
    #: in the canonical ``unit``
    value = Field(allow_none=True, metadata={"oneOf": [{"type": "number"}, {"type": "string"}], "nullable": True})
    unit = String(allow_none=True)
    ref_low = Field(allow_none=True, **_number_meta(nullable=True))
    ref_high = Field(allow_none=True, **_number_meta(nullable=True))
    value_as_recorded = Field(allow_none=True, **_number_meta(nullable=True))
    unit_as_recorded = String(allow_none=True)
    taken_on = String(required=True)
    patient_reported = Boolean(required=True)
    #: the result this one corrects, if any
    corrects_id = Integer(allow_none=True)


class CorrectedLabRowOut(LabRowOut):
    """LabRowOut as the answer of its PATCH (a schema class is registered in the spec once)."""


class LabListOut(Schema):
    items = List(Nested(LabRowOut), required=True)
    #: analyte -> the unit the clinic's laboratory prints (site settings lab_unit.*): the form's default
    usual_units = Dict(keys=String(), values=String(), required=True)


class LabCorrectionIn(Schema):
    """A correction of a recorded result: only the fields sent change; the value
    and range are in ``unit`` when sent, else in the unit as recorded."""

    reason = Text(multiline=True, required=True, validate=Length(1, 500))
    value = Field(allow_none=True, validate=no_control_characters,
                  metadata={"oneOf": [{"type": "number"}, {"type": "string", "enum": ["positive", "negative"]}],
                            "nullable": True})
    unit = Text(allow_none=True, validate=Length(max=20))
    taken_on = LocalDate()
    ref_low = StrictNumber(allow_none=True)
    ref_high = StrictNumber(allow_none=True)

    @validates_schema
    def _reason(self, data, **kwargs):
        if not data.get("reason", "").strip():
            raise ValidationError("Say why the result is corrected.", "reason")


class LabWithdrawIn(Schema):
    reason = Text(multiline=True, required=True, validate=Length(1, 500))

    @validates_schema
    def _reason(self, data, **kwargs):
        if not data.get("reason", "").strip():
            raise ValidationError("Say why the result is withdrawn.", "reason")


class LabCorrectedOut(Schema):
    result = Nested(CorrectedLabRowOut, required=True)
    flags = List(Nested(FindingOut), required=True)
    flag_id = Integer(allow_none=True)


# --- flags ------------------------------------------------------------------------


class FlagQuery(Schema):
    status = Text(validate=OneOf(("open", "acknowledged", "resolved")))
    #: the queue is read from the top: most severe, then oldest
    limit = Integer(load_default=100, validate=Range(1, 500))


class FlagOut(Schema):
    id = Integer(required=True)
    patient_id = Integer(required=True)
    level = String(required=True)
    source = String(required=True)
    reasons = List(String(), required=True)
    created_at = String(required=True)
    status = String(required=True)
    acknowledged_by = Integer(allow_none=True)
    acknowledged_at = String(allow_none=True)
    resolved_by = Integer(allow_none=True)
    resolved_at = String(allow_none=True)
    outcome = String(allow_none=True)
    note = String(allow_none=True)


class FlagRowOut(FlagOut):
    """FlagOut in a list (a schema class is registered in the spec once)."""


class FlagListOut(Schema):
    items = List(Nested(FlagRowOut), required=True)


class ResolveIn(Schema):
    outcome = Text(required=True)
    note = Text(multiline=True, allow_none=True, load_default=None, validate=Length(max=2000))

    @validates_schema
    def _outcome(self, data, **kwargs):
        if data.get("outcome") not in OUTCOMES:
            raise ValidationError(f"Must be one of: {', '.join(OUTCOMES)}.", "outcome")


class SnoozeIn(Schema):
    code = Text(required=True, validate=Length(1, 60))
    until = LocalDate(required=True)
    reason = Text(multiline=True, allow_none=True, load_default=None, validate=Length(max=500))


class SnoozeOut(Schema):
    id = Integer(required=True)
    code = String(required=True)
    until = String(required=True)
    reason = String(allow_none=True)


class SnoozeListOut(Schema):
    items = List(Nested(SnoozeOut), required=True)


# --- push, calendar, delivery ------------------------------------------------------


class VapidKeyOut(Schema):
    key = String(required=True)


class SubscriptionKeysIn(Schema):
    p256dh = Text(required=True, validate=Length(20, 200))
    auth = Text(required=True, validate=Length(8, 100))


class SubscriptionIn(Schema):
    endpoint = Text(required=True, validate=Length(10, 2000))
    keys = Nested(SubscriptionKeysIn, required=True)
    #: browsers add it to PushSubscription.toJSON(); ignored
    expirationTime = Field(allow_none=True, load_default=None, metadata={"type": "number", "nullable": True})


class SubscriptionDeleteIn(Schema):
    endpoint = Text(required=True, validate=Length(10, 2000))


class SubscriptionOut(Schema):
    id = Integer(required=True)


class CalendarFeedOut(Schema):
    url = String(required=True)
    path = String(required=True)


class DeliveryRowOut(Schema):
    patient_id = Integer(required=True)
    display_name = String(required=True)
    last_delivered_at = String(allow_none=True)
    push_devices = Integer(required=True)
    calendar_feeds = Integer(required=True)
    reachable = Boolean(required=True)


class DeliveryListOut(Schema):
    items = List(Nested(DeliveryRowOut), required=True)
    page = Integer(required=True)
    per_page = Integer(required=True)
    total = Integer(required=True)


class SharesIn(Schema):
    shares = List(Text(validate=Length(1, 20)), required=True, validate=Length(max=20))


# --- family, clinic, audit ----------------------------------------------------------


class InviteOut(Schema):
    code = String(required=True)
    expires_at = String(required=True)


class FamilyMemberOut(Schema):
    user_id = Integer(required=True)
    email = String(required=True)
    shares = List(String(), required=True)
    created_at = String(required=True)


class FamilyRowOut(FamilyMemberOut):
    """FamilyMemberOut in a list (a schema class is registered in the spec once)."""


class FamilyListOut(Schema):
    items = List(Nested(FamilyRowOut), required=True)


class FamilyViewOut(Schema):
    """What a family member's app shows beside the shared reminders: whose they are, whom to call."""

    patient_id = Integer(required=True)
    display_name = String(required=True)
    #: the patient's protocol: the app speaks its words ("your haematology team")
    protocol = String(required=True)
    #: the kinds of reminder the patient shares with this family member (CLINICAL.md 6)
    shares = List(String(), required=True)
    clinic = Nested(ClinicOut, required=True)


class ClinicPatchIn(Schema):
    name = Trimmed(validate=Length(1, 200))
    #: every piece of advice tells patients to call these: never blank
    phone = Trimmed(validate=Length(3, 40))
    emergency_number = Trimmed(validate=Length(2, 20))


class SettingsIn(Schema):
    settings = Dict(keys=Text(validate=Length(1, 60)),
                    values=Field(allow_none=True, validate=no_control_characters), required=True)


class SettingsOut(Schema):
    settings = Dict(required=True)
    effective = Dict(required=True)


class AuditQuery(Schema):
    before_id = Integer(validate=Range(1, 2**31 - 1))  # ids are 32-bit integer columns
    limit = Integer(load_default=100, validate=Range(1, 500))
    #: the events of one account (or API key), about one patient
    actor_id = Integer(validate=Range(1, 2**31 - 1))
    patient_id = Integer(validate=Range(1, 2**31 - 1))
    #: an action (``patient.read``) or the start of several (``denied``)
    action = Text(validate=[Length(1, 40), Regexp(r"^[a-z_]+(\.[a-z_]+)*$",
                                                 error="Use an action name such as patient.read or denied.")])
    #: UTC days, both inclusive
    from_ = LocalDate(data_key="from")
    to = LocalDate()

    @validates_schema
    def _ordered(self, data, **kwargs):
        if data.get("from_") and data.get("to") and data["to"] < data["from_"]:
            raise ValidationError("'to' is before 'from'.", "to")


class AuditEventOut(Schema):
    id = Integer(required=True)
    actor_id = Integer(required=True)
    action = String(required=True)
    patient_id = Integer(allow_none=True)
    at = String(required=True)


class AuditListOut(Schema):
    items = List(Nested(AuditEventOut), required=True)


# --- the clinic's staff ------------------------------------------------------------------


class StaffOut(Schema):
    id = Integer(required=True)
    email = String(required=True)
    role = String(required=True)
    active = Boolean(required=True)
    #: a set-up code was given and not used yet
    pending = Boolean(required=True)
    created_at = String(required=True)


class StaffChangedOut(StaffOut):
    """A member of staff after a change (PATCH /staff/{id})."""


class StaffListOut(Schema):
    items = List(Nested(StaffOut), required=True)


class StaffInviteIn(Schema):
    email = Email(required=True, validate=Length(3, 254))
    role = Text(required=True, validate=OneOf(("nurse", "admin")))


class StaffInvitedOut(Schema):
    member = Nested(StaffOut, required=True)
    #: the one-time code with which she sets her password (shown once)
    code = String(required=True)
    expires_at = String(required=True)


class StaffPatchIn(Schema):
    """A change to a member of staff: only the fields sent change."""

    role = Text(validate=OneOf(("nurse", "admin")))
    active = StrictBoolean()

    @validates_schema
    def _something(self, data, **kwargs):
        if not data:
            raise ValidationError("Send role or active.", "role")


class ProtocolQuery(Schema):
    #: which protocol's sheet: "ms" (default) or "cll"
    protocol = String(load_default="ms", validate=OneOf(PROTOCOLS))
    language = String(load_default="en", validate=OneOf(LANGUAGES))
    format = String(load_default="json", validate=OneOf(FORMATS))


class ProtocolOut(Schema):
    protocol = String(required=True)
    protocol_name = String(required=True)
    language = String(required=True)
    content_version = String(required=True, metadata={"description": "sha256 of every rule and text"})
    labels = Dict(required=True)
    sections = List(Dict(), required=True)


class TextsQuery(Schema):
    lang = String(load_default="en", validate=OneOf(LANGUAGES))
    #: whose words: "ms" (default) or "cll" (CLINICAL.md 1: the protocol decides the words)
    protocol = String(load_default="ms", validate=OneOf(PROTOCOLS))


class TextsOut(Schema):
    language = String(required=True)
    items = Dict(required=True)
    levels = Dict(required=True)
    kinds = Dict(required=True)
    groups = Dict(required=True)
    analytes = Dict(required=True)
    rules = Dict(required=True)
    #: warnings on planned courses (CLINICAL.md 2.3): code -> {text}, for the care team's screens
    warnings = Dict(required=True)
    #: checklist questions: code -> {text, signs}, for the care team's queue and record
    questions = Dict(required=True)


# --- lab import (issue 19) -------------------------------------------------------------


class ApiKeyIn(Schema):
    name = Text(required=True, validate=Length(1, 100))


class ApiKeyOut(Schema):
    id = Integer(required=True)
    name = String(required=True)
    #: the key's first characters, to tell keys apart
    prefix = String(required=True)
    created_at = String(required=True)
    last_used_at = String(allow_none=True)
    revoked_at = String(allow_none=True)


class ApiKeyCreatedOut(ApiKeyOut):
    #: the key itself: shown this once, never again
    key = String(required=True)


class ApiKeyListOut(Schema):
    items = List(Nested(ApiKeyOut), required=True)


#: a query flag: "true" or "false"
QueryFlag = {"truthy": {"true"}, "falsy": {"false"}}


class FhirImportQuery(Schema):
    accept_valid = Boolean(load_default=False, **QueryFlag)


class FhirBundleIn(Schema):
    """A FHIR R4 Bundle of Observations; each entry is checked by the import (its
    refusals name the entry's index and field)."""

    class Meta:
        unknown = "include"

    resourceType = String(required=True, validate=OneOf(["Bundle"]))
    type = String(required=True, validate=OneOf(["transaction", "collection", "batch"]))
    entry = List(Dict(), required=True, validate=Length(1, 5000))


class CsvImportQuery(Schema):
    preview = Boolean(load_default=True, **QueryFlag)


class CsvMappingIn(Schema):
    """The file's header name of each part of a result (ref_low, ref_high: optional)."""

    hospital_number = Text(required=True, validate=Length(1, 200))
    analyte = Text(required=True, validate=Length(1, 200))
    value = Text(required=True, validate=Length(1, 200))
    unit = Text(required=True, validate=Length(1, 200))
    taken_on = Text(required=True, validate=Length(1, 200))
    ref_low = Text(allow_none=True, validate=Length(0, 200))
    ref_high = Text(allow_none=True, validate=Length(0, 200))


class CsvText(Text):
    """A CSV file's text: line feeds, carriage returns and tabs allowed, no other control character."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, multiline=True, **kwargs)
        self.control = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")


class CsvImportIn(Schema):
    csv = CsvText(required=True, validate=Length(1, 2_000_000))
    mapping = Nested(CsvMappingIn, required=True)
    #: store the valid rows when some are refused (the nurse confirmed after the preview)
    confirm_valid = StrictBoolean(load_default=False)


class ImportItemOut(Schema):
    index = Integer(required=True)
    status = String(required=True, validate=OneOf(["new", "stored", "duplicate", "refused"]))
    field = String()
    #: refused: the part of the result at fault (hospital_number, analyte, value, unit, taken_on, ref_low,
    #: ref_high, resource), the reason as a stable code and the values its sentence needs (docs/api.md)
    part = String()
    reason = String()
    reason_code = String()
    reason_params = Dict()
    hospital_number = String(allow_none=True)
    analyte = String(allow_none=True)
    patient_id = Integer(allow_none=True)
    taken_on = String(allow_none=True)
    value = Field(allow_none=True)
    unit = String(allow_none=True)
    value_as_recorded = Field(allow_none=True)
    unit_as_recorded = String(allow_none=True)
    submission_id = Integer()
    flag_id = Integer(allow_none=True)
    flags = List(Dict())


class ImportOut(Schema):
    new = Integer(required=True)
    stored = Integer(required=True)
    duplicate = Integer(required=True)
    refused = Integer(required=True)
    items = List(Nested(ImportItemOut), required=True)
    #: CSV: the file's header
    header = List(String())


# --- the nurse's workspace (issue 17): the queue per patient, notes, course entry ------------


class QueueQuery(Schema):
    status = Text(validate=OneOf(("open", "acknowledged")))
    level = Text(validate=OneOf(("emergency", "urgent", "soon")))


class QueueFlagOut(FlagOut):
    """A flag in a patient's group of the queue, with the email of who acknowledged it."""

    acknowledged_by_email = String(allow_none=True)


class QueueGroupOut(Schema):
    patient_id = Integer(required=True)
    display_name = String(required=True)
    hospital_number = String(allow_none=True)
    #: the patient's protocol: the app words her flags' reasons in its texts
    protocol = String(required=True)
    #: the highest level among the group's flags
    level = String(required=True)
    oldest_at = String(required=True)
    newest_at = String(required=True)
    #: how many of its flags are open (nobody has looked) and acknowledged
    open = Integer(required=True)
    acknowledged = Integer(required=True)
    flags = List(Nested(QueueFlagOut), required=True)


class QueueOut(Schema):
    items = List(Nested(QueueGroupOut), required=True)
    #: the newest flag's id in the answer: a client polling compares it to announce new flags
    latest_flag_id = Integer(allow_none=True)


class ResolvedQuery(Schema):
    limit = Integer(load_default=100, validate=Range(1, 500))
    patient_id = Integer(validate=Range(1, 2**31 - 1))


class ResolvedFlagOut(FlagOut):
    display_name = String(required=True)
    protocol = String(required=True)
    acknowledged_by_email = String(allow_none=True)
    resolved_by_email = String(allow_none=True)


class ResolvedListOut(Schema):
    items = List(Nested(ResolvedFlagOut), required=True)


class ToReadQuery(Schema):
    #: checklists answered in the last this many days
    days = Integer(load_default=90, validate=Range(1, 366))
    limit = Integer(load_default=100, validate=Range(1, 500))


class ToReadOut(Schema):
    id = Integer(required=True)
    patient_id = Integer(required=True)
    display_name = String(required=True)
    protocol = String(required=True)
    answered_on = String(required=True)
    level = String(required=True)
    reasons = List(String(), required=True)
    answers = Dict(required=True)
    note = String(allow_none=True)


class ToReadListOut(Schema):
    items = List(Nested(ToReadOut), required=True)


class ChecklistReadOut(Schema):
    """A routine checklist marked read: it has left the list of checklists to read."""

    id = Integer(required=True)
    patient_id = Integer(required=True)
    read_at = String(required=True)
    read_by = Integer(required=True)
    read_by_email = String(required=True)


class NoteIn(Schema):
    text = Text(multiline=True, required=True, validate=Length(1, 4000))

    @validates_schema
    def _text(self, data, **kwargs):
        if not data.get("text", "").strip():
            raise ValidationError("Write the note before saving it.", "text")


class NoteOut(Schema):
    id = Integer(required=True)
    text = String(required=True)
    created_at = String(required=True)
    author_id = Integer(required=True)
    #: the signature: the author's email
    author = String(required=True)


class NoteListOut(Schema):
    items = List(Nested(NoteOut), required=True)


class CoursePreviewIn(CourseIn):
    """A course as it would be recorded; ``replaces``: the id of the course it would correct."""

    replaces = Integer(validate=Range(1, 2**31 - 1))


class CoursePreviewOut(Schema):
    course = Integer(required=True)
    infusions = List(String(), required=True)
    status = String(required=True)
    warnings = List(Nested(CourseWarningOut), required=True)
    #: a given course: the warnings it would have were it planned (check the dates)
    checks = List(Nested(CourseWarningOut), required=True)


def _reason_not_blank(data):
    if "reason" in data and data["reason"] is not None and not data["reason"].strip():
        raise ValidationError("Say why, or leave the reason out.", "reason")


class CourseCorrectionIn(CoursePatchIn):
    """A correction of a recorded course, and why (kept with the course as it was)."""

    reason = Text(multiline=True, allow_none=True, validate=Length(1, 500))

    @validates_schema
    def _reason(self, data, **kwargs):
        _reason_not_blank(data)


class CourseRemoveIn(Schema):
    reason = Text(multiline=True, allow_none=True, validate=Length(1, 500))

    @validates_schema
    def _reason(self, data, **kwargs):
        _reason_not_blank(data)


class CourseChangeOut(Schema):
    course_id = Integer(required=True)
    action = String(required=True)
    infusions_before = List(String(), required=True)
    status_before = String(required=True)
    reason = String(allow_none=True)
    changed_by = String(required=True)
    changed_at = String(required=True)


class AccessOut(Schema):
    at = String(required=True)
    action = String(required=True)
    by = String(allow_none=True)
    role = String(allow_none=True)


class CareSummaryOut(Schema):
    """What the care team needs beside the record: reminder delivery, course history, who looked."""

    delivery = Dict(required=True)
    course_changes = List(Nested(CourseChangeOut), required=True)
    access_log = List(Nested(AccessOut), required=True)
