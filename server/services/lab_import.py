"""Lab results imported from a laboratory (issue 19): a FHIR Bundle or a CSV file.

Both sources are read into :class:`Row`s (one result each, with the name of the
source's field for each of its parts), then checked and stored the same way:

* the patient is the one of the importing clinic with that hospital number
  (never another clinic's: such a row is refused as an unknown patient);
* the analyte, value, unit and reference range go through the same checks as a
  result typed by hand (``engine.inputs.make_lab_result``: accepted units,
  conversion to the canonical unit, plausibility); UCUM codes are accepted
  beside content/'s spellings;
* each row has an idempotency key, unique within the clinic (``LabImportKey``):
  the observation's identifier or id when it has one, else a hash of hospital
  number, analyte, date, value and unit; a row whose key is stored, or which
  repeats an earlier row of the same file, is a duplicate and stores nothing;
* all or nothing: when any row is refused nothing is stored (:class:`ImportRefused`,
  listing every refused row), unless the caller accepts the valid ones;
* the rows of one patient and one date are stored as one sample through
  ``services.labs.submit``, so that they raise the same flags and pushes as
  results entered by hand. They count as entered by the care team.

The caller commits.
"""

from __future__ import annotations

import csv
import hashlib
import io
import math
from collections import defaultdict
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from datetime import date, datetime
from typing import Any, Mapping, NamedTuple
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload

from ..engine.content.model import Content
from ..engine.errors import InputError
from ..engine.inputs import make_lab_result
from ..engine.units import accepted_units, find_unit, normalise
from ..models import Clinic, LabImportKey, Patient
from ..timeutil import local_today
from . import labs
from .errors import InvalidInput

LOINC = "http://loinc.org"
#: the logical parts of a row, in the order a refusal is looked for
PARTS = ("hospital_number", "analyte", "value", "unit", "taken_on", "ref_low", "ref_high")
#: words a laboratory writes for a positive or negative strip (case ignored), in the app's
#: languages (English, Spanish, German, Italian); SNOMED CT codes
QUALITATIVE = {"positive": "positive", "pos": "positive", "detected": "positive", "10828004": "positive",
               "pos.": "positive", "negative": "negative", "neg": "negative", "not detected": "negative",
               "260385009": "negative", "neg.": "negative",
               "positivo": "positive", "negativo": "negative", "detectado": "positive", "no detectado": "negative",
               "positiv": "positive", "negativ": "negative", "nachgewiesen": "positive",
               "nicht nachgewiesen": "negative", "rilevato": "positive", "non rilevato": "negative"}
#: every ``reason_code`` a refused row can carry (docs/api.md says what each means; the PWA words each one)
REASON_CODES = ("unknown_hospital_number", "no_hospital_number", "no_date", "bad_date", "date_in_future",
                "unknown_analyte", "unknown_loinc", "unit_needed", "bad_unit", "unit_not_allowed", "no_value",
                "not_a_number", "not_positive_negative", "negative", "too_large", "implausible_value",
                "implausible_limit", "range_not_allowed", "range_inverted", "bad_range", "not_an_observation",
                "bad_value")
#: rows looked up per query of stored keys
CHUNK = 500


class Problem(NamedTuple):
    """Why a row is refused: the part at fault, the English sentence, a stable code
    (docs/api.md lists them) and the values a client needs to say it in its own words."""

    part: str
    reason: str
    code: str
    params: Mapping[str, Any] = {}


class Recorder(NamedTuple):
    """Who recorded an imported result when no user did (a laboratory system's key)."""

    id: int | None = None
    role: str = "lab"


@dataclass
class Row:
    """One result as read from the source; ``fields``: part -> the source's name for it."""

    index: int
    fields: Mapping[str, str]
    hospital_number: str | None = None
    analyte: str | None = None
    value: Any = None
    unit: str | None = None
    #: a date, or an aware datetime (read as the patient's local date)
    taken_on: date | datetime | None = None
    ref_low: float | None = None
    ref_high: float | None = None
    #: the source's own identity of the result (FHIR: identifier or id), if any
    source_id: str | None = None
    #: a refusal found while reading
    problem: Problem | None = None


