"""The app on a phone: what the first and a repeat load cost, and Lighthouse's view.

    .venv/bin/python bench/pwa.py [--no-lighthouse]

Starts the app (demo clinic, SQLite) on 127.0.0.1, loads the login screen in
Debian's Chromium with mobile emulation (Playwright), and prints the transfer
size (compressed, as sent on the wire) and the request count of the first
load and of a repeat load (the service worker answers it). Then runs
Lighthouse (npm package, fetched by npx into a cache on first use) against the
same server with Debian's Chromium and prints its performance and
accessibility scores (mobile emulation, Lighthouse's default) for the login
page and, logged in as a patient (her session cookie sent with every
request), for Today, the monthly checklist and the lab results.

Targets (issues 5 and 16): first load under 100 KB compressed; the repeat
load served by the service worker; performance at least 95; accessibility 100.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


def start_server(folder: Path):
    from server import create_app
    from server.db import database, make_engine
    from server.migrations import upgrade
    from server.services.demo import seed
    from tests.e2e.conftest import LiveServer, make_e2e_patients  # the same server the browser tests use

    url = f"sqlite:///{folder / 'pwa.sqlite'}"
    upgrade(make_engine(url))
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench", "SESSION_COOKIE_SECURE": False,
                      "INSTANCE_DIR": str(folder)})
    with app.app_context():
        session = database(app).sessions()
        seed(session, app.config)
        make_e2e_patients(session, app.config)
        session.commit()
        session.close()
    server = LiveServer(app)
    server.start()
    return server


def measure_loads(base: str) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                             args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                                                   "--disable-component-update", "--no-first-run"])
        device = playwright.devices["Pixel 5"]
        context = browser.new_context(**device, base_url=base, service_workers="allow")
        page = context.new_page()
        cdp = context.new_cdp_session(page)
        cdp.send("Network.enable")
        loads: dict[str, dict] = {}
        current = {"name": None}

        def finished(event):
            loads[current["name"]]["bytes"] += event["encodedDataLength"]
            loads[current["name"]]["requests"] += 1

        def served(event):
            if event["response"].get("fromServiceWorker"):
                loads[current["name"]]["from_worker"] += 1

        cdp.on("Network.loadingFinished", finished)
        cdp.on("Network.responseReceived", served)
        for name in ("first load", "repeat load"):
            current["name"] = name
            loads[name] = {"bytes": 0, "requests": 0, "from_worker": 0}
            if name == "first load":
                page.goto("/", wait_until="networkidle")
                page.evaluate("navigator.serviceWorker.ready")
                page.wait_for_timeout(1500)  # the worker's precache, counted apart below
                shell = loads[name].copy()
                loads[name] = {"bytes": 0, "requests": 0, "from_worker": 0}
                current["name"] = "precache"
                loads["precache"] = {"bytes": 0, "requests": 0, "from_worker": 0}
                loads["first load"] = shell
            else:
                page.reload(wait_until="networkidle")
        browser.close()
    for name in ("first load", "repeat load"):
        figures = loads[name]
        print(f"{name:<12} {figures['bytes'] / 1024:7.1f} KB on the wire, {figures['requests']:3d} requests, "
              f"{figures['from_worker']:3d} answered by the service worker")
    print("target: first load < 100 KB compressed; repeat load from the service worker")


#: the patient the logged-in pages are measured as (tests/e2e/conftest.make_e2e_patients)
PATIENT = "fresh@e2e.test"
#: the screens Lighthouse measures: (name, hash, logged in)
PAGES = [("login", "", False), ("today", "#/", True), ("checklist", "#/checklist", True), ("labs", "#/labs", True)]


def session_cookie(base: str, email: str) -> str:
    """Log in through the API as the app does; the session cookie as a Cookie header value."""
    from http.cookiejar import CookieJar
    from urllib.request import HTTPCookieProcessor, Request, build_opener

    from tests.e2e.conftest import PASSWORD

    jar = CookieJar()
    opener = build_opener(HTTPCookieProcessor(jar))
    token = json.loads(opener.open(f"{base}/api/v1/auth/csrf").read())["csrf_token"]
    login = Request(f"{base}/api/v1/auth/login", method="POST", data=json.dumps({"email": email, "password": PASSWORD})
                    .encode(), headers={"Content-Type": "application/json", "X-CSRF-Token": token})
    opener.open(login).read()
    return "; ".join(f"{cookie.name}={cookie.value}" for cookie in jar)


def lighthouse(base: str) -> None:
    npx = shutil.which("npx")
    if npx is None:
        print("lighthouse: npx not found (install Node.js)")
        return
    cookie = session_cookie(base, PATIENT)
    env = {**os.environ, "CHROME_PATH": CHROMIUM}
    for name, target, logged_in in PAGES:
        out = Path(tempfile.mkdtemp()) / "report.json"
        command = [npx, "--yes", "lighthouse@12", f"{base}/{target}", "--quiet", "--output=json",
                   f"--output-path={out}", "--only-categories=performance,accessibility",
                   "--chrome-flags=--headless=new --no-sandbox --disable-gpu --disable-background-networking "
                   "--disable-component-update --no-first-run"]
        if logged_in:
            command.append("--extra-headers=" + json.dumps({"Cookie": cookie}))
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
        if done.returncode != 0 or not out.exists():
            print(f"lighthouse {name} failed ({done.returncode}): {done.stderr.strip()[-800:]}")
            continue
        report = json.loads(out.read_text())
        scores = {key: round(category["score"] * 100) for key, category in report["categories"].items()}
        audits = report["audits"]
        failing = [key for key, audit in audits.items()
                   if audit.get("score") is not None and audit["score"] < 1
                   and key in {ref["id"] for ref in report["categories"]["accessibility"]["auditRefs"]}]
        # A logged-in page proves it: its own reads answered 200, not a login screen.
        me = [r["statusCode"] for r in audits["network-requests"]["details"]["items"]
              if r["url"].endswith("/api/v1/me")]
        session = "logged in" if me and me[-1] == 200 else "not logged in"
        if logged_in and session != "logged in":
            print(f"lighthouse {name}: the session did not reach the page (/api/v1/me answered {me})")
        print(f"lighthouse {name:<9} ({session}, mobile): performance {scores.get('performance')}, "
              f"accessibility {scores.get('accessibility')} (targets 95 and 100); "
              f"FCP {audits['first-contentful-paint']['displayValue']}, "
              f"LCP {audits['largest-contentful-paint']['displayValue']}, "
              f"TBT {audits['total-blocking-time']['displayValue']}"
              + (f"; accessibility audits below 1: {failing}" if failing else ""))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-lighthouse", action="store_true")
    args = parser.parse_args()
    import logging
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    folder = Path(tempfile.mkdtemp(prefix="alemtrack-pwa-"))
    server = start_server(folder)
    try:
        measure_loads(server.url)
        if not args.no_lighthouse:
            lighthouse(server.url)
    finally:
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
