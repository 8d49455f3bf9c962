"""GET /content/texts: the clinical texts of content/ in one language, for the app (public)."""

from __future__ import annotations

from ..engine.units import accepted_units
from . import bp, content
from .schemas import TextsOut, TextsQuery


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
    c = content().of(query["protocol"])
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
        # The care team reads the reasons of a flag in words (issue 17): each question's text and signs.
        "questions": {code: {"text": t["questions"][code]["text"], "signs": list(t["questions"][code].get("signs", ()))}
                      for code in c.question_codes},
    }
    return body, 200, {"Cache-Control": "public, max-age=3600"}