@dataclass
class Outcome:
    """What became (or would become) of one row."""

    row: Row
    status: str = "new"  # new | stored | duplicate | refused
    field: str | None = None
    reason: str | None = None
    problem: Problem | None = None
    patient: Patient | None = None
    day: date | None = None
    checked: Any = None
    key: str | None = None
    result: dict[str, Any] = dataclass_field(default_factory=dict)

    def refuse(self, problem: Problem) -> None:
        self.status, self.problem, self.reason = "refused", problem, problem.reason
        self.field = self.row.fields.get(problem.part, problem.part)

    def json(self) -> dict[str, Any]:
        body: dict[str, Any] = {"index": self.row.index, "status": self.status}
        if self.status == "refused":
            body |= {"field": self.field, "part": self.problem.part, "reason": self.reason,
                     "reason_code": self.problem.code, "reason_params": dict(self.problem.params)}
        body |= {"hospital_number": self.row.hospital_number, "analyte": self.row.analyte,
                 "patient_id": self.patient.id if self.patient is not None else None,
                 "taken_on": self.day.isoformat() if self.day is not None else None}
        if self.checked is not None:
            body |= {"value": self.checked.value, "unit": self.checked.unit,
                     "value_as_recorded": self.checked.value_as_recorded,
                     "unit_as_recorded": self.checked.unit_as_recorded}
        body |= self.result
        return body


class ImportRefused(InvalidInput):
    """Some rows were refused, so nothing was stored (400); ``details`` lists every row's outcome."""

    def __init__(self, outcomes: list[Outcome]):
        refused = [o for o in outcomes if o.status == "refused"]
        first = refused[0]
        super().__init__(first.field, f"{len(refused)} of {len(outcomes)} results were refused, so none was "
                                      f"stored (first: {first.row.index}, {first.field}: {first.reason}).",
                         code="import_refused")
        self.details = {"refused": [o.json() for o in refused]}


def summary(outcomes: list[Outcome]) -> dict[str, Any]:
    counts = {status: 0 for status in ("new", "stored", "duplicate", "refused")}
    for outcome in outcomes:
        counts[outcome.status] += 1
    return {**counts, "items": [o.json() for o in outcomes]}


def run(session: Session, clinic: Clinic, recorder: Any, rows: list[Row], now: datetime, content: Content,
        store: bool, accept_valid: bool) -> list[Outcome]:
    """Check ``rows`` and, when ``store``, store the new ones (see the module's
    docstring); every row's outcome, in order. ImportRefused when a row is
    refused, ``store`` is set and ``accept_valid`` is not."""
    outcomes = [Outcome(row) for row in rows]
    patients = _patients(session, clinic.id, {r.hospital_number for r in rows if r.hospital_number})
    for outcome in outcomes:
        _check(outcome, patients, now, content)
    _mark_duplicates(session, clinic.id, outcomes)
    if not store:
        return outcomes
    if any(o.status == "refused" for o in outcomes) and not accept_valid:
        raise ImportRefused(outcomes)
    _store(session, clinic, recorder, [o for o in outcomes if o.status == "new"], now, content)
    return outcomes


def _patients(session: Session, clinic_id: int, numbers: set[str]) -> dict[str, Patient]:
    found: dict[str, Patient] = {}
    ordered = sorted(numbers)
    for start in range(0, len(ordered), CHUNK):
        query = (select(Patient).options(joinedload(Patient.clinic))
                 .where(Patient.clinic_id == clinic_id, Patient.hospital_number.in_(ordered[start:start + CHUNK])))
        found.update({p.hospital_number: p for p in session.scalars(query)})
    return found


