"""The protocol sheet (server/engine/sheet.py, ``alemtrack protocol``).

It is generated from the Content the engine computes with, so the two cannot
disagree: changing one number in a copy of content/ changes both the engine's
answer and the sheet's words. Also: the words for each shape of offset and
cadence, each format, each language, and the command line's exit codes.
"""

from __future__ import annotations

import dataclasses
import json
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import pytest

from server.engine.content.loading import DEFAULT_CONTENT_DIR, load_content
from server.engine.content.model import LANGUAGES, ClosedBy, Offset
from server.engine.documents import timeline_document
from server.engine.errors import ContentError
from server.engine.sheet import (
    FORMATS,
    SECTIONS,
    SHEET_LABELS,
    _Words,
    build_sheet,
    content_version,
    item_timing,
    render,
    sheet_to_json,
)
from tests.unit.content_files import locate

from .test_cli import alemtrack, assert_bad_input

COURSE_1 = ["2026-01-05", "2026-01-06", "2026-01-07", "2026-01-08", "2026-01-09"]


@pytest.fixture
def content_copy(tmp_path):
    """A copy of content/ and a function that edits one file of it (exactly one match)."""
    root = tmp_path / "content"
    shutil.copytree(DEFAULT_CONTENT_DIR, root)

    def edit(name: str, old: str, new: str) -> Path:
        path = locate(root, name, old)
        text = path.read_text(encoding="utf-8")
        assert text.count(old) == 1, f"{old!r} must occur once in {name}"
        path.write_text(text.replace(old, new), encoding="utf-8")
        return root

    return edit


def row(sheet_json: dict, section: str, key: str, value: str) -> dict:
    rows = next(s for s in sheet_json["sections"] if s["key"] == section)["rows"]
    return next(r for r in rows if r["cells"].get(key) == value)


def words(cell) -> str:
    return " ".join(cell) if isinstance(cell, list) else cell


# --- the sheet and the engine cannot disagree ----------------------------------------------------


def test_a_changed_listeria_window_changes_both_the_timeline_and_the_sheet(content, content_copy):
    changed = load_content(content_copy("protocol.toml", "start = { from = \"first\", days = -14 }",
                                        "start = { from = \"first\", days = -21 }"))
    doc = {"courses": [{"infusions": COURSE_1}]}
    listeria = [i for i in timeline_document(doc, changed)["items"] if i["code"] == "diet.listeria"]
    assert listeria[0]["start"] == "2025-12-15"  # 2026-01-05 - 21 days
    before = [i for i in timeline_document(doc, content)["items"] if i["code"] == "diet.listeria"]
    assert before[0]["start"] == "2025-12-22"  # 2026-01-05 - 14 days

    old = words(row(sheet_to_json(build_sheet(content, "en")), "items", "code", "diet.listeria")["cells"]["timing"])
    new_row = row(sheet_to_json(build_sheet(changed, "en")), "items", "code", "diet.listeria")
    assert "from 14 days before the first infusion" in old
    assert "from 21 days before the first infusion" in words(new_row["cells"]["timing"])
    assert new_row["data"]["start"] == {"anchor": "first", "days": -21, "months": 0, "closed_by": None,
                                        "months_by": None, "weeks_by": None}
    # The sheet names exactly what it approved: another rule, another version.
    assert content_version(changed) != content_version(content)


def test_a_changed_platelet_threshold_changes_both_the_flags_and_the_sheet(content, content_copy):
    changed = load_content(content_copy("labs.toml", 'when = [{ level = "urgent", below = 100 }]',
                                        'when = [{ level = "urgent", below = 80 }]'))
    doc = {"courses": [{"infusions": COURSE_1}], "labs": [{"analyte": "platelets", "value": 90,
                                                          "taken_on": "2026-03-02"}]}
    rules_before = {f["rule"] for f in timeline_document(doc, content)["flags"]}
    rules_after = {f["rule"] for f in timeline_document(doc, changed)["flags"]}
    assert rules_before == {"platelets.low"}
    assert rules_after == {"platelets.falling"}  # 90 is no longer below the urgent threshold

    def conditions(c):
        return words(row(sheet_to_json(build_sheet(c, "en")), "lab_rules", "code", "platelets.low")
                     ["cells"]["conditions"])

    assert conditions(content) == "Urgent: Platelets below 100 10^9/L"
    assert conditions(changed) == "Urgent: Platelets below 80 10^9/L"


