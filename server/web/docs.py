"""A human-readable API page, rendered on the server from the OpenAPI document.

It needs no script from a CDN, so it works on a closed network.
"""

from __future__ import annotations

import base64
import hashlib

from apiflask import APIBlueprint
from flask import current_app, render_template_string

docs_bp = APIBlueprint("docs", __name__, enable_openapi=False)

#: the page's only style, inline: allowed by its hash, so nothing injected into the
#: page could style or script it
STYLE = """
body{font:16px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#1a1a1a}
code{background:#f2f2f2;padding:.1rem .3rem;border-radius:3px}
table{border-collapse:collapse;width:100%}
td,th{text-align:left;padding:.4rem;border-bottom:1px solid #ddd;vertical-align:top}
.m{font-weight:700;font-family:monospace}
"""
#: no script at all, the style above, and the links of the page itself
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; style-src 'sha256-" + base64.b64encode(hashlib.sha256(STYLE.encode()).digest()).decode()
    + "'; img-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
)

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ spec.info.title }}</title>
<style>""" + STYLE + """</style></head><body>
<h1>{{ spec.info.title }} (version {{ spec.info.version }})</h1>
<p>{{ spec.info.description }}</p>
<p>Machine-readable: <a href="{{ url_for('openapi.spec') }}"><code>/api/v1/openapi.json</code></a>.
Every error is <code>{"error": {"code", "message", "field"}}</code>.</p>
<table><thead><tr><th>Method and path</th><th>What it does</th><th>Answers</th></tr></thead><tbody>
{% for path, ops in spec.paths.items() %}{% for method, op in ops.items() %}
<tr><td><span class="m">{{ method|upper }}</span> <code>{{ path }}</code></td><td>{{ op.summary }}</td>
<td>{{ op.responses.keys()|join(', ') }}</td></tr>
{% endfor %}{% endfor %}
</tbody></table></body></html>"""


@docs_bp.get("/api/v1/docs")
def api_page():
    page = render_template_string(PAGE, spec=current_app.spec)
    return page, 200, {"Content-Security-Policy": CONTENT_SECURITY_POLICY}