def _check(outcome: Outcome, patients: Mapping[str, Patient], now: datetime, content: Content) -> None:
    row = outcome.row
    if row.problem is not None:
        outcome.refuse(row.problem)
        return
    patient = patients.get(row.hospital_number or "")
    if patient is None:
        outcome.refuse(Problem("hospital_number", "no patient of this clinic has this hospital number",
                               "unknown_hospital_number"))
        return
    outcome.patient = patient
    if isinstance(row.taken_on, datetime):
        day = row.taken_on.astimezone(ZoneInfo(patient.timezone)).date()
    else:
        day = row.taken_on
    if day is None:
        outcome.refuse(Problem("taken_on", "no date", "no_date"))
        return
    outcome.day = day
    if day > local_today(patient.timezone, now):
        outcome.refuse(Problem("taken_on", "the date is in the future", "date_in_future",
                               {"date": day.isoformat()}))
        return
    known = content.analytes.get(row.analyte or "")
    if known is None:
        outcome.refuse(Problem("analyte", f"unknown analyte {row.analyte!r}", "unknown_analyte",
                               {"analyte": row.analyte or ""}))
        return
    unit = row.unit
    if known.kind == "number":
        if unit is None:
            outcome.refuse(Problem("unit", f"a {known.code} result needs its unit", "unit_needed",
                                   {"analyte": known.code, "units": ", ".join(accepted_units(known))}))
            return
        unit = import_unit(known, unit)
    try:
        outcome.checked = make_lab_result(known.code, row.value, day, content, row.ref_low, row.ref_high, False,
                                          "row", unit)
    except InputError as error:
        outcome.refuse(Problem(error.field.rsplit(".", 1)[-1], error.problem, error.code or "bad_value",
                               error.params))
        return
    outcome.key = import_key(row, known.code, day)


def import_unit(analyte: Any, unit: str) -> str:
    """content/'s spelling of ``unit`` (the analyte's UCUM code included); as given when not accepted."""
    if find_unit(analyte, unit) is None and analyte.ucum and normalise(unit) == normalise(analyte.ucum):
        return analyte.unit
    return unit


def import_key(row: Row, analyte: str, day: date) -> str:
    """The row's idempotency key within the clinic (docs/decisions.md, "Lab import")."""
    if row.source_id:
        text = f"id\x1f{row.source_id}"
    else:
        unit = normalise(row.unit) if isinstance(row.unit, str) else ""
        value = row.value if isinstance(row.value, str) else repr(float(row.value))
        text = "\x1f".join(("row", (row.hospital_number or "").strip(), analyte, day.isoformat(), value, unit))
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def _mark_duplicates(session: Session, clinic_id: int, outcomes: list[Outcome]) -> None:
    keys = sorted({o.key for o in outcomes if o.key is not None})
    stored: set[str] = set()
    for start in range(0, len(keys), CHUNK):
        stored.update(session.scalars(select(LabImportKey.import_key).where(
            LabImportKey.clinic_id == clinic_id, LabImportKey.import_key.in_(keys[start:start + CHUNK]))))
    seen: set[str] = set()
    for outcome in outcomes:
        if outcome.status != "new":
            continue
        if outcome.key in stored or outcome.key in seen:
            outcome.status = "duplicate"
        seen.add(outcome.key)


def _samples(outcomes: list[Outcome]) -> list[list[Outcome]]:
    """The new rows as samples: one patient, one date, each analyte once."""
    groups: dict[tuple[int, date], list[list[Outcome]]] = defaultdict(list)
    for outcome in outcomes:
        bucket = groups[(outcome.patient.id, outcome.day)]
        home = next((g for g in bucket if all(o.checked.analyte != outcome.checked.analyte for o in g)), None)
        if home is None:
            bucket.append(home := [])
        home.append(outcome)
    return [group for bucket in groups.values() for group in bucket]


