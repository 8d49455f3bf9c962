"""End-to-end tests: the real server (a thread on 127.0.0.1 with a SQLite file and
the demo clinic) and Debian's Chromium driven by Playwright.

Chromium comes from the Debian package (``make test`` installs it when
missing); Playwright never downloads a browser here.
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

SCREENSHOTS = Path(__file__).resolve().parent / "screenshots"
CHROMIUM = os.environ.get("ALEMTRACK_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
PASSWORD = "alemtrack-demo"


#: patients of the demo's second clinic ("Other Hospital"), whose queue is otherwise empty
#: (the last three for tests/e2e/test_logout.py, whose logouts end every session of theirs)
E2E_PATIENTS = ("flow", "offline", "logout", "elsewhere", "fresh", "labs")


def make_e2e_patients(session, config) -> None:
    """Two patients of the second clinic, mid-monitoring, with no checklist this month."""
    from datetime import timedelta

    from sqlalchemy import select

    from server.engine.dates import add_months
    from server.models import Clinic, User
    from server.services import accounts, patients
    from server.timeutil import local_today, utcnow

    now = utcnow()
    clinic = session.scalar(select(Clinic).where(Clinic.name == "Other Hospital"))
    nurse = session.scalar(select(User).where(User.email == "nurse@other.demo.alemtrack.test"))
    for name in E2E_PATIENTS:
        patient, _, _ = patients.create_patient(session, clinic, {
            "display_name": name.title(), "sex": "female", "childbearing_potential": False, "breastfeeding": False,
            "timezone": "Europe/Madrid", "language": "en", "baseline": {"platelets": 250}}, nurse, now, config)
        first = add_months(local_today("Europe/Madrid", now), -14) - timedelta(days=3)
        patients.add_course(patient, [first + timedelta(days=i) for i in range(5)], "given", nurse, now)
        session.add(User(email=f"{name}@e2e.test", role="patient", clinic_id=clinic.id, patient_id=patient.id,
                         password_hash=accounts.hasher(config).hash(PASSWORD)))
    session.flush()


class LiveServer:
    """The app served on a fixed port; ``stop()``/``start()`` take it off and on the network."""

    def __init__(self, app):
        self.app = app
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        self.server = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.server = make_server("127.0.0.1", self.port, self.app, threaded=True)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="session")
def live(tmp_path_factory):
    from server import create_app
    from server.clock.push import generate_keys
    from server.db import database, make_engine
    from server.migrations import upgrade
    from server.services.demo import seed

    folder = tmp_path_factory.mktemp("e2e")
    url = f"sqlite:///{folder / 'e2e.sqlite'}"
    upgrade(make_engine(url))
    generate_keys(folder)
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "e2e", "SESSION_COOKIE_SECURE": False,
                      "INSTANCE_DIR": str(folder), "ARGON2_TIME_COST": 1, "ARGON2_MEMORY_KIB": 1024,
                      "LOGIN_MAX_PER_ADDRESS": 1000})
    with app.app_context():
        session = database(app).sessions()
        seed(session, app.config)
        make_e2e_patients(session, app.config)
        session.commit()
        session.close()
    server = LiveServer(app)
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    assert Path(CHROMIUM).exists(), f"Chromium not found at {CHROMIUM}: make test installs Debian's chromium"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-sync",
                  "--disable-background-networking", "--disable-component-update"])
        yield browser
        browser.close()


@pytest.fixture
def context(browser, live):
    context = browser.new_context(base_url=live.url, viewport={"width": 390, "height": 844},
                                  service_workers="allow")
    context.grant_permissions(["notifications"], origin=live.url)
    yield context
    context.close()


def login(page, email: str) -> None:
    page.goto("/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_selector("nav a[href='#/logout']")


def screenshot(page, name: str) -> None:
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
