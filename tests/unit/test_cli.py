"""The ``alemtrack`` console script exactly as API.md section 1 describes it.

Run as a real subprocess: JSON from a file or ``-`` (stdin) to JSON on stdout and
exit 0; bad input exits 2 with one line on stderr naming the field, no traceback,
nothing on stdout.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
INSTALLED = Path(sys.executable).parent / "alemtrack"

COURSE_1 = ["2026-01-05", "2026-01-06", "2026-01-07", "2026-01-08", "2026-01-09"]


def alemtrack(*args: str, stdin: str | bytes | None = None, cwd: Path = ROOT,
              executable: list[str] | None = None) -> subprocess.CompletedProcess:
    command = (executable or [sys.executable, "-m", "server.cli"]) + list(args)
    data = stdin.encode("utf-8") if isinstance(stdin, str) else stdin
    done = subprocess.run(command, cwd=cwd, input=data, capture_output=True, timeout=120)
    return subprocess.CompletedProcess(
        done.args, done.returncode,
        done.stdout.decode("utf-8"), done.stderr.decode("utf-8", errors="replace"),
    )


def assert_bad_input(done: subprocess.CompletedProcess, *names: str) -> str:
    """Exit 2, nothing on stdout, exactly one line on stderr naming ``names``."""
    assert done.returncode == 2, (done.returncode, done.stderr)
    assert done.stdout == ""
    assert "Traceback" not in done.stderr
    assert done.stderr.endswith("\n"), repr(done.stderr)
    lines = done.stderr.splitlines()
    assert len(lines) == 1, repr(done.stderr)
    assert lines[0].strip()
    for name in names:
        assert name in lines[0], (name, lines[0])
    return lines[0]


def write(tmp_path: Path, doc, name: str = "input.json") -> Path:
    path = tmp_path / name
    path.write_text(doc if isinstance(doc, str) else json.dumps(doc), encoding="utf-8")
    return path


# --- timeline ----------------------------------------------------------------------------


def check_example_timeline(answer: dict) -> None:
    assert set(answer) >= {"items", "flags", "monitoring_ends"}
    # L* = 2027-01-13, so monitoring ends L* + 48 months (CLINICAL.md 2.2).
    assert answer["monitoring_ends"] == "2031-01-13"
    assert {"rule": "platelets.low", "level": "urgent", "taken_on": "2026-09-02",
            "analyte": "platelets", "value": 95}.items() <= next(
        f for f in answer["flags"] if f["rule"] == "platelets.low").items()
    items = answer["items"]
    assert items and all(isinstance(item["code"], str) for item in items)
    for item in items:
        assert ("due" in item) != ("start" in item and "end" in item), item
    keys = [(item.get("due") or item["start"], item["code"]) for item in items]
    assert keys == sorted(keys), "items are sorted by (due or start, code)"
    listeria = [i for i in items if i["code"] == "diet.listeria"]
    assert listeria[0]["start"] == "2025-12-22" and listeria[0]["end"] == "2026-02-09"


def test_timeline_of_the_example_file():
    done = alemtrack("timeline", "examples/patient.json")
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    check_example_timeline(json.loads(done.stdout))


def test_timeline_from_stdin_is_the_same_as_from_the_file():
    text = (EXAMPLES / "patient.json").read_text(encoding="utf-8")
    from_stdin = alemtrack("timeline", "-", stdin=text)
    from_file = alemtrack("timeline", str(EXAMPLES / "patient.json"))
    assert from_stdin.returncode == 0, from_stdin.stderr
    check_example_timeline(json.loads(from_stdin.stdout))
    assert json.loads(from_stdin.stdout) == json.loads(from_file.stdout)


def test_timeline_minimal_document_from_tmp_file(tmp_path):
    path = write(tmp_path, {"courses": [{"infusions": COURSE_1}]})
    done = alemtrack("timeline", str(path))
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)
    assert answer["monitoring_ends"] == "2030-01-09"
    assert answer["flags"] == []


# --- triage ------------------------------------------------------------------------------


def test_triage_of_the_example_file():
    done = alemtrack("triage", "examples/checklist.json")
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    answer = json.loads(done.stdout)
    assert set(answer) == {"level", "reasons"}
    # Fever on 2026-03-20 is within L_prev (2026-01-09) + 3 months: urgent; the thyroid
    # group (soon) is below it and not listed.
    assert answer == {"level": "urgent", "reasons": ["infection.fever"]}


@pytest.mark.parametrize(
    ("answers", "answered_on", "expected"),
    [
        pytest.param({}, "2026-06-01", {"level": "none", "reasons": []}, id="nothing answered"),
        pytest.param({"thyroid.weight": True, "thyroid.bowel": True}, "2026-06-01",
                     {"level": "soon", "reasons": ["group:thyroid"]}, id="thyroid group"),
        pytest.param({"infection.fever": True}, "2026-04-10",
                     {"level": "soon", "reasons": ["infection.fever"]}, id="fever day after 3m"),
        pytest.param({"emergency.neuro": True, "bleed.mucosal": True}, "2026-06-01",
                     {"level": "emergency", "reasons": ["emergency.neuro"]}, id="emergency"),
    ],
)
def test_triage_from_stdin(answers, answered_on, expected):
    doc = {"patient": {"sex": "male"}, "courses": [{"infusions": COURSE_1}],
           "answered_on": answered_on, "answers": answers}
    done = alemtrack("triage", "-", stdin=json.dumps(doc))
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == expected


# --- bad input: exit 2, one line naming the field ------------------------------------------

TIMELINE_OK = {"patient": {"sex": "female"}, "courses": [{"infusions": COURSE_1}]}
TRIAGE_OK = {"patient": {"sex": "female"}, "courses": [{"infusions": COURSE_1}],
             "answered_on": "2026-05-01", "answers": {"bleed.mucosal": True}}


def changed(base: dict, **fields) -> dict:
    doc = json.loads(json.dumps(base))
    for key, value in fields.items():
        if value is ...:
            doc.pop(key)
        else:
            doc[key] = value
    return doc


BAD_INPUT = [
    pytest.param("timeline", changed(TIMELINE_OK, courses=[{"infusions": ["2026-02-30"]}]),
                 "courses[0].infusions[0]", id="timeline: impossible infusion date"),
    pytest.param("timeline", changed(TIMELINE_OK, courses=[{"infusions": []}]),
                 "courses[0].infusions", id="timeline: course with no infusions"),
    pytest.param("timeline", changed(TIMELINE_OK, courses=...), "courses",
                 id="timeline: missing courses"),
    pytest.param("timeline", changed(TIMELINE_OK, medications=[]), "medications",
                 id="timeline: unknown top-level field"),
    pytest.param("timeline",
                 changed(TIMELINE_OK,
                         labs=[{"analyte": "hb", "value": 1, "taken_on": "2026-02-01"}]),
                 "labs[0].analyte", id="timeline: unknown analyte"),
    pytest.param("timeline", changed(TIMELINE_OK, settings={"antihistamine": "yes"}),
                 "settings.antihistamine", id="timeline: bad setting"),
    pytest.param("timeline", changed(TIMELINE_OK, patient={"timezone": "Mars/Base"}),
                 "patient.timezone", id="timeline: unknown time zone"),
    pytest.param("timeline", [], "(document)", id="timeline: document a list"),
    # CLINICAL.md section 1, "Dates in range": 1900-01-01..2100-12-31
    pytest.param("timeline", changed(TIMELINE_OK, courses=[{"infusions": COURSE_1[:2] + ["9999-12-31"]}]),
                 "courses[0].infusions[2]", id="timeline: infusion in 9999"),
    pytest.param("timeline", changed(TIMELINE_OK, courses=[{"infusions": ["0001-01-01"]}]),
                 "courses[0].infusions[0]", id="timeline: infusion in year 1"),
    pytest.param("timeline", changed(TIMELINE_OK, patient={"sex": "female",
                                                           "pregnancies": [{"reported_on": "9999-01-01"}]}),
                 "patient.pregnancies[0].reported_on", id="timeline: pregnancy reported in 9999"),
    pytest.param("timeline",
                 changed(TIMELINE_OK, labs=[{"analyte": "platelets", "value": 95, "taken_on": "2026-09-02"},
                                            {"analyte": "platelets", "value": 95, "taken_on": "1899-12-31"}]),
                 "labs[1].taken_on", id="timeline: lab taken before 1900"),
    pytest.param("timeline", changed(TIMELINE_OK, patient={"listeria_until": "2101-01-01"}),
                 "patient.listeria_until", id="timeline: listeria_until after 2100"),
    pytest.param("timeline", changed(TIMELINE_OK, patient={"protocol": "als"}),
                 "patient.protocol", id="timeline: unknown protocol"),
    pytest.param("triage", changed(TRIAGE_OK, answers={"bleed.nose": True}), "answers.bleed.nose",
                 id="triage: unknown code"),
    pytest.param("triage", changed(TRIAGE_OK, answers={"bleed.mucosal": "yes"}),
                 "answers.bleed.mucosal", id="triage: non-boolean answer"),
    pytest.param("triage", changed(TRIAGE_OK, patient={"sex": "male"},
                                   answers={"bleed.menstrual": True}),
                 "answers.bleed.menstrual", id="triage: menstrual for a male"),
    pytest.param("triage", changed(TRIAGE_OK, answered_on=...), "answered_on",
                 id="triage: missing answered_on"),
    pytest.param("triage", changed(TRIAGE_OK, answered_on="2026-02-30"), "answered_on",
                 id="triage: impossible answered_on"),
    pytest.param("triage", changed(TRIAGE_OK, answered_on="2101-01-01"), "answered_on",
                 id="triage: answered_on after 2100"),
    pytest.param("triage", changed(TRIAGE_OK, courses=[{"infusions": ["1899-12-31"]}]),
                 "courses[0].infusions[0]", id="triage: infusion before 1900"),
    pytest.param("triage", changed(TRIAGE_OK, answers=...), "answers",
                 id="triage: missing answers"),
    pytest.param("triage", changed(TRIAGE_OK, labs=[]), "labs",
                 id="triage: timeline field in a triage document"),
]


@pytest.mark.parametrize(("command", "doc", "field"), BAD_INPUT)
def test_bad_input_from_a_file(tmp_path, command, doc, field):
    path = write(tmp_path, doc)
    assert_bad_input(alemtrack(command, str(path)), field)


@pytest.mark.parametrize(("command", "doc", "field"), BAD_INPUT)
def test_bad_input_from_stdin(command, doc, field):
    assert_bad_input(alemtrack(command, "-", stdin=json.dumps(doc)), field)


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("{", id="unclosed object"),
        pytest.param('{"courses": [],}', id="trailing comma"),
        pytest.param("", id="empty file"),
        pytest.param("{'courses': []}", id="single quotes"),
        pytest.param('{"courses": []}\n{"courses": []}', id="two documents"),
    ],
)
@pytest.mark.parametrize("command", ["timeline", "triage"])
def test_malformed_json(tmp_path, command, text):
    path = write(tmp_path, text, "broken.json")
    assert_bad_input(alemtrack(command, str(path)), "broken.json")
    assert_bad_input(alemtrack(command, "-", stdin=text))


def test_not_utf8_file(tmp_path):
    path = tmp_path / "latin1.json"
    path.write_bytes('{"courses": [], "patient": {"language": "españ"}}'.encode("latin-1"))
    assert_bad_input(alemtrack("timeline", str(path)), "latin1.json")


@pytest.mark.parametrize("command", ["timeline", "triage"])
def test_missing_file(tmp_path, command):
    missing = tmp_path / "no-such-file.json"
    assert_bad_input(alemtrack(command, str(missing)), "no-such-file.json")


def test_directory_instead_of_a_file(tmp_path):
    assert_bad_input(alemtrack("timeline", str(tmp_path)))


@pytest.mark.parametrize(
    "args",
    [
        pytest.param(("schedule", "examples/patient.json"), id="unknown command"),
        pytest.param((), id="no command"),
        pytest.param(("timeline",), id="no file"),
        pytest.param(("timeline", "examples/patient.json", "extra"), id="extra argument"),
    ],
)
def test_bad_command_line_exits_2(args):
    assert_bad_input(alemtrack(*args))


# --- odd numbers and documents: NaN, huge integers, newlines in keys, deep nesting -----------


def test_dates_at_the_ends_of_the_range_are_accepted(tmp_path):
    """1900-01-01 and 2100-12-31 are in range (CLINICAL.md section 1); the answer runs past 2100."""
    doc = {"patient": {"sex": "female", "pregnancies": [{"reported_on": "1900-01-01", "ended_on": "1900-09-30"},
                                                        {"reported_on": "2100-12-31"}],
                       "listeria_until": "2100-12-31"},
           "courses": [{"infusions": ["1900-01-01", "1900-01-02"]},
                       {"infusions": ["2100-12-29", "2100-12-30", "2100-12-31"], "status": "planned"}],
           "labs": [{"analyte": "platelets", "value": 20, "taken_on": "2100-12-31"}]}
    done = alemtrack("timeline", str(write(tmp_path, doc)))
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["monitoring_ends"] == "2104-12-31"


def test_huge_integer_lab_value_is_bad_input(tmp_path):
    text = ('{"courses": [], "labs": [{"analyte": "platelets", "value": 1' + "0" * 400
            + ', "taken_on": "2026-09-02"}]}')
    assert_bad_input(alemtrack("timeline", str(write(tmp_path, text))), "labs[0].value")


def test_huge_integer_setting_is_bad_input(tmp_path):
    text = '{"courses": [], "settings": {"lab_window_days": 1' + "0" * 400 + '}}'
    assert_bad_input(alemtrack("timeline", str(write(tmp_path, text))), "settings.lab_window_days")


def test_unknown_key_with_a_newline_is_one_line(tmp_path):
    path = write(tmp_path, {"courses": [], "foo\nbar": 1})
    assert_bad_input(alemtrack("timeline", str(path)))


def test_deeply_nested_json_is_bad_input(tmp_path):
    path = write(tmp_path, "[" * 100_000 + "]" * 100_000)
    assert_bad_input(alemtrack("timeline", str(path)))


def test_nan_setting_is_bad_input(tmp_path):
    path = write(tmp_path, '{"courses": [], "settings": {"creatinine_rise": NaN}}')
    assert_bad_input(alemtrack("timeline", str(path)), "settings.creatinine_rise")


# --- the installed console script -------------------------------------------------------------


def test_installed_console_script_exists_and_works(tmp_path):
    assert INSTALLED.is_file(), f"{INSTALLED} is not installed (pip install -e .)"
    # From another directory, with an absolute path: it must not depend on the cwd.
    done = alemtrack("timeline", str(EXAMPLES / "patient.json"), cwd=tmp_path,
                     executable=[str(INSTALLED)])
    assert done.returncode == 0, done.stderr
    check_example_timeline(json.loads(done.stdout))

    triage = alemtrack("triage", "-", stdin=(EXAMPLES / "checklist.json").read_text("utf-8"),
                       cwd=tmp_path, executable=[str(INSTALLED)])
    assert triage.returncode == 0, triage.stderr
    assert json.loads(triage.stdout) == {"level": "urgent", "reasons": ["infection.fever"]}

    bad = alemtrack("timeline", "-", stdin='{"courses": [{"infusions": ["2026-02-30"]}]}',
                    cwd=tmp_path, executable=[str(INSTALLED)])
    assert_bad_input(bad, "courses[0].infusions[0]")