def _store(session: Session, clinic: Clinic, recorder: Any, outcomes: list[Outcome], now: datetime,
           content: Content) -> None:
    for group in _samples(outcomes):
        patient = group[0].patient
        keys = sorted(o.key for o in group)
        client_id = "import-" + hashlib.sha256("".join(keys).encode()).hexdigest()[:29]
        data = {"client_id": client_id, "taken_on": group[0].day,
                "results": [{"analyte": o.checked.analyte, "value": o.checked.value_as_recorded
                             if o.checked.unit is not None else o.checked.value,
                             "unit": o.checked.unit_as_recorded, "ref_low": o.row.ref_low,
                             "ref_high": o.row.ref_high} for o in group]}
        try:
            # A concurrent import of the same rows: the unique keys decide, the loser stores nothing.
            with session.begin_nested():
                response, created = labs.submit(session, patient, recorder, data, group[0].day, now, content)
                session.add_all(LabImportKey(clinic_id=clinic.id, import_key=o.key, submission_id=response["id"],
                                             created_at=now) for o in group)
                session.flush()
        except IntegrityError:
            created = False
        for outcome in group:
            outcome.status = "stored" if created else "duplicate"
            if created:
                outcome.result = {"submission_id": response["id"], "flag_id": response["flag_id"],
                                  "flags": [f for f in response["flags"] if f.get("analyte") in
                                            (None, outcome.checked.analyte)]}


# --- FHIR -----------------------------------------------------------------------------


def fhir_rows(bundle: Any, content: Content) -> list[Row]:
    """The Observations of a FHIR R4 Bundle (transaction or collection) as rows.
    InvalidInput when the body is not such a Bundle at all."""
    if not isinstance(bundle, dict) or bundle.get("resourceType") != "Bundle":
        raise InvalidInput("resourceType", "Send a FHIR Bundle.")
    if bundle.get("type") not in ("transaction", "collection", "batch"):
        raise InvalidInput("type", "The Bundle's type must be transaction or collection.")
    entries = bundle.get("entry") or []
    if not isinstance(entries, list):
        raise InvalidInput("entry", "entry must be a list.")
    if not entries:
        raise InvalidInput("entry", "The Bundle has no entry.")
    by_loinc = {a.loinc: a.code for a in content.analytes.values() if a.loinc}
    return [_observation(index, entry, by_loinc) for index, entry in enumerate(entries)]


def _observation(index: int, entry: Any, by_loinc: Mapping[str, str]) -> Row:
    base = f"entry[{index}].resource"
    fields = {"hospital_number": f"{base}.subject.identifier.value", "analyte": f"{base}.code.coding",
              "value": f"{base}.valueQuantity.value", "unit": f"{base}.valueQuantity.code",
              "taken_on": f"{base}.effectiveDateTime", "ref_low": f"{base}.referenceRange[0].low.value",
              "ref_high": f"{base}.referenceRange[0].high.value", "resource": base}
    row = Row(index, fields)
    resource = entry.get("resource") if isinstance(entry, dict) else None
    if not isinstance(resource, dict) or resource.get("resourceType") != "Observation":
        row.problem = Problem("resource", "not an Observation", "not_an_observation")
        return row
    subject = resource.get("subject")
    identifier = subject.get("identifier") if isinstance(subject, dict) else None
    number = identifier.get("value") if isinstance(identifier, dict) else None
    if not isinstance(number, str) or not number.strip():
        row.problem = Problem("hospital_number", "no hospital number (subject.identifier.value)",
                              "no_hospital_number")
        return row
    row.hospital_number = number.strip()
    row.source_id = _source_id(resource)
    codings = (resource.get("code") or {}).get("coding") if isinstance(resource.get("code"), dict) else None
    codes = [c.get("code") for c in codings or [] if isinstance(c, dict) and c.get("system") == LOINC]
    analyte = next((by_loinc[c] for c in codes if c in by_loinc), None)
    if analyte is None:
        shown = ", ".join(str(c) for c in codes) or "none"
        row.problem = Problem("analyte", f"no LOINC code this clinic's results use (LOINC codes given: {shown})",
                              "unknown_loinc", {"codes": shown})
        return row
    row.analyte = analyte
    problem = _fhir_value(row, resource)
    if problem is None:
        problem = _fhir_date(row, resource.get("effectiveDateTime"))
    if problem is None:
        problem = _fhir_range(row, resource.get("referenceRange"))
    row.problem = problem
    return row


def _source_id(resource: Mapping[str, Any]) -> str | None:
    for identifier in resource.get("identifier") or []:
        if isinstance(identifier, dict) and isinstance(identifier.get("value"), str) and identifier["value"]:
            return f"{identifier.get('system') or ''}|{identifier['value']}"
    ident = resource.get("id")
    return f"Observation/{ident}" if isinstance(ident, str) and ident else None


