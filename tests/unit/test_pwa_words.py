"""Every word of the app in every language (issue 16 point 8).

Reads each pwa/js/i18n*.js file (globbed: a helper's new words file is covered the
day it is added) with Node, and fails on a key missing in a language, a text left
in English, a placeholder lost in translation, a plural without its "_other"
form, a words file that i18n.js does not merge, and an error code the API can
return without its plain sentence ("ae_<code>") in each language.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
JS = ROOT / "pwa" / "js"
LANGUAGES = ("en", "es", "de", "it")
NODE = shutil.which("node")

#: texts that are the same word in English and that language (checked by a person, not forgotten)
SAME_ON_PURPOSE = {
    ("es", "no"), ("it", "no"), ("es", "minutes"), ("es", "hours"), ("it", "minutes"), ("it", "hours"),
    ("de", "analyte"), ("de", "name"), ("de", "course_status"), ("de", "signup_code"), ("de", "range_column"),
    ("de", "clinic_name"), ("de", "filter_status"), ("de", "staff_col_status"), ("de", "col_test"),
    ("de", "audit_about"), ("it", "staff_email"), ("it", "staff_col_email"), ("it", "email"),
    ("it", "password"), ("it", "nav_account"),
    # cll2: the routes' abbreviations and the milligram are written alike
    ("es", "sched_route_iv_short"), ("es", "sched_route_sc_short"), ("it", "sched_route_sc_short"),
    ("es", "sched_mg"), ("de", "sched_mg"), ("it", "sched_mg"), ("it", "sched_doses_one"),
}

#: every export of a module that looks like a words table ({en: {...}, es: ..., ...})
DUMP = """
const out = {};
for (const file of process.argv.slice(1)) {
  const module = await import(file);
  out[file] = Object.fromEntries(Object.entries(module).filter(([, v]) =>
    v && typeof v === "object" && v.en && typeof v.en === "object" && !Array.isArray(v.en)));
}
console.log(JSON.stringify(out));
"""

pytestmark = pytest.mark.skipif(NODE is None, reason="Node is needed to read the app's words")


def word_files() -> list[Path]:
    return sorted(JS.glob("i18n*.js"))


@pytest.fixture(scope="module")
def tables() -> dict[str, dict]:
    files = [str(path) for path in word_files()]
    done = subprocess.run([NODE, "--input-type=module", "-e", DUMP, *files], capture_output=True, text=True,
                          check=True, timeout=60)
    return json.loads(done.stdout)


def placeholders(text: str) -> set[str]:
    return set(re.findall(r"\{(\w+)\}", text))


def test_the_glob_finds_the_words_files_and_each_has_a_table(tables):
    assert len(word_files()) >= 6
    for file, exported in tables.items():
        assert exported, f"{file} exports no words table"


@pytest.mark.parametrize("path", word_files(), ids=lambda p: p.name)
def test_every_key_in_every_language(tables, path):
    for name, table in tables[str(path)].items():
        assert set(table) == set(LANGUAGES), f"{path.name} {name}: languages {sorted(table)}"
        english = table["en"]
        for language in LANGUAGES[1:]:
            words = table[language]
            missing = sorted(set(english) - set(words))
            extra = sorted(set(words) - set(english))
            assert not missing, f"{path.name} {name}.{language} misses {missing}"
            assert not extra, f"{path.name} {name}.{language} has keys English lacks: {extra}"
            for key, text in words.items():
                assert isinstance(text, str) and text.strip(), f"{path.name} {language}.{key} is empty"
                assert placeholders(text) == placeholders(english[key]), \
                    f"{path.name} {language}.{key}: placeholders {placeholders(text)} != {placeholders(english[key])}"
                if text == english[key] and re.search(r"[A-Za-z]{2}", re.sub(r"\{\w+\}", "", text)):
                    assert (language, key) in SAME_ON_PURPOSE, f"{path.name} {language}.{key} is English: {text!r}"
        for key in english:
            if key.endswith("_one"):
                assert key[:-4] + "_other" in english, f"{path.name}: {key} has no _other form"


#: words put over the usual ones while a patient of that protocol is logged in (setProtocol)
PROTOCOL_OVERLAYS = {"i18n-cll.js"}


def test_i18n_merges_every_words_file(tables):
    merged = tables[str(JS / "i18n.js")]["WORDS"]
    for path in word_files():
        for name, table in tables[str(path)].items():
            if path.name in PROTOCOL_OVERLAYS:
                for language in LANGUAGES:
                    unknown = sorted(set(table[language]) - set(merged[language]))
                    assert not unknown, f"{path.name} {name}.{language} overlays keys the app lacks: {unknown}"
                continue
            if path.name == "i18n.js":
                continue
            for language in LANGUAGES:
                lost = [key for key, text in table[language].items() if merged[language].get(key) != text]
                assert not lost, f"{path.name} {name}.{language}: not merged by i18n.js (or overwritten): {lost[:5]}"


def server_error_codes() -> set[str]:
    """Every error code the API can put in its envelope, read from the server's source."""
    from server.errors import DEFAULT_CODES
    from server.services import errors

    codes = set(DEFAULT_CODES.values())
    codes |= {cls.code for cls in vars(errors).values()
              if isinstance(cls, type) and issubclass(cls, errors.DomainError) and cls.code != "error"}
    source = "\n".join(path.read_text() for path in (ROOT / "server").rglob("*.py"))
    codes |= set(re.findall(r"api_error\(\s*\d+,\s*\"([a-z_]+)\"", source))
    codes |= set(re.findall(r"Conflict\(\s*\"([a-z_]+)\"", source))
    codes |= set(re.findall(r"code=\"([a-z_]+)\"", source))
    codes |= set(re.findall(r"InvalidInput\([^()]*?,\s*\"([a-z_]+)\"\)", source, re.S))
    codes |= {"unknown_code", "invalid_value", "malformed_json"}  # server.errors, from engine input errors
    return codes


def test_every_api_error_code_has_a_sentence_in_every_language(tables):
    merged = tables[str(JS / "i18n.js")]["WORDS"]
    codes = server_error_codes()
    assert {"checklist_already_submitted", "weak_password", "not_found", "invalid_request"} <= codes
    for language in LANGUAGES:
        missing = sorted(code for code in codes if f"ae_{code}" not in merged[language])
        assert not missing, f"{language}: no plain sentence for error codes {missing}"
