"""content/ loads, and each kind of defect fails loading with a clear message."""

import shutil
from pathlib import Path

import pytest

from server.engine.content.loading import DEFAULT_CONTENT_DIR, load_content
from server.engine.content.model import LANGUAGES
from server.engine.errors import ContentError
from tests.unit.content_files import locate

CLINICAL_ITEM_CODES = {
    "diet.listeria", "diet.bland", "med.aciclovir", "med.antihistamine",
    "safety.post_infusion", "appt.post_course_review", "appt.pre_course_workup",
    "contraception", "breastfeeding.pause", "vaccine.live_avoid", "lab.cbc",
    "lab.creatinine", "lab.urinalysis", "lab.lft", "lab.tsh", "checklist.monthly",
    "screen.hpv", "screen.skin", "imaging.mri", "vaccine.flu",
    "lab.pregnancy_test", "appt.monitoring_end",  # CLINICAL.md 2.1, 2.2 (v2)
}
CLINICAL_QUESTION_CODES = {
    "bleed.mucosal", "bleed.menstrual", "bleed.bruising", "bleed.skin_spots",
    "kidney.urine", "kidney.swelling", "thyroid.weight", "thyroid.temperature",
    "thyroid.bowel", "infection.fever", "infection.other", "liver.jaundice",
    "immune.fever_rash_glands", "neuro.cognition", "gut.diarrhoea",
    "emergency.neuro", "emergency.breath_chest",
    # (v2)
    "bleed.severe", "thyroid.heart", "thyroid.neck_eyes", "infection.meningitis",
    "infection.shingles", "ms.relapse", "pregnancy.possible",
}
CLINICAL_RULE_CODES = {
    "platelets.critical", "platelets.low", "platelets.falling", "kidney.urinalysis", "kidney.creatinine",
    "thyroid.tsh", "liver.enzymes", "neutrophils.severe", "neutrophils.low", "cd4.recovered",
}
CLINICAL_ANALYTES = {
    "platelets", "neutrophils", "lymphocytes", "cd4", "creatinine", "tsh", "alt",
    "ast", "bilirubin", "urine_blood", "urine_protein",
    "cmv_pcr",  # CLINICAL.md 7.4: shared by every protocol
}
#: CLINICAL.md 2.3 (v2)
CLINICAL_WARNING_CODES = {
    "course.too_soon", "course.during_pregnancy", "course.during_breastfeeding", "course.cd4_not_recovered",
}
CLINICAL_SETTINGS = {
    # CLINICAL.md 1a (v2): listeria_until is a patient attribute now
    "aciclovir_duration", "herpes_prophylaxis_drug", "cd4_before_next_course", "antihistamine",
    "skin_yearly", "mri_yearly",
    "creatinine_rise", "lab_window_days", "lab_escalate_days", "reminder_time",
    "quiet_hours", "urgent_ack_hours",
    # CLINICAL.md 7.2: site settings are the clinic's, shared by every protocol
    "cll_prophylaxis_months", "cmv_after_course_weeks",
}


def test_real_content_holds_every_code_of_clinical_md(content):
    assert set(content.item_codes) == CLINICAL_ITEM_CODES
    assert set(content.question_codes) == CLINICAL_QUESTION_CODES
    assert {rule.code for rule in content.rules} == CLINICAL_RULE_CODES
    assert set(content.analytes) == CLINICAL_ANALYTES
    # The clinic's usual unit of each number analyte (CLINICAL.md 4.1) is a site setting too.
    assert {name for name in content.settings if not name.startswith("lab_unit.")} == CLINICAL_SETTINGS
    assert {warning.code for warning in content.warnings} == CLINICAL_WARNING_CODES