def _fhir_value(row: Row, resource: Mapping[str, Any]) -> Problem | None:
    quantity = resource.get("valueQuantity")
    if isinstance(quantity, dict):
        value = quantity.get("value")
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            return Problem("value", "valueQuantity.value is not a number", "not_a_number")
        unit = quantity.get("code") if isinstance(quantity.get("code"), str) else quantity.get("unit")
        if not isinstance(unit, str) and unit is not None:
            return Problem("unit", "the unit is not text", "bad_unit", {"unit": repr(unit)})
        if not isinstance(quantity.get("code"), str):
            row.fields = {**row.fields, "unit": row.fields["unit"].replace(".code", ".unit")}
        row.value, row.unit = float(value), unit
        return None
    row.fields = {**row.fields, "value": row.fields["value"].replace("valueQuantity.value", "valueCodeableConcept")}
    concept = resource.get("valueCodeableConcept")
    words: list[Any] = []
    if isinstance(concept, dict):
        words = [c.get("code") for c in concept.get("coding") or [] if isinstance(c, dict)]
        words += [c.get("display") for c in concept.get("coding") or [] if isinstance(c, dict)]
        words.append(concept.get("text"))
    elif "valueString" in resource:
        row.fields = {**row.fields, "value": row.fields["value"].replace("valueCodeableConcept", "valueString")}
        words = [resource.get("valueString")]
    else:
        return Problem("value", "no valueQuantity, valueCodeableConcept or valueString", "no_value")
    found = next((QUALITATIVE[w.strip().casefold()] for w in words
                  if isinstance(w, str) and w.strip().casefold() in QUALITATIVE), None)
    if found is None:
        return Problem("value", "expected positive or negative", "not_positive_negative",
                       {"analyte": row.analyte})
    row.value = found
    return None


def _fhir_date(row: Row, text: Any) -> Problem | None:
    if not isinstance(text, str):
        return Problem("taken_on", "no effectiveDateTime", "no_date")
    parsed = parse_when(text)
    if parsed is None:
        return Problem("taken_on", f"{text!r} is not a date (YYYY-MM-DD, or a date-time with its offset)",
                       "bad_date", {"text": text})
    row.taken_on = parsed
    return None


def parse_when(text: str) -> date | datetime | None:
    """A date (``YYYY-MM-DD``) or an ISO date-time with its offset; None when neither
    or out of 1900..2100. A date-time without an offset is read as that day."""
    text = text.strip()
    try:
        if len(text) == 10:
            parsed: date | datetime = date.fromisoformat(text)
        else:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
            parsed = moment if moment.tzinfo is not None else moment.date()
    except ValueError:
        return None
    year = parsed.year
    return parsed if 1900 <= year <= 2100 else None


def _fhir_range(row: Row, ranges: Any) -> Problem | None:
    if not ranges:
        return None
    first = ranges[0] if isinstance(ranges, list) and ranges else None
    if not isinstance(first, dict):
        return Problem("ref_low", "referenceRange is not a list of ranges", "bad_range")
    for part, name in (("low", "ref_low"), ("high", "ref_high")):
        quantity = first.get(part)
        if quantity is None:
            continue
        value = quantity.get("value") if isinstance(quantity, dict) else None
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            return Problem(name, f"referenceRange.{part}.value is not a number", "not_a_number")
        setattr(row, name, float(value))
    return None


# --- CSV ------------------------------------------------------------------------------


class CsvError(InvalidInput):
    """A file that is not well-formed CSV: the row (1 = the header) and column are named."""

    def __init__(self, row: int, column: int | str, message: str):
        super().__init__(f"csv: row {row}, column {column}", f"Row {row}, column {column}: {message}",
                         code="malformed_csv")
        self.details = {"row": row, "column": column}