def test_every_code_of_content_is_on_the_sheet(content):
    sheet = sheet_to_json(build_sheet(content, "en"))
    sections = {s["key"]: s for s in sheet["sections"]}

    def column(section: str, key: str) -> list:
        return [r["cells"][key] for r in sections[section]["rows"]]

    assert column("items", "code") == list(content.item_codes)
    assert column("questions", "code") == list(content.question_codes)
    assert column("lab_rules", "code") == [rule.code for rule in content.rules]
    assert column("analytes", "code") == list(content.analytes)
    assert column("settings", "setting") == list(content.settings)
    assert column("sources", "code") == list(content.sources)
    reminded = [code for r in sections["reminders"]["rows"] for code in r["cells"]["items"]]
    assert set(reminded) == set(content.reminders)
    group_rules = [r["data"]["group_rule"] for r in sections["checklist_rules"]["rows"] if "group_rule" in r["data"]]
    assert len(group_rules) == len(content.group_rules)


def test_the_version_is_a_stable_fingerprint_of_the_content(content):
    assert content_version(content) == content_version(load_content())
    assert re.fullmatch(r"[0-9a-f]{64}", content_version(content))


# --- words for each shape -------------------------------------------------------------------------


def timing(content, code: str, **changes) -> str:
    item = next(i for i in content.items if i.code == code)
    return " ".join(item_timing(_Words(content, "en"), dataclasses.replace(item, **changes)))


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        pytest.param(dict(start=Offset("first", days=-14), end=Offset("last", months=1)),
                     "For each course, from 14 days before the first infusion to 1 month after the last infusion.",
                     id="days before, months after"),
        pytest.param(dict(start=Offset("first"), end=Offset("last")),
                     "For each course, from the day of the first infusion to the day of the last infusion.",
                     id="on the anchors"),
        pytest.param(dict(start=Offset("last", days=1), end=Offset("last", days=7)),
                     "For each course, from 1 day after the last infusion to 7 days after the last infusion.",
                     id="one day, several days"),
        pytest.param(dict(start=Offset("first", months=-2), end=Offset("last", months=6, days=3)),
                     "For each course, from 2 months before the first infusion to 6 months and 3 days after the "
                     "last infusion.", id="months before, months and days after"),
        pytest.param(dict(start=Offset("first"), end=Offset("first", closed_by=ClosedBy(
                     rule=None, analyte="cd4", at_least=200.0, combine="result", strictly_after=False))),
                     "For each course, from the day of the first infusion to the first CD4 cells result of at "
                     "least 200 cells/uL taken on or after the day of the first infusion, open (no end date) until "
                     "there is such a result.", id="closed by a result"),
        pytest.param(dict(start=Offset("last"), end=Offset("last", months=6, closed_by=ClosedBy(
                     rule="cd4.recovered", analyte=None, at_least=None, combine="later", strictly_after=True))),
                     "For each course, from the day of the last infusion to the later of 6 months after the last "
                     "infusion and the first result that fires cd4.recovered (CD4 cells above 200 cells/uL) taken "
                     "after the day of the last infusion, open (no end date) until there is such a result.",
                     id="the later of an offset and a rule"),
    ],
)
def test_window_words(content, changes, expected):
    assert timing(content, "diet.listeria", **changes) == expected


def test_one_day_item_words(content):
    assert timing(content, "appt.post_course_review") == "For each course, 28 days after the last infusion."


def test_an_end_chosen_by_a_setting_lists_every_choice(content):
    said = timing(content, "med.aciclovir")
    setting = content.settings["aciclovir_duration"]
    assert "the end that site setting aciclovir_duration chooses" in said
    for choice in setting.choices:
        assert f"“{choice}”:" in said


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("lab.creatinine", "Every month from the first infusion of the first course (first due 1 month after it) "
                           "until 48 months after the last infusion of the last course."),
        ("lab.tsh", "Every 3 months from the first infusion of the first course (first due 3 months after it) "
                    "until 48 months after the last infusion of the last course. Every month while pregnant"),
        ("imaging.mri", "Every 12 months from the first infusion"),
        ("lab.cbc", "Weekly while a weekly blood-count series runs"),
        ("checklist.monthly", "It can be answered from 7 days before its due date; not done 7 days after it"),
        ("vaccine.flu", "Every year from 1 October to 31 December, starting no earlier than 6 months after the "
                        "last infusion before the season ends"),
    ],
)
def test_cadence_and_season_words(content, code, expected):
    assert expected in timing(content, code)


