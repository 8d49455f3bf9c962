"""How a patient fills in the monthly checklist in the browser (issue 16 point 3):
every question answered (none is pre-selected), the review step, then send."""

from __future__ import annotations

REVIEW = {"en": "Review my answers", "es": "Revisar mis respuestas", "de": "Antworten prüfen",
          "it": "Rivedi le risposte"}
SEND = {"en": "Send to my MS team", "es": "Enviar a mi equipo de EM", "de": "An mein MS-Team senden",
        "it": "Invia al mio team SM"}


def answer_all(page, yes: set[str] = frozenset()) -> None:
    """Answer every question on the checklist screen: yes to ``yes``, no to the rest."""
    page.wait_for_selector("fieldset")
    codes = page.locator("fieldset input[value='no']").evaluate_all("els => els.map(e => e.name)")
    for code in codes:
        page.locator(f"input[name='{code}'][value='{'yes' if code in yes else 'no'}']").check()


def review_and_send(page, language: str = "en") -> None:
    page.get_by_role("button", name=REVIEW[language]).click()
    page.get_by_role("button", name=SEND[language]).click()


def send_checklist(page, yes: set[str] = frozenset(), note: str | None = None, language: str = "en") -> None:
    page.goto("/#/checklist")
    answer_all(page, yes)
    if note:
        page.locator("#note").fill(note)
    review_and_send(page, language)