def parse_csv(text: str) -> list[list[str]]:
    """The records of ``text`` (RFC 4180, any of , ; or tab as the delimiter the
    header uses; blank lines skipped); CsvError naming the row and column of an
    unclosed quote or of a row whose column count differs from the header's."""
    text = text.lstrip("\ufeff")
    header_line = text.split("\n", 1)[0]
    delimiter = max((",", ";", "\t"), key=header_line.count)
    lines = text.splitlines()
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    records: list[list[str]] = []
    while True:
        starts_on = reader.line_num  # the physical line the next record starts after
        try:
            record = next(reader)
        except StopIteration:
            break
        except csv.Error:
            # Name the cell whose quote broke the record: the first quote of its first line.
            line = lines[starts_on] if starts_on < len(lines) else ""
            before = line[:line.index('"')] if '"' in line else line
            raise CsvError(len(records) + 1, before.count(delimiter) + 1,
                           "a quote is opened and never closed, or text follows a closing quote") from None
        if any(cell.strip() for cell in record):
            records.append(record)
    if not records:
        raise CsvError(1, 1, "the file is empty")
    width = len(records[0])
    for number, found in enumerate(records[1:], start=2):
        if len(found) != width:
            column = min(len(found), width) + 1
            raise CsvError(number, column, f"{len(found)} columns where the header has {width}")
    return records


def csv_rows(text: str, mapping: Mapping[str, str | None], content: Content) -> tuple[list[str], list[Row]]:
    """(the header, the rows) of a CSV file whose columns ``mapping`` names
    (part -> header name); a row's index is its row number in the file (1: the header)."""
    records = parse_csv(text)
    header = [h.strip() for h in records[0]]
    columns: dict[str, int] = {}
    for part, name in mapping.items():
        if name is None or name == "":
            continue
        if name not in header:
            raise InvalidInput(f"mapping.{part}", f"The file has no column {name!r}.")
        columns[part] = header.index(name)
    by_loinc = {a.loinc: a.code for a in content.analytes.values() if a.loinc}
    rows = []
    for number, record in enumerate(records[1:], start=2):
        rows.append(_csv_row(number, record, columns, mapping, by_loinc))
    return header, rows


def _csv_row(number: int, record: list[str], columns: Mapping[str, int], mapping: Mapping[str, Any],
             by_loinc: Mapping[str, str]) -> Row:
    cells = {part: record[index].strip() for part, index in columns.items()}
    row = Row(number, {part: str(mapping[part]) for part in columns})
    row.hospital_number = cells.get("hospital_number") or None
    analyte = cells.get("analyte", "")
    row.analyte = by_loinc.get(analyte, analyte.casefold())
    row.unit = cells.get("unit") or None
    raw_value = cells.get("value", "")
    if raw_value.casefold() in QUALITATIVE:
        row.value = QUALITATIVE[raw_value.casefold()]
    else:
        number_value = _number(raw_value)
        if number_value is None:
            row.problem = Problem("value", f"{raw_value!r} is not a number, positive or negative",
                                  "not_a_number", {"text": raw_value})
            return row
        row.value = number_value
    for part in ("ref_low", "ref_high"):
        text = cells.get(part, "")
        if text:
            limit = _number(text)
            if limit is None:
                row.problem = Problem(part, f"{text!r} is not a number", "not_a_number", {"text": text})
                return row
            setattr(row, part, limit)
    when = parse_when(cells.get("taken_on", ""))
    if when is None:
        text = cells.get("taken_on", "")
        row.problem = (Problem("taken_on", "no date", "no_date") if not text else
                       Problem("taken_on", f"{text!r} is not a date (YYYY-MM-DD)", "bad_date", {"text": text}))
        return row
    row.taken_on = when
    if not row.hospital_number:
        row.problem = Problem("hospital_number", "no hospital number", "no_hospital_number")
    return row


def _number(text: str) -> float | None:
    """A decimal number, with a point or a decimal comma; None when it is not one."""
    cleaned = text.strip()
    if "," in cleaned and "." not in cleaned and cleaned.count(",") == 1:
        cleaned = cleaned.replace(",", ".")
    try:
        value = float(cleaned)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def header_of(text: str) -> list[str]:
    """The header of a CSV text (for the screen's column selects)."""
    return [h.strip() for h in parse_csv(text)[0]]