def test_every_rule_names_a_source(content):
    sourced = [*content.items, *content.questions, *content.rules, *content.group_rules,
               *content.analytes.values(), *content.settings.values(), *content.warnings]
    assert all(entry.source for entry in sourced)


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_code_has_text_in_every_language(content, language):
    for code in content.item_codes:
        assert content.text(language, "items", code, "title").strip()
        assert content.text(language, "items", code, "why").strip()
    for code in content.question_codes:
        assert content.text(language, "questions", code, "text").strip()
        assert content.text(language, "questions", code, "why").strip()
    for level in content.levels:
        assert "{clinic_phone}" in content.text(language, "levels", level, "advice")
    for warning in content.warnings:
        assert content.text(language, "warnings", warning.code, "text").strip()


def test_site_defaults_match_clinical_md(content):
    defaults = {name: setting.default for name, setting in content.settings.items()}
    assert defaults["aciclovir_duration"] == "1 month"
    assert defaults["antihistamine"] is True
    assert "listeria_until" not in defaults  # CLINICAL.md 1a (v2): a patient attribute
    assert defaults["herpes_prophylaxis_drug"] == "aciclovir"  # CLINICAL.md 1a (v2)
    assert defaults["cd4_before_next_course"] is True  # CLINICAL.md 1a (v2)
    assert defaults["creatinine_rise"] == 1.3
    assert (defaults["lab_window_days"], defaults["lab_escalate_days"]) == (7, 14)
    assert defaults["reminder_time"].isoformat() == "09:00:00"
    assert [t.isoformat() for t in defaults["quiet_hours"]] == ["21:00:00", "08:00:00"]
    assert defaults["urgent_ack_hours"] == 4


@pytest.fixture
def broken(tmp_path):
    """A copy of content/ and an editor that must find the text it replaces."""
    root = tmp_path / "content"
    shutil.copytree(DEFAULT_CONTENT_DIR, root)

    def edit(name: str, old: str, new: str) -> Path:
        path = locate(root, name, old)
        text = path.read_text(encoding="utf-8")
        assert old in text, f"{old!r} not in {name}: the test edits nothing"
        path.write_text(text.replace(old, new, 1), encoding="utf-8")
        return root

    return edit


def test_unedited_copy_loads(broken, tmp_path):
    load_content(tmp_path / "content")


