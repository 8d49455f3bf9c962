"""Units of lab results (CLINICAL.md section 4.1): matching, conversion, plausibility.

Rules compare values in each analyte's canonical unit. A result recorded in an
accepted alternative unit is converted, value and reference range, with the
factor content/labs.toml gives (canonical = recorded x factor); the recorded
value and unit are kept beside the converted ones. A unit is matched ignoring
letter case, surrounding blanks and the spelling of "micro" (``µ`` U+00B5,
``μ`` U+03BC or ``u``). An unknown unit, or a value outside the analyte's
plausible range once converted, is refused with an :class:`InputError` that
names the field and says to check the value and its unit: a typo or a unit
mix-up must never be stored as a result.

Pure: no framework, no I/O.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NamedTuple

from .errors import InputError

if TYPE_CHECKING:  # content/loading.py imports this module for ``normalise``
    from .content.model import Analyte

#: the micro sign and the Greek small letter mu, both written "u" in the units of content/
_MICRO = {ord("\u00b5"): "u", ord("\u03bc"): "u"}
#: lab values carry a few decimals; rounding the product keeps 0.001 x 30000 = 30
#: exactly and makes a value converted away and back the same number
_DECIMALS = 9


def normalise(unit: str) -> str:
    """The form two spellings of one unit share: ``"µmol/l"`` and ``"umol/L"`` -> ``"umol/l"``."""
    return unit.strip().translate(_MICRO).casefold()


class Unit(NamedTuple):
    """An accepted unit of an analyte: its spelling in content/ and the factor to canonical."""

    spelling: str
    factor: float


class Converted(NamedTuple):
    """A number result in its canonical unit, and what was recorded."""

    value: float
    ref_low: float | None
    ref_high: float | None
    #: the canonical unit (content/'s spelling)
    unit: str
    value_as_recorded: float
    #: the recorded unit in content/'s spelling (the canonical one when none was given)
    unit_as_recorded: str


def find_unit(analyte: "Analyte", unit: str | None) -> Unit | None:
    """The accepted unit ``unit`` names for ``analyte``; None: not accepted. No unit: the canonical one."""
    if unit is None:
        return Unit(analyte.unit, 1.0)
    if not isinstance(unit, str):
        return None
    return analyte.unit_index.get(normalise(unit))


def to_canonical(value: float, factor: float) -> float:
    """``value`` in a unit with ``factor`` -> the canonical unit."""
    return value if factor == 1 else round(value * factor, _DECIMALS)


def from_canonical(value: float, factor: float) -> float:
    """A canonical ``value`` -> the unit with ``factor`` (for display and for tests).

    Not rounded: ``to_canonical(from_canonical(v, f), f) == v`` for the few
    decimals lab values carry."""
    return value if factor == 1 else value / factor


def accepted_units(analyte: "Analyte") -> tuple[str, ...]:
    """Every unit ``analyte`` accepts, canonical first, in content/'s spelling."""
    return tuple(spelling for spelling, _ in analyte.units)


def convert(analyte: "Analyte", value: float, unit: Any, ref_low: float | None = None,
            ref_high: float | None = None, field: str = "lab") -> Converted:
    """A number result of ``analyte`` in its canonical unit, checked.

    ``unit`` None means the canonical unit. Raises InputError on
    ``{field}.unit`` for a unit the analyte does not accept, on
    ``{field}.value`` (or ``.ref_low``/``.ref_high``) for a number outside
    the plausible range once converted.
    """
    found = find_unit(analyte, unit)
    if found is None:
        shown = unit if isinstance(unit, str) else repr(unit)
        raise InputError(f"{field}.unit",
                         f"{shown!r} is not a unit of {analyte.code} results (use one of "
                         f"{', '.join(accepted_units(analyte))}); check the value and its unit",
                         "bad_unit", {"analyte": analyte.code, "unit": shown,
                                      "units": ", ".join(accepted_units(analyte))})
    canonical = to_canonical(value, found.factor)
    low = None if ref_low is None else to_canonical(ref_low, found.factor)
    high = None if ref_high is None else to_canonical(ref_high, found.factor)
    if analyte.plausible is not None:
        least, most = analyte.plausible
        for name, number, recorded in (("value", canonical, value), ("ref_low", low, ref_low),
                                       ("ref_high", high, ref_high)):
            if number is not None and not least <= number <= most:
                raise InputError(
                    f"{field}.{name}",
                    f"{recorded:g} {found.spelling} is not a plausible {analyte.code} "
                    f"{'result' if name == 'value' else 'reference limit'} (expected {least:g} to {most:g} "
                    f"{analyte.unit}); check the value and its unit",
                    "implausible_value" if name == "value" else "implausible_limit",
                    {"analyte": analyte.code, "value": recorded, "unit": found.spelling, "low": least,
                     "high": most, "canonical_unit": analyte.unit})
    return Converted(canonical, low, high, analyte.unit, value, found.spelling)