def test_monitoring_length_comes_from_content(content):
    longer = dataclasses.replace(content, monitoring_months=60)
    assert "until 60 months after the last infusion" in timing(longer, "lab.creatinine")


def test_a_timing_shape_without_words_fails_rather_than_saying_less(content):
    item = next(i for i in content.items if i.code == "diet.listeria")
    with pytest.raises(ValueError, match="no words for the timing of diet.listeria"):
        item_timing(_Words(content, "en"), dataclasses.replace(item, start=None, end=None))


def test_lab_conditions_say_thresholds_ranges_baselines_and_settings(content):
    sheet = sheet_to_json(build_sheet(content, "en"))
    said = {r["cells"]["code"]: words(r["cells"]["conditions"])
            for r in next(s for s in sheet["sections"] if s["key"] == "lab_rules")["rows"]}
    assert "Soon: Platelets below the lower limit (default 150 10^9/L)" in said["platelets.falling"]
    assert "Platelets at or below 70% of the patient's baseline" in said["platelets.falling"]
    assert ("Creatinine at or above 130% (site setting creatinine_rise) of the patient's baseline"
            in said["kidney.creatinine"])
    assert "Urgent: Bilirubin above 2 × the upper limit (default 42 umol/L)" in said["liver.enzymes"]
    assert "Blood in urine positive or Protein in urine positive" in said["kidney.urinalysis"]
    assert said["cd4.recovered"] == "No flag: CD4 cells above 200 cells/uL"


# --- formats and languages ----------------------------------------------------------------------


class _Tags(HTMLParser):
    def __init__(self):
        super().__init__()
        self.open: list[str] = []
        self.seen: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.seen.append(tag)
        if tag not in ("meta", "br", "link"):
            self.open.append(tag)

    def handle_endtag(self, tag):
        assert self.open and self.open[-1] == tag, (tag, self.open[-5:])
        self.open.pop()


def test_html_is_a_complete_printable_document(content):
    sheet = build_sheet(content, "en")
    page = render(sheet, "html")
    assert page.startswith("<!doctype html>") and page.rstrip().endswith("</html>")
    parser = _Tags()
    parser.feed(page)
    assert parser.open == [], "every element is closed"
    assert "<script" not in page and "<link" not in page, "inline CSS only, nothing to fetch"
    assert "@media print" in page and "break-before: page" in page
    assert page.count("<section") == len(SECTIONS) + 1  # one page per section, then the approval page
    for label in ("Name", "Role", "Date", "Signature"):
        assert f"<span>{label}</span><span></span>" in page
    assert f"sha256:{sheet.version}" in page and sheet.version in sheet.labels["approval_text"]
    assert page.count(f"sha256:{sheet.version[:12]}") >= len(SECTIONS)  # on every printed page


def test_html_escapes_content(content):
    texts = dict(content.texts)
    en = dict(texts["en"])
    en["questions"] = {**en["questions"], "thyroid.weight": {"text": "<b>weight</b> & \"more\"", "why": "x"}}
    texts["en"] = en
    page = render(build_sheet(dataclasses.replace(content, texts=texts), "en"), "html")
    assert "&lt;b&gt;weight&lt;/b&gt; &amp; &quot;more&quot;" in page and "<b>weight" not in page


def test_markdown_has_the_same_sections_as_tables(content):
    sheet = build_sheet(content, "en")
    text = render(sheet, "markdown")
    for section in sheet.sections:
        assert f"## {section.title}" in text
        header = "| " + " | ".join(col.label for col in section.columns) + " |"
        assert header in text
    assert "| diet.listeria |" in text and "## Approval" in text and sheet.version in text
    table_rows = [line for line in text.splitlines() if line.startswith("| ") and not line.startswith("| Code |")]
    for line in table_rows:  # a pipe inside a cell would break the table
        assert line.count(" | ") >= 1