@pytest.mark.parametrize(
    ("name", "old", "new", "message"),
    [
        pytest.param("labs.toml", 'code = "platelets.low"\nanalytes = ["platelets"]',
                     'code = "platelets.low"\nanalytes = ["platelet"]',
                     "names analyte 'platelet'", id="rule-names-unknown-analyte"),
        pytest.param("protocol.toml", 'analytes = ["creatinine"]', 'analytes = ["kreatinin"]',
                     "names analyte 'kreatinin'", id="item-names-unknown-analyte"),
        pytest.param("texts/de.toml", "[items.\"diet.bland\"]\ntitle =", "[items.\"diet.bland\"]\nheading =",
                     "de.toml: missing translation for items.diet.bland.title",
                     id="missing-translation"),
        pytest.param("texts/en.toml", '[items."lab.lft"]', '[items."lab.liver"]',
                     "no text for lab.lft", id="english-text-for-unknown-code"),
        pytest.param("protocol.toml", 'days = 28 }\nsource = ["003 Table 3 (first check-up 4 weeks after)"]',
                     "days = 28 }", "items.appt.post_course_review: missing 'source'", id="missing-source"),
        pytest.param("checklist.toml", 'source = ["002 Fig 4"]', 'source = ["Wikipedia"]',
                     "does not start with a known source", id="unknown-source"),
        pytest.param("protocol.toml", 'enabled_by = "mri_yearly"', 'enabled_by = "mri_monthly"',
                     "'mri_monthly', which is not a bool setting", id="unknown-setting"),
        pytest.param("protocol.toml", 'rule = "cd4.recovered"', 'rule = "cd4.gone"',
                     "names lab rule 'cd4.gone'", id="closed-by-unknown-rule"),
        pytest.param("labs.toml", 'supersedes = ["platelets.falling"]', 'supersedes = ["platelets.dropping"]',
                     "supersedes unknown rule", id="supersedes-unknown-rule"),
        pytest.param("protocol.toml", 'applies_to = "breastfeeding"', 'applies_to = "nursing"',
                     "is not one of", id="unknown-applies-to"),
        pytest.param("protocol.toml", 'scope = "season"', 'scope = "season"\nseason_lenght = 3',
                     "unknown key(s) season_lenght", id="unknown-key"),
        pytest.param("checklist.toml", 'level = "emergency"', 'level = "critical"',
                     "'critical' is not one of", id="unknown-level"),
        pytest.param("checklist.toml", 'group = "thyroid"\nmin_yes', 'group = "thyreoid"\nmin_yes',
                     "names group 'thyreoid'", id="group-rule-unknown-group"),
        pytest.param("texts/it.toml", "{clinic_phone}", "{telefono}",
                     "must use the placeholders", id="placeholder-mismatch"),
        pytest.param("labs.toml", "when = [{ level = \"urgent\", below = 100 }]",
                     "when = [{ level = \"urgent\", below = 100, above = 1 }]",
                     "needs exactly one test", id="two-tests-in-one-when"),
        pytest.param("settings.toml", 'default = "1 month"', 'default = "3 months"',
                     "default '3 months'", id="setting-default-not-a-choice"),
        pytest.param("protocol.toml", 'season_start = "10-01"', 'season_start = "02-30"',
                     "not a real day", id="impossible-season-date"),
        pytest.param("labs.toml", "[weekly_cbc]", "[weekly_cbc\n", "not valid TOML", id="invalid-toml"),
        # (v2) warnings, word variants, per-setting reminder times, patient end dates
        pytest.param("protocol.toml", '[warnings."course.too_soon"]', '[warnings."course.too_late"]',
                     "warnings.course.too_late: unknown warning", id="unknown-warning-code"),
        pytest.param("protocol.toml", 'recovered_rule = "cd4.recovered"', 'recovered_rule = "cd4.back"',
                     "names lab rule 'cd4.back'", id="warning-names-unknown-rule"),
        pytest.param("protocol.toml", 'min_months_after_previous = 12\n', '',
                     "missing 'min_months_after_previous'", id="too-soon-without-months"),
        pytest.param("texts/en.toml", '[items."med.aciclovir".valaciclovir]', '[items."med.aciclovir".famciclovir]',
                     "needs word variants for valaciclovir", id="missing-word-variant"),
        pytest.param("protocol.toml", 'words_by = "herpes_prophylaxis_drug"', 'words_by = "antihistamine"',
                     "'antihistamine', which is not a choice setting", id="words-by-not-a-choice"),
        pytest.param("reminders.toml", 'valaciclovir = ["08:00"]', 'famciclovir = ["08:00"]',
                     "must give times for each choice of herpes_prophylaxis_drug", id="times-missing-a-choice"),
        pytest.param("protocol.toml", 'end_extended_by = "listeria_until"', 'end_extended_by = "diet_until"',
                     "'diet_until' is not one of", id="unknown-patient-end-date"),
        pytest.param("protocol.toml", "max_gap_days = 3", "max_gap_days = 0",
                     "'max_gap_days' must be 1 or more", id="blocks-gap-zero"),
        pytest.param("texts/en.toml", '[warnings."course.too_soon"]', '[warnings."course.early"]',
                     "no text for course.too_soon", id="missing-warning-text"),
    ],
)
def test_defect_fails_loading_with_a_clear_message(broken, name, old, new, message):
    root = broken(name, old, new)
    with pytest.raises(ContentError) as caught:
        load_content(root)
    assert message in str(caught.value)


def test_missing_language_file_fails(broken, tmp_path):
    root = tmp_path / "content"
    (root / "ms" / "texts" / "es.toml").unlink()
    with pytest.raises(ContentError, match="texts/es.toml: missing translation file"):
        load_content(root)


def test_unknown_language_file_fails(tmp_path, broken):
    root = tmp_path / "content"
    shutil.copy(root / "ms" / "texts" / "en.toml", root / "ms" / "texts" / "xx.toml")
    with pytest.raises(ContentError, match="xx.toml: unknown language"):
        load_content(root)
