"""GET /api/v1/protocol: the protocol sheet for the care team, in each format.

Who may call it is in test_authorization.py's table; here: the formats, the
language, the printable page's own Content-Security-Policy, and that it is the
very sheet ``alemtrack protocol`` prints.
"""

from __future__ import annotations

import base64
import hashlib
import re

import pytest

from server.engine.sheet import HTML_STYLE, build_sheet, render, sheet_to_json


def test_json_is_the_sheet_of_the_apps_content(app, client_for):
    response = client_for("nurse").get("/api/v1/protocol?language=de")
    assert response.status_code == 200 and response.mimetype == "application/json"
    assert response.json == sheet_to_json(build_sheet(app.extensions["alemtrack_content"], "de"))
    assert response.headers["Cache-Control"] == "no-store"


def test_html_is_the_printable_sheet_with_only_its_own_style_allowed(app, client_for):
    response = client_for("admin").get("/api/v1/protocol?language=it&format=html")
    assert response.status_code == 200 and response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    assert page == render(build_sheet(app.extensions["alemtrack_content"], "it"), "html")
    assert '<html lang="it">' in page
    policy = response.headers["Content-Security-Policy"]
    digest = base64.b64encode(hashlib.sha256(HTML_STYLE.encode()).digest()).decode()
    assert f"style-src 'sha256-{digest}'" in policy and "default-src 'none'" in policy
    assert "script-src" not in policy  # default-src 'none': no script at all
    assert f"<style>{HTML_STYLE}</style>" in page  # the hashed style is exactly the page's


def test_markdown(client_for):
    response = client_for("nurse").get("/api/v1/protocol?format=markdown&language=es")
    assert response.status_code == 200 and response.mimetype == "text/markdown"
    assert response.get_data(as_text=True).startswith("# Hoja del protocolo")


@pytest.mark.parametrize(("query", "field"), [("language=fr", "language"), ("format=pdf", "format")])
def test_unknown_language_or_format_is_a_400_naming_it(client_for, query, field):
    response = client_for("nurse").get(f"/api/v1/protocol?{query}")
    assert response.status_code == 400
    assert re.search(field, response.get_data(as_text=True))
