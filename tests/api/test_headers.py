"""Transport and page headers (issue 13 point 9), and the SQLite files' modes.

HSTS outside development; a Content-Security-Policy on every answer, the
app shell's page and the API's documentation page included, which allows no
inline script or style except the documentation page's one style, by its
hash; ``init-db`` makes the SQLite database, its WAL and its SHM readable by
their owner only (0600), its folder 0700.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
import stat

import pytest

from server import create_app

from ..conftest import TEST_CONFIG

HSTS = "max-age=31536000; includeSubDomains"
#: every page a browser opens: the app shell (/ and its file), the API's documentation
PAGES = ["/", "/index.html", "/api/v1/docs"]


def directives(policy: str) -> dict[str, list[str]]:
    out = {}
    for part in policy.split(";"):
        name, *values = part.split()
        out[name] = values
    return out


@pytest.mark.parametrize("path", PAGES + ["/sw.js", "/api/v1/auth/csrf", "/api/v1/no-such-thing"])
def test_hsts_outside_development(app, path):
    assert app.config["ENV_NAME"] != "development"
    response = app.test_client().get(path)
    assert response.status_code in (200, 404)
    assert response.headers["Strict-Transport-Security"] == HSTS


def test_no_hsts_in_development(app):
    development = create_app({"DATABASE_URL": app.config["DATABASE_URL"]}, environ={"ALEMTRACK_ENV": "development"})
    for path in ("/", "/api/v1/docs"):
        response = development.test_client().get(path)
        assert response.status_code == 200
        assert "Strict-Transport-Security" not in response.headers


@pytest.mark.parametrize("path", PAGES)
def test_every_page_has_a_policy_without_inline_code(app, path):
    response = app.test_client().get(path)
    assert response.status_code == 200 and response.mimetype == "text/html"
    policy = directives(response.headers["Content-Security-Policy"])
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["base-uri"] == ["'none'"]
    for name in ("default-src", "script-src", "style-src"):
        assert not {"'unsafe-inline'", "'unsafe-eval'", "*", "data:", "http:", "https:"} & set(policy.get(name, []))
    script = policy.get("script-src", policy["default-src"])
    assert script in (["'self'"], ["'none'"])


def test_the_documentation_page_runs_no_script_and_allows_only_its_own_style(app):
    response = app.test_client().get("/api/v1/docs")
    page = response.get_data(as_text=True)
    policy = directives(response.headers["Content-Security-Policy"])
    assert policy["default-src"] == ["'none'"] and "script-src" not in policy
    assert "<script" not in page
    styles = re.findall(r"<style>(.*?)</style>", page, re.S)
    assert len(styles) == 1
    digest = base64.b64encode(hashlib.sha256(styles[0].encode()).digest()).decode()
    assert policy["style-src"] == [f"'sha256-{digest}'"]
    assert " style=" not in page  # an inline style attribute would be refused


def test_the_service_worker_and_the_api_have_the_policy_too(app):
    client = app.test_client()
    for path in ("/sw.js", "/js/app.js", "/api/v1/auth/csrf", "/api/v1/no-such-thing"):
        assert "frame-ancestors 'none'" in client.get(path).headers["Content-Security-Policy"], path


# --- the SQLite files ----------------------------------------------------------------------


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.fixture
def open_umask():
    """The usual umask (files 0644), so that only init-db's own care makes them private."""
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def sqlite_app(folder):
    url = f"sqlite:///{folder / 'alemtrack.sqlite'}"
    return create_app({**TEST_CONFIG, "DATABASE_URL": url, "INSTANCE_DIR": str(folder)})


def init_db(app):
    """``flask --app server init-db`` (FlaskGroup runs commands in the app's context)."""
    with app.app_context():
        result = app.test_cli_runner().invoke(args=["init-db"])
    assert result.exit_code == 0, result.output


def test_init_db_makes_the_database_its_wal_and_shm_private(tmp_path, open_umask):
    from server.db import database

    folder = tmp_path / "instance"
    app = sqlite_app(folder)
    init_db(app)
    assert mode(folder) == 0o700
    assert mode(folder / "alemtrack.sqlite") == 0o600

    # A server process opening the database later (umask 022 still): SQLite makes the
    # WAL and SHM again, with the database file's mode.
    database(app).engine.dispose()  # the last connection closed: SQLite removed them
    for name in ("alemtrack.sqlite-wal", "alemtrack.sqlite-shm"):
        if (folder / name).exists():
            (folder / name).unlink()
    engine = database(sqlite_app(folder)).engine
    with engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE probe (x INTEGER)")
        connection.exec_driver_sql("INSERT INTO probe VALUES (1)")
        for name in ("alemtrack.sqlite-wal", "alemtrack.sqlite-shm"):
            assert (folder / name).exists(), name
            assert mode(folder / name) == 0o600, name
    engine.dispose()


def test_init_db_makes_an_existing_database_private(tmp_path, open_umask):
    folder = tmp_path / "instance"
    folder.mkdir()
    first = sqlite_app(folder)
    from server.db import database
    from server.migrations import upgrade

    upgrade(database(first).engine)
    database(first).engine.dispose()
    for name in ("alemtrack.sqlite", "alemtrack.sqlite-wal", "alemtrack.sqlite-shm"):
        if (folder / name).exists():
            os.chmod(folder / name, 0o644)  # as a database made by an older version
    assert mode(folder / "alemtrack.sqlite") == 0o644

    init_db(sqlite_app(folder))
    for name in ("alemtrack.sqlite", "alemtrack.sqlite-wal", "alemtrack.sqlite-shm"):
        if (folder / name).exists():
            assert mode(folder / name) == 0o600, name
