"""The lab import's refused rows in the nurse's language (a Spanish nurse): each row says
where it is wrong (the part and her own column's name) and what to do, from the server's
reason_code, not its English reason.

Screenshots (tests/e2e/screenshots/): the Spanish preview at 1280 px and at 390 px.
"""

from __future__ import annotations

from datetime import date, timedelta

from .conftest import PASSWORD, screenshot

NUMBER = "E2E-WORDS-1"


def _patient_with_hospital_number(live) -> None:
    """A patient of the second clinic with a hospital number (written once per session)."""
    from sqlalchemy import select

    from server.db import database
    from server.models import Clinic, Patient, User
    from server.services import patients
    from server.timeutil import utcnow

    with live.app.app_context():
        session = database(live.app).sessions()
        try:
            if session.scalar(select(Patient).where(Patient.hospital_number == NUMBER)) is None:
                clinic = session.scalar(select(Clinic).where(Clinic.name == "Other Hospital"))
                nurse = session.scalar(select(User).where(User.email == "nurse@other.demo.alemtrack.test"))
                patients.create_patient(session, clinic, {
                    "display_name": "Words", "sex": "female", "childbearing_potential": False,
                    "breastfeeding": False, "timezone": "Europe/Madrid", "language": "es",
                    "hospital_number": NUMBER}, nurse, utcnow(), live.app.config)
                session.commit()
        finally:
            session.close()


def test_a_spanish_nurse_reads_why_a_row_is_refused_in_spanish(browser, live):
    _patient_with_hospital_number(live)
    context = browser.new_context(base_url=live.url, viewport={"width": 1280, "height": 900},
                                  locale="es-ES", timezone_id="Europe/Madrid")
    page = context.new_page()
    try:
        page.goto("/")
        page.locator("#email").fill("nurse@other.demo.alemtrack.test")
        page.locator("#password").fill(PASSWORD)
        page.locator("button[type='submit']").click()
        page.wait_for_selector("nav a[href='#/logout']")
        page.locator("#main h1").wait_for()
        page.locator("nav a[href='#/import']").click()
        day = (date.today() - timedelta(days=2)).isoformat()
        text = (f"NHC;Prueba;Resultado;Unidad;Fecha\n{NUMBER};platelets;250;10^9/L;{day}\n"
                f"NOPE-1;777-3;200;10^9/L;{day}\n{NUMBER};platelets;90000;10^9/L;{day}\n"
                f"{NUMBER};creatinine;1,1;furlongs;{day}\n")
        page.locator("#csv-text").fill(text)
        page.locator("#read-columns").click()
        page.locator("#map-hospital_number").wait_for()
        page.locator("#preview").click()
        table = page.locator("table.import-table")
        table.wait_for()
        rows = table.locator("tbody tr")
        assert rows.count() == 4
        unknown = rows.nth(0)  # refused rows first, in file order: row 3 is NOPE-1
        assert "NOPE-1" in unknown.inner_text()
        assert unknown.locator(".refusal-where").inner_text() == "Número de historia (columna «NHC»)"
        assert unknown.locator(".refusal-why").inner_text() == (
            "Ningún paciente de esta clínica tiene este número de historia: compruebe el número o dé de alta "
            "al paciente primero.")
        implausible = rows.nth(1).locator(".refusal-why").inner_text()
        assert implausible.startswith("90.000 10⁹/L no es un resultado de Plaquetas posible"), implausible
        assert "compruebe el valor y su unidad" in implausible
        unit = rows.nth(2).locator(".refusal-why").inner_text()
        assert unit.startswith("«furlongs» no es una unidad de Creatinina"), unit
        assert "no patient" not in table.inner_text() and "is not" not in table.inner_text()  # no English left
        assert "por guardar" in rows.nth(3).inner_text()
        screenshot(page, "es-import-refusals-1280")
        page.set_viewport_size({"width": 390, "height": 844})
        table.locator("tbody tr").first.wait_for()
        screenshot(page, "es-import-refusals-390")
    finally:
        context.close()