def test_json_is_the_same_data_structured(content):
    sheet = build_sheet(content, "en")
    data = json.loads(render(sheet, "json"))
    assert data["protocol"] == "ms" and data["language"] == "en" and data["content_version"] == sheet.version
    assert [s["key"] for s in data["sections"]] == [s.key for s in sheet.sections]
    item = row(data, "items", "code", "med.aciclovir")
    assert item["data"]["end_by_setting"] == "aciclovir_duration"
    assert set(item["data"]["end_options"]) == set(content.settings["aciclovir_duration"].choices)
    setting = row(data, "settings", "setting", "mri_yearly")
    assert setting["data"]["default"] is True and setting["data"]["used_by"] == ["imaging.mri"]


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("fmt", FORMATS)
def test_every_language_and_format_renders_without_a_leftover_placeholder(content, language, fmt):
    text = render(build_sheet(content, language), fmt)
    assert not re.search(r"\{[a-z_]+\}", text), re.search(r".{40}\{[a-z_]+\}.{40}", text)


@pytest.mark.parametrize("language", LANGUAGES)
def test_words_are_in_the_chosen_language(content, language):
    sheet = sheet_to_json(build_sheet(content, language))
    texts = content.texts[language]
    assert sheet["labels"]["title"] == texts["sheet"]["title"]
    question = row(sheet, "questions", "code", "bleed.mucosal")
    assert question["cells"]["question"] == texts["questions"]["bleed.mucosal"]["text"]
    item = row(sheet, "items", "code", "diet.listeria")
    assert item["cells"]["item"][0] == texts["items"]["diet.listeria"]["title"]
    assert item["cells"]["applies"] == texts["sheet"]["who"]["all"]
    headers = [c["label"] for c in sheet["sections"][0]["columns"]]
    assert headers[2] == texts["sheet"]["col_timing"]
    if language != "en":  # not English left behind
        assert item["cells"]["timing"] != row(sheet_to_json(build_sheet(content, "en")), "items", "code",
                                              "diet.listeria")["cells"]["timing"]


def test_german_numbers_use_a_decimal_comma(content):
    sheet = sheet_to_json(build_sheet(content, "de"))
    assert row(sheet, "analytes", "code", "tsh")["cells"]["range"] == "0,4–4"
    assert row(sheet, "settings", "setting", "creatinine_rise")["cells"]["default"] == "1,3"


def test_the_sheet_labels_are_exactly_the_flat_keys_of_every_language(content):
    for language in LANGUAGES:
        flat = {k for k, v in content.texts[language]["sheet"].items() if isinstance(v, str)}
        assert flat == SHEET_LABELS, language


# --- content validation of the [sheet] words -----------------------------------------------------


@pytest.mark.parametrize(
    ("name", "old", "new", "message"),
    [
        pytest.param("texts/en.toml", 'breastfeeding = "Patients who are breastfeeding"\n', "",
                     r"\[sheet.who\] has no text for breastfeeding", id="who-without-words"),
        pytest.param("texts/en.toml", 'urgent_ack_hours = "Hours after', 'urgent_ack_minutes = "Hours after',
                     r"\[sheet.settings\] has no text for urgent_ack_hours", id="setting-without-words"),
        pytest.param("texts/en.toml", 'col_title = "Title"\n', "", r"\[sheet\] has no text for col_title",
                     id="missing-label"),
        pytest.param("texts/de.toml", 'col_title = "Titel"\n', "", "de.toml: missing translation for sheet.col_title",
                     id="missing-translation"),
        pytest.param("labs.toml", 'follow_up = "hepatology"', 'follow_up = "liver_clinic"',
                     r"\[sheet.follow_up\] has no text for liver_clinic", id="new-follow-up-code"),
    ],
)
def test_sheet_words_are_validated_on_load(content_copy, name, old, new, message):
    with pytest.raises(ContentError, match=message):
        load_content(content_copy(name, old, new))


# --- command line -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("args", "start"), [
    ((), "<!doctype html>"),
    (("--format", "markdown", "--language", "es"), "# Hoja del protocolo"),
    (("--protocol", "ms", "--language", "it", "--format", "json"), "{"),
])
def test_cli_prints_the_sheet(args, start):
    done = alemtrack("protocol", *args)
    assert done.returncode == 0, done.stderr
    assert done.stderr == "" and done.stdout.startswith(start)
    if "json" in args:
        assert json.loads(done.stdout)["language"] == "it"


@pytest.mark.parametrize(("args", "option"), [
    (("--protocol", "als"), "--protocol"),
    (("--language", "fr"), "--language"),
    (("--format", "pdf"), "--format"),
    (("--language",), "--language"),
])
def test_cli_unknown_option_values_exit_2_naming_the_option(args, option):
    assert_bad_input(alemtrack("protocol", *args), option)
