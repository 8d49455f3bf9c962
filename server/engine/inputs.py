"""The engine's input values, and their parsing from JSON-shaped documents.

Parsing refuses nonsense with an :class:`InputError` naming the field (a course
with no infusions, impossible dates, unknown analytes, settings or fields), and
normalises what is merely untidy (infusions given out of order are sorted,
courses are put in date order).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date
from types import MappingProxyType
from typing import Any, Mapping
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .content.model import LANGUAGES, ROUTES, Content
from .content.settings import check_setting_value
from .dates import add_months, parse_date
from .errors import InputError
from .units import convert

SEXES = ("female", "male", "other")
COURSE_STATUSES = ("given", "planned")
#: CLINICAL.md section 1: every patient follows one protocol (content/<code>/)
PROTOCOLS = ("ms", "cll")
#: the most milligrams one recorded dose can hold (beyond: a typo, refused)
MAX_DOSE_MG = 1000
#: Larger than any lab value or baseline in any unit we use; beyond it a number is
#: a typo (and a huge integer would not even convert to a float).
MAX_NUMBER = 1e9


@dataclass(frozen=True, slots=True)
class Pregnancy:
    reported_on: date
    ended_on: date | None = None


@dataclass(frozen=True, slots=True)
class Patient:
    sex: str = "other"
    #: whatever ``sex`` says (CLINICAL.md 1): decides contraception and the pregnancy test
    childbearing_potential: bool = False
    breastfeeding: bool = False
    pregnancies: tuple[Pregnancy, ...] = ()
    #: analyte code -> the patient's pre-treatment value (platelets, creatinine...)
    baseline: Mapping[str, float] = field(default_factory=lambda: MappingProxyType({}))
    language: str = "en"
    timezone: str = "UTC"
    protocol: str = "ms"
    #: None: the default by sex (true for female); the care team can change it
    cervical_screening: bool | None = None
    #: a later end for the listeria diet window of her latest course (care team)
    listeria_until: date | None = None

    @property
    def is_female(self) -> bool:
        return self.sex == "female"

    @property
    def screens_cervix(self) -> bool:
        """Cervical screening applies: the attribute, or by default sex female."""
        return self.is_female if self.cervical_screening is None else self.cervical_screening


@dataclass(frozen=True, slots=True)
class Dose:
    """What was given on one administration date, when recorded (CLINICAL.md 7.1)."""

    mg: float | None = None
    route: str | None = None


@dataclass(frozen=True, slots=True)
class Course:
    """One treatment course as its infusion (administration) dates, sorted, at least one.

    ``doses`` is empty, or parallel to ``infusions`` with each date's dose and route.
    """

    infusions: tuple[date, ...]
    status: str = "given"
    doses: tuple[Dose, ...] = ()

    @property
    def first(self) -> date:
        return self.infusions[0]

    @property
    def last(self) -> date:
        return self.infusions[-1]


@dataclass(frozen=True, slots=True)
class LabResult:
    analyte: str
    #: a number in the analyte's canonical unit, or "positive"/"negative" for urine tests
    value: float | str
    taken_on: date
    #: the lab's own range, in the canonical unit
    ref_low: float | None = None
    ref_high: float | None = None
    patient_reported: bool = False
    #: the canonical unit (None for positive/negative tests)
    unit: str | None = None
    #: the number and unit as recorded (CLINICAL.md 4.1: kept beside the converted ones)
    value_as_recorded: float | str | None = None
    unit_as_recorded: str | None = None


def _object(value: Any, field: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise InputError(field, f"expected an object, got {_json_type(value)}")
    return value


def _list(value: Any, field: str) -> list:
    if not isinstance(value, list):
        raise InputError(field, f"expected a list, got {_json_type(value)}")
    return value


def _bool(value: Any, field: str) -> bool:
    if not isinstance(value, bool):
        raise InputError(field, f"expected true or false, got {_json_type(value)}")
    return value


def _number(value: Any, field: str) -> int | float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InputError(field, f"expected a number, got {_json_type(value)}", "not_a_number")
    if isinstance(value, float) and not math.isfinite(value):
        raise InputError(field, "expected a finite number", "not_a_number")
    if abs(value) > MAX_NUMBER:
        raise InputError(field, f"is too large (at most {MAX_NUMBER:.0e})", "too_large", {"most": MAX_NUMBER})
    if value < 0:
        raise InputError(field, f"{value} is negative", "negative", {"value": value})
    return value


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, Mapping):
        return "an object"
    return type(value).__name__


def _no_unknown(doc: Mapping[str, Any], known: tuple[str, ...], prefix: str) -> None:
    for key in doc:
        if key not in known:
            where = f"{prefix}.{key}" if prefix else str(key)
            raise InputError(where, f"unknown field (expected one of {', '.join(known)})")


def parse_patient(doc: Any, content: Content, field: str = "patient") -> Patient:
    doc = _object(doc, field)
    _no_unknown(
        doc,
        ("protocol", "sex", "childbearing_potential", "cervical_screening", "breastfeeding", "pregnancies",
         "baseline", "listeria_until", "language", "timezone"),
        field,
    )
    protocol = doc.get("protocol", "ms")
    if protocol not in PROTOCOLS:
        raise InputError(f"{field}.protocol", f"{protocol!r} is not one of {', '.join(PROTOCOLS)}")
    if protocol not in content.protocols:
        raise InputError(f"{field}.protocol", f"protocol {protocol!r} is not available in this version "
                                              f"(only {', '.join(sorted(content.protocols))})")
    sex = doc.get("sex", "other")
    if sex not in SEXES:
        raise InputError(f"{field}.sex", f"{sex!r} is not one of {', '.join(SEXES)}")
    # Childbearing potential and pregnancies are the patient's own facts, whatever
    # the sex field says (CLINICAL.md v2 change 6).
    childbearing = _bool(doc.get("childbearing_potential", False), f"{field}.childbearing_potential")
    cervical = doc.get("cervical_screening")
    cervical = None if cervical is None else _bool(cervical, f"{field}.cervical_screening")
    listeria_until = doc.get("listeria_until")
    listeria_until = None if listeria_until is None else parse_date(listeria_until, f"{field}.listeria_until")
    pregnancies = []
    for index, raw in enumerate(_list(doc.get("pregnancies", []), f"{field}.pregnancies")):
        where = f"{field}.pregnancies[{index}]"
        raw = _object(raw, where)
        _no_unknown(raw, ("reported_on", "ended_on"), where)
        if "reported_on" not in raw:
            raise InputError(f"{where}.reported_on", "is required")
        reported = parse_date(raw["reported_on"], f"{where}.reported_on")
        ended = raw.get("ended_on")
        ended = None if ended is None else parse_date(ended, f"{where}.ended_on")
        if ended is not None and ended < reported:
            raise InputError(f"{where}.ended_on", "is before reported_on")
        pregnancies.append(Pregnancy(reported, ended))
    baseline = {}
    for analyte, value in _object(doc.get("baseline", {}), f"{field}.baseline").items():
        where = f"{field}.baseline.{analyte}"
        known = content.analytes.get(analyte)
        if known is None:
            raise InputError(where, "unknown analyte")
        if known.kind != "number":
            raise InputError(where, "a baseline is a number; this analyte is positive/negative")
        baseline[analyte] = _number(value, where)
    language = doc.get("language", "en")
    if language not in LANGUAGES:
        raise InputError(f"{field}.language", f"{language!r} is not one of {', '.join(LANGUAGES)}")
    timezone = doc.get("timezone", "UTC")
    try:
        if not isinstance(timezone, str):
            raise ValueError
        ZoneInfo(timezone)
    except (ValueError, ZoneInfoNotFoundError):
        raise InputError(f"{field}.timezone", f"{timezone!r} is not an IANA time zone") from None
    return Patient(
        sex=sex,
        childbearing_potential=childbearing,
        breastfeeding=_bool(doc.get("breastfeeding", False), f"{field}.breastfeeding"),
        pregnancies=tuple(sorted(pregnancies, key=lambda p: p.reported_on)),
        baseline=MappingProxyType(baseline),
        language=language,
        timezone=timezone,
        protocol=protocol,
        cervical_screening=cervical,
        listeria_until=listeria_until,
    )


def make_course(infusions: list[date] | tuple[date, ...], status: str = "given",
                field: str = "course", doses: list[Dose] | tuple[Dose, ...] | None = None) -> Course:
    """A Course from dates in any order; refuses an empty or repeated date list.

    ``doses``, when given, is parallel to ``infusions`` (sorted with them)."""
    if status not in COURSE_STATUSES:
        raise InputError(f"{field}.status", f"{status!r} is not one of {', '.join(COURSE_STATUSES)}")
    if not infusions:
        raise InputError(f"{field}.infusions", "a course needs at least one infusion date")
    pairs = sorted(zip(infusions, doses if doses else [Dose()] * len(infusions)), key=lambda pair: pair[0])
    ordered = tuple(day for day, _ in pairs)
    for before, after in zip(ordered, ordered[1:]):
        if before == after:
            raise InputError(f"{field}.infusions", f"{before.isoformat()} is listed twice")
    kept = tuple(dose for _, dose in pairs) if doses and any(d != Dose() for d in doses) else ()
    return Course(ordered, status, kept)


def make_dose(mg: Any, route: Any, field: str) -> Dose:
    """A Dose checked: ``mg`` a number above 0 (or None), ``route`` one of ROUTES (or None)."""
    if mg is not None:
        mg = _number(mg, f"{field}.mg")
        if mg <= 0 or mg > MAX_DOSE_MG:
            raise InputError(f"{field}.mg", f"must be above 0 and at most {MAX_DOSE_MG} mg")
    if route is not None and route not in ROUTES:
        raise InputError(f"{field}.route", f"{route!r} is not one of {', '.join(ROUTES)}")
    return Dose(float(mg) if mg is not None else None, route)


def check_courses(courses: list[Course] | tuple[Course, ...], field: str = "courses") -> tuple[Course, ...]:
    """Courses in date order; refuses two courses whose infusion spans overlap."""
    ordered = tuple(sorted(courses, key=lambda c: c.first))
    for index, (before, after) in enumerate(zip(ordered, ordered[1:])):
        if after.first <= before.last:
            raise InputError(
                field,
                f"the course starting {after.first.isoformat()} begins before the course "
                f"starting {before.first.isoformat()} has ended ({before.last.isoformat()})",
            )
    return ordered


def parse_courses(doc: Any, field: str = "courses", protocol: str = "ms") -> tuple[Course, ...]:
    """Courses from JSON. For protocol cll a course may give its ``route`` and an
    infusion may be ``{"on": date, "mg": number, "route": "iv"|"sc"}`` (API.md 1)."""
    courses = []
    doses_allowed = protocol == "cll"
    for index, raw in enumerate(_list(doc, field)):
        where = f"{field}[{index}]"
        raw = _object(raw, where)
        _no_unknown(raw, ("infusions", "status", "route") if doses_allowed else ("infusions", "status"), where)
        if "infusions" not in raw:
            raise InputError(f"{where}.infusions", "is required")
        route = raw.get("route")
        if route is not None and route not in ROUTES:
            raise InputError(f"{where}.route", f"{route!r} is not one of {', '.join(ROUTES)}")
        dates, doses = [], []
        for i, value in enumerate(_list(raw["infusions"], f"{where}.infusions")):
            at = f"{where}.infusions[{i}]"
            if doses_allowed and isinstance(value, Mapping):
                _no_unknown(value, ("on", "mg", "route"), at)
                if "on" not in value:
                    raise InputError(f"{at}.on", "is required")
                dates.append(parse_date(value["on"], f"{at}.on"))
                doses.append(make_dose(value.get("mg"), value.get("route", route), at))
            else:
                dates.append(parse_date(value, at))
                doses.append(Dose(None, route))
        courses.append(make_course(dates, raw.get("status", "given"), where, doses))
    return check_courses(courses, field)


def make_lab_result(
    analyte: str,
    value: Any,
    taken_on: date,
    content: Content,
    ref_low: Any = None,
    ref_high: Any = None,
    patient_reported: bool = False,
    field: str = "lab",
    unit: Any = None,
) -> LabResult:
    """A LabResult checked against content/: known analyte, fitting value, unit and range.

    A number ``value`` (and its range) in ``unit`` is converted to the analyte's
    canonical unit (None: already in it); an unknown unit, or a value outside
    the plausible range once converted, is an InputError naming the field
    (CLINICAL.md 4.1, ``units.convert``).
    """
    known = content.analytes.get(analyte) if isinstance(analyte, str) else None
    if known is None:
        raise InputError(f"{field}.analyte", f"unknown analyte {analyte!r}", "unknown_analyte",
                         {"analyte": analyte if isinstance(analyte, str) else repr(analyte)})
    if known.kind == "qualitative":
        if isinstance(value, str) and value.lower() in ("positive", "negative"):
            value = value.lower()  # CLINICAL.md 4: "in any letter case"
        if value not in ("positive", "negative"):
            raise InputError(f"{field}.value", "expected \"positive\" or \"negative\"", "not_positive_negative",
                             {"analyte": analyte})
        if unit is not None:
            raise InputError(f"{field}.unit", "a positive/negative test has no unit", "unit_not_allowed",
                             {"analyte": analyte, "unit": str(unit)})
        if ref_low is not None or ref_high is not None:
            raise InputError(f"{field}.ref_low", "a positive/negative test has no reference range",
                             "range_not_allowed", {"analyte": analyte})
        return LabResult(analyte, value, taken_on, None, None, patient_reported, None, value, None)
    number = _number(value, f"{field}.value")
    low = None if ref_low is None else _number(ref_low, f"{field}.ref_low")
    high = None if ref_high is None else _number(ref_high, f"{field}.ref_high")
    if low is not None and high is not None and low > high:
        raise InputError(f"{field}.ref_low", "is above ref_high", "range_inverted")
    converted = convert(known, number, unit, low, high, field)
    return LabResult(analyte, converted.value, taken_on, converted.ref_low, converted.ref_high, patient_reported,
                     converted.unit, converted.value_as_recorded, converted.unit_as_recorded)


def parse_labs(doc: Any, content: Content, field: str = "labs") -> tuple[LabResult, ...]:
    results = []
    for index, raw in enumerate(_list(doc, field)):
        where = f"{field}[{index}]"
        raw = _object(raw, where)
        _no_unknown(
            raw, ("analyte", "value", "unit", "taken_on", "ref_low", "ref_high", "patient_reported"), where
        )
        for required in ("analyte", "value", "taken_on"):
            if required not in raw:
                raise InputError(f"{where}.{required}", "is required")
        results.append(
            make_lab_result(
                raw["analyte"],
                raw["value"],
                parse_date(raw["taken_on"], f"{where}.taken_on"),
                content,
                raw.get("ref_low"),
                raw.get("ref_high"),
                _bool(raw.get("patient_reported", False), f"{where}.patient_reported"),
                where,
                raw.get("unit"),
            )
        )
    # Date order, keeping the given order within a day: rules that follow a
    # series of results (weekly blood counts) read them in this order.
    return tuple(sorted(results, key=lambda r: r.taken_on))


def resolve_settings(doc: Any, content: Content, field: str = "settings") -> Mapping[str, Any]:
    """The site defaults of content/settings.toml overlaid with ``doc``, checked."""
    doc = _object(doc if doc is not None else {}, field)
    resolved = {name: setting.default for name, setting in content.settings.items()}
    for name, value in doc.items():
        setting = content.settings.get(name)
        if setting is None:
            raise InputError(f"{field}.{name}", "unknown setting")
        try:
            resolved[name] = check_setting_value(setting, value)
        except ValueError as exc:
            raise InputError(f"{field}.{name}", str(exc)) from None
    return MappingProxyType(resolved)


def pregnancy_spans(patient: Patient, default_months: int) -> tuple[tuple[date, date], ...]:
    """Each pregnancy as (from, to), inclusive; open ones last ``default_months``."""
    return tuple(
        (p.reported_on, p.ended_on or add_months(p.reported_on, default_months))
        for p in patient.pregnancies
    )
