from __future__ import annotations

from apiflask import Schema
from apiflask.fields import Dict, String
from apiflask.validators import OneOf
from flask import jsonify

from ..engine.content.model import LANGUAGES
from ..engine.units import accepted_units
from . import bp, content


class TextsQuery(Schema):
    lang = String(load_default="en", validate=OneOf(LANGUAGES))


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


def _plain(node):
    """Frozen content texts as plain JSON (an item's word variants are nested tables)."""
    return {key: _plain(value) for key, value in node.items()} if hasattr(node, "items") else node


@bp.get("/content/texts")
@bp.input(TextsQuery, location="query", arg_name="query")
@bp.output(TextsOut)
@bp.doc(summary="The clinical texts of content/ in one language, with the analytes' units (canonical and accepted) and "
                "default ranges "
                "(public: no patient data)", responses=[400])
def texts(query):
    c = content()
    language = query["lang"]
    t = c.texts[language]
    analytes = {
        code: {"name": t["analytes"][code], "kind": a.kind, "unit": a.unit, "low": a.low, "high": a.high,
               "units": list(accepted_units(a))}  # canonical first (CLINICAL.md 4.1)
        for code, a in c.analytes.items()
    }
    body = {
        "language": language,
        "items": {code: _plain(t["items"][code]) for code in c.item_codes},
        "levels": {level: dict(t["levels"][level]) for level in c.levels},
        "kinds": dict(t["kinds"]),
        "groups": dict(t["groups"]),
        "analytes": analytes,
        "rules": {rule.code: dict(t["rules"][rule.code]) for rule in c.rules},
        "warnings": {warning.code: dict(t["warnings"][warning.code]) for warning in c.warnings},
    }
    response = jsonify(body)
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response
