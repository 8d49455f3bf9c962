"""The checklist of CLINICAL.md section 3, version 2 (issue 14).

New and changed questions (level if yes, group, who is asked), the free-text
note rule, the emergency signs as short lists in every language, and the
``alemtrack triage`` command line with its optional ``note`` (API.md section 1).
Each case names the CLINICAL.md row it checks.
"""

from __future__ import annotations

import json
import shutil
from datetime import date

import pytest

from server.engine.content.loading import DEFAULT_CONTENT_DIR, default_content, load_content
from server.engine.content.model import LANGUAGES
from server.engine.documents import triage_document
from server.engine.errors import ContentError, InputError
from server.engine.inputs import Patient, parse_courses
from server.engine.triage import asked_questions, triage
from tests.unit.content_files import locate

from .test_cli import alemtrack, assert_bad_input

CONTENT = default_content()
QUESTIONS = {q.code: q for q in CONTENT.questions}
COURSE_1 = ["2026-01-05", "2026-01-06", "2026-01-07", "2026-01-08", "2026-01-09"]
COURSES = parse_courses([{"infusions": COURSE_1}])
NEAR = date(2026, 3, 20)  # within L_prev (2026-01-09) + 3 months: fever is urgent
LATE = date(2026, 6, 1)  # after it: fever is soon

# Patients by the attributes that decide who is asked (CLINICAL.md section 1:
# childbearing potential is true or false whatever the sex field says). Made
# directly: the engine's rule must hold for every combination the record allows.
FEMALE_CBP = Patient(sex="female", childbearing_potential=True)
FEMALE = Patient(sex="female", childbearing_potential=False)
MALE = Patient(sex="male", childbearing_potential=False)
MALE_CBP = Patient(sex="male", childbearing_potential=True)
OTHER = Patient(sex="other", childbearing_potential=False)
OTHER_CBP = Patient(sex="other", childbearing_potential=True)
EVERYONE = (FEMALE_CBP, FEMALE, MALE, MALE_CBP, OTHER, OTHER_CBP)


def run(answers, patient=FEMALE_CBP, answered_on=LATE, note=None):
    return triage(patient, COURSES, answered_on, answers, CONTENT, note=note)


# --- new and changed rows: level, group, who is asked -------------------------------------

#: (code, level if yes, group, asked of); "all", or the patients who are asked
ROWS = [
    pytest.param("bleed.severe", "emergency", "blood", "all",
                 id="CLINICAL.md 3 bleed.severe (v2): emergency, blood, all"),
    pytest.param("bleed.mucosal", "urgent", "blood", "all",
                 id="CLINICAL.md 3 bleed.mucosal (v2: meaning): urgent, blood, all"),
    pytest.param("bleed.menstrual", "urgent", "blood", (FEMALE_CBP, FEMALE, MALE_CBP, OTHER_CBP),
                 id="CLINICAL.md 3 bleed.menstrual (v2: who): urgent, blood, female or childbearing"),
    pytest.param("bleed.bruising", "urgent", "blood", "all",
                 id="CLINICAL.md 3 bleed.bruising (v2: meaning): urgent, blood, all"),
    pytest.param("thyroid.heart", "routine", "thyroid", "all",
                 id="CLINICAL.md 3 thyroid.heart (v2): routine, thyroid, all"),
    pytest.param("thyroid.neck_eyes", "soon", "thyroid", "all",
                 id="CLINICAL.md 3 thyroid.neck_eyes (v2): soon, thyroid, all"),
    pytest.param("infection.meningitis", "emergency", "infection", "all",
                 id="CLINICAL.md 3 infection.meningitis (v2): emergency, infection, all"),
    pytest.param("infection.shingles", "urgent", "infection", "all",
                 id="CLINICAL.md 3 infection.shingles (v2): urgent, infection, all"),
    pytest.param("infection.other", "routine", "infection", "all",
                 id="CLINICAL.md 3 infection.other (v2: meaning): routine, infection, all"),
    pytest.param("ms.relapse", "soon", "neuro", "all",
                 id="CLINICAL.md 3 ms.relapse (v2): soon, neuro, all"),
    pytest.param("pregnancy.possible", "soon", "pregnancy", (FEMALE_CBP, MALE_CBP, OTHER_CBP),
                 id="CLINICAL.md 3 pregnancy.possible (v2): soon, pregnancy, childbearing only"),
]


@pytest.mark.parametrize(("code", "level", "group", "asked_of"), ROWS)
def test_row_level_and_group_in_content(code, level, group, asked_of):
    question = QUESTIONS[code]
    assert (question.level, question.group) == (level, group)
    assert question.near_infusion is None  # only infection.fever has the near-infusion rule


@pytest.mark.parametrize(("code", "level", "group", "asked_of"), ROWS)
def test_row_yes_alone_gives_its_level(code, level, group, asked_of):
    patient = EVERYONE[0] if asked_of == "all" else asked_of[0]
    for day in (NEAR, LATE):  # no date rule on these rows
        assert run({code: True}, patient, day) == (level, (code,))


@pytest.mark.parametrize(("code", "level", "group", "asked_of"), ROWS)
def test_row_is_asked_of_exactly_its_patients(code, level, group, asked_of):
    expected = EVERYONE if asked_of == "all" else asked_of
    for patient in EVERYONE:
        asked = code in {q.code for q in asked_questions(patient, CONTENT)}
        assert asked is (patient in expected), (patient, code)


@pytest.mark.parametrize(("code", "level", "group", "asked_of"), ROWS)
def test_row_cites_a_document_not_the_specification(code, level, group, asked_of):
    """Every new or changed row cites a seed or the label (not CLINICAL.md itself)."""
    assert QUESTIONS[code].source
    assert not any(citation.startswith("CLINICAL.md") for citation in QUESTIONS[code].source)


def test_bleed_menstrual_for_a_male_with_childbearing_potential():
    """CLINICAL.md 3 bleed.menstrual (v2: who): sex female OR childbearing potential."""
    assert "bleed.menstrual" in {q.code for q in asked_questions(MALE_CBP, CONTENT)}
    assert run({"bleed.menstrual": True}, MALE_CBP) == ("urgent", ("bleed.menstrual",))


def test_bleed_menstrual_for_a_female_without_childbearing_potential():
    """CLINICAL.md 3 bleed.menstrual (v2: who): sex female is enough."""
    assert run({"bleed.menstrual": True}, FEMALE) == ("urgent", ("bleed.menstrual",))


NOT_ASKED = [
    pytest.param(FEMALE, "pregnancy.possible", True,
                 id="CLINICAL.md 3 pregnancy.possible (v2): yes from a female without childbearing potential"),
    pytest.param(FEMALE, "pregnancy.possible", False,
                 id="CLINICAL.md 3 pregnancy.possible (v2): even no from a patient not asked"),
    pytest.param(MALE, "pregnancy.possible", True,
                 id="CLINICAL.md 3 pregnancy.possible (v2): male without childbearing potential"),
    pytest.param(OTHER, "pregnancy.possible", True,
                 id="CLINICAL.md 3 pregnancy.possible (v2): other without childbearing potential"),
    pytest.param(MALE, "bleed.menstrual", True,
                 id="CLINICAL.md 3 bleed.menstrual (v2: who): male without childbearing potential"),
    pytest.param(OTHER, "bleed.menstrual", True,
                 id="CLINICAL.md 3 bleed.menstrual (v2: who): other without childbearing potential"),
]


@pytest.mark.parametrize(("patient", "code", "answer"), NOT_ASKED)
def test_answering_a_question_not_asked_is_an_input_error(patient, code, answer):
    """As for unknown codes: refused naming the field, never silently dropped."""
    with pytest.raises(InputError) as caught:
        run({code: answer}, patient)
    assert caught.value.field == f"answers.{code}"
    assert caught.value.problem == "this question is not asked of this patient"


# --- group rule and fever rule still hold with the new questions ---------------------------

RULE_CASES = [
    pytest.param({"thyroid.heart": True, "thyroid.weight": True}, LATE, ("soon", ("group:thyroid",)),
                 id="CLINICAL.md 3 group rule: thyroid.heart (v2) + thyroid.weight -> soon group:thyroid"),
    pytest.param({"thyroid.heart": True}, LATE, ("routine", ("thyroid.heart",)),
                 id="CLINICAL.md 3 group rule: thyroid.heart (v2) alone -> routine"),
    pytest.param({"thyroid.neck_eyes": True}, LATE, ("soon", ("thyroid.neck_eyes",)),
                 id="CLINICAL.md 3 thyroid.neck_eyes (v2) alone -> soon, no group reason"),
    pytest.param({"thyroid.neck_eyes": True, "thyroid.heart": True}, LATE,
                 ("soon", ("thyroid.neck_eyes", "group:thyroid")),
                 id="CLINICAL.md 3 group rule: neck_eyes (soon) + heart -> soon, both reasons"),
    pytest.param({"thyroid.neck_eyes": True, "ms.relapse": True}, LATE,
                 ("soon", ("ms.relapse", "thyroid.neck_eyes")),
                 id="CLINICAL.md 3 one thyroid yes + another group's soon: no group reason"),
    pytest.param({"thyroid.heart": True, "thyroid.bowel": True, "infection.shingles": True}, LATE,
                 ("urgent", ("infection.shingles",)),
                 id="CLINICAL.md 3 group rule: urgent shingles (v2) wins, group not listed"),
    pytest.param({"infection.fever": True}, NEAR, ("urgent", ("infection.fever",)),
                 id="CLINICAL.md 3 infection.fever: still urgent near an infusion"),
    pytest.param({"infection.fever": True}, LATE, ("soon", ("infection.fever",)),
                 id="CLINICAL.md 3 infection.fever: still soon later"),
    pytest.param({"infection.fever": True, "infection.meningitis": True}, NEAR,
                 ("emergency", ("infection.meningitis",)),
                 id="CLINICAL.md 3 infection.meningitis (v2) over near fever -> emergency"),
    pytest.param({"infection.fever": True, "infection.shingles": True}, NEAR,
                 ("urgent", ("infection.fever", "infection.shingles")),
                 id="CLINICAL.md 3 near fever and shingles (v2) both urgent, checklist order"),
    pytest.param({"bleed.severe": True, "emergency.neuro": True, "bleed.mucosal": True}, LATE,
                 ("emergency", ("emergency.neuro", "bleed.severe")),
                 id="CLINICAL.md 3 bleed.severe (v2) with emergency.neuro: both, checklist order"),
    pytest.param({"pregnancy.possible": True, "thyroid.weight": True}, LATE,
                 ("soon", ("pregnancy.possible",)),
                 id="CLINICAL.md 3 pregnancy.possible (v2) soon over a routine yes"),
]


@pytest.mark.parametrize(("answers", "answered_on", "expected"), RULE_CASES)
def test_group_and_fever_rules_with_the_new_questions(answers, answered_on, expected):
    assert run(answers, answered_on=answered_on) == expected


# --- the note rule ------------------------------------------------------------------------

NOTE_CASES = [
    pytest.param({}, None, ("none", ()), id="CLINICAL.md 3 free text (v2): no note -> none"),
    pytest.param({}, "", ("none", ()), id="CLINICAL.md 3 free text (v2): empty note -> none"),
    pytest.param({}, "   \n\t  ", ("none", ()),
                 id="CLINICAL.md 3 free text (v2): white space only -> none"),
    pytest.param({}, "\u00a0\u2003", ("none", ()),
                 id="CLINICAL.md 3 free text (v2): unicode spaces only -> none"),
    pytest.param({}, "Felt tired after the holidays", ("routine", ("note",)),
                 id="CLINICAL.md 3 free text (v2): a note alone -> routine, reason note"),
    pytest.param({"bleed.mucosal": False, "thyroid.weight": False}, "  x ", ("routine", ("note",)),
                 id="CLINICAL.md 3 free text (v2): all no and a note -> routine, reason note"),
    pytest.param({"thyroid.weight": True}, "and my cat is ill", ("routine", ("thyroid.weight",)),
                 id="CLINICAL.md 3 free text (v2): routine already -> no note reason"),
    pytest.param({"ms.relapse": True}, "worse walking", ("soon", ("ms.relapse",)),
                 id="CLINICAL.md 3 free text (v2): soon already -> stays soon, no note reason"),
    pytest.param({"thyroid.weight": True, "thyroid.heart": True}, "hot", ("soon", ("group:thyroid",)),
                 id="CLINICAL.md 3 free text (v2): group soon -> no note reason"),
    pytest.param({"infection.shingles": True}, "rash on my back", ("urgent", ("infection.shingles",)),
                 id="CLINICAL.md 3 free text (v2): urgent already -> no note reason"),
    pytest.param({"emergency.neuro": True}, "help", ("emergency", ("emergency.neuro",)),
                 id="CLINICAL.md 3 free text (v2): emergency already -> no note reason"),
]


@pytest.mark.parametrize(("answers", "note", "expected"), NOTE_CASES)
def test_note_rule(answers, note, expected):
    assert run(answers, note=note) == expected


def test_note_rule_level_is_routine_and_never_pushed_or_flagged():
    """CLINICAL.md 3 free text (v2): routine, nothing higher, never pushed (no flag at routine)."""
    team = CONTENT.care_team
    assert team.note_level == "routine"
    assert team.note_level not in team.push_levels
    assert CONTENT.level_rank(team.note_level) < CONTENT.level_rank(team.flag_from)


def test_triage_without_a_note_argument_is_unchanged():
    """Callers that pass no note (v1 callers) get v1's result."""
    assert triage(FEMALE_CBP, COURSES, LATE, {}, CONTENT) == ("none", ())


# --- emergency signs are short lists, in every language -----------------------------------

LISTED = ("emergency.neuro", "emergency.breath_chest", "bleed.severe", "infection.meningitis")


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("code", LISTED)
def test_emergency_signs_are_a_short_list(language, code):
    texts = CONTENT.text(language, "questions", code)
    signs = texts["signs"]
    assert len(signs) == len(CONTENT.text("en", "questions", code)["signs"]) >= 3
    assert all(sign.strip() and len(sign) <= 40 for sign in signs), signs
    assert len(texts["text"]) <= 60, texts["text"]  # the lead question is short too


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_new_question_has_text_and_why_in_every_language(language):
    for code in ("bleed.severe", "thyroid.heart", "thyroid.neck_eyes", "infection.meningitis",
                 "infection.shingles", "ms.relapse", "pregnancy.possible"):
        assert CONTENT.text(language, "questions", code, "text").strip()
        assert CONTENT.text(language, "questions", code, "why").strip()
    assert CONTENT.text(language, "groups", "pregnancy").strip()


CHANGED_MEANINGS = [
    # (code, words the English text must hold, words it must not)
    pytest.param("bleed.mucosal", ("nose", "mouth", "gums"), ("cough",),
                 id="CLINICAL.md 3 bleed.mucosal (v2): coughing up blood is emergency.breath_chest"),
    pytest.param("emergency.breath_chest", ("coughing up blood",), (),
                 id="CLINICAL.md 3 emergency.breath_chest: coughing up blood"),
    pytest.param("bleed.bruising", ("bruise", "muscles or joints", "without an injury"), (),
                 id="CLINICAL.md 3 bleed.bruising (v2): swollen painful muscles or joints"),
    pytest.param("infection.other", ("colds", "fungal", "thrush"), ("shingles", "cold sores"),
                 id="CLINICAL.md 3 infection.other (v2): colds or fungal infections only"),
    pytest.param("infection.shingles", ("shingles", "cold sores"), (),
                 id="CLINICAL.md 3 infection.shingles (v2)"),
    pytest.param("ms.relapse", ("new", "24 hours"), (),
                 id="CLINICAL.md 3 ms.relapse (v2): new or worse, more than 24 hours"),
    pytest.param("thyroid.heart", ("new",), (),
                 id="CLINICAL.md 3 thyroid.heart (v2): new, not a long-standing MS tremor"),
    pytest.param("kidney.swelling", ("new",), (), id="CLINICAL.md 3 kidney.swelling: new swelling"),
    pytest.param("emergency.neuro", ("suddenly", "new"), (), id="CLINICAL.md 3 emergency.neuro: sudden and new"),
]


@pytest.mark.parametrize(("code", "present", "absent"), CHANGED_MEANINGS)
def test_english_texts_say_what_the_row_means(code, present, absent):
    texts = CONTENT.text("en", "questions", code)
    words = " ".join([texts["text"], *texts.get("signs", ())]).lower()
    for word in present:
        assert word in words, (code, word)
    for word in absent:
        assert word not in words, (code, word)


# --- the loader: asked_of, note_level and text lists ---------------------------------------


@pytest.fixture
def broken(tmp_path):
    root = tmp_path / "content"
    shutil.copytree(DEFAULT_CONTENT_DIR, root)

    def edit(name: str, old: str, new: str):
        path = locate(root, name, old)
        text = path.read_text(encoding="utf-8")
        assert old in text, f"{old!r} not in {name}: the test edits nothing"
        path.write_text(text.replace(old, new, 1), encoding="utf-8")
        return root

    return edit


BROKEN = [
    pytest.param("checklist.toml", 'asked_of = "childbearing"', 'asked_of = "women"',
                 "'asked_of' = 'women' is not one of", id="unknown asked_of"),
    pytest.param("checklist.toml", 'note_level = "routine"', 'note_level = "urgent"',
                 "never pushed", id="note level that would be pushed"),
    pytest.param("checklist.toml", 'note_level = "routine"', 'note_level = "none"',
                 "must be above 'none'", id="note level none"),
    pytest.param("checklist.toml", 'note_level = "routine"\n', "",
                 "missing 'note_level'", id="note level missing"),
    pytest.param("texts/de.toml", 'signs = ["Bluthusten", ', 'signs = [',
                 "questions.emergency.breath_chest.signs must have 3 entries", id="translation list too short"),
    pytest.param("texts/it.toml", 'signs = ["tosse con sangue"', 'signs = ["  "',
                 "questions.emergency.breath_chest.signs[0] is empty", id="empty list entry"),
    pytest.param("texts/es.toml", 'signs = ["toser sangre", "falta de aire", "dolor en el pecho"]',
                 'signs = "toser sangre"', "must be a non-empty list", id="translation not a list"),
    pytest.param("texts/en.toml", 'signs = ["coughing up blood"', 'signs = [""',
                 "en.toml: questions.emergency.breath_chest.signs[0] is empty", id="empty English entry"),
]


@pytest.mark.parametrize(("name", "old", "new", "message"), BROKEN)
def test_broken_checklist_content_fails_naming_the_place(broken, name, old, new, message):
    root = broken(name, old, new)
    with pytest.raises(ContentError) as caught:
        load_content(root)
    assert message in str(caught.value)


def test_a_list_outside_the_checklist_texts_is_refused(broken):
    root = broken("texts/en.toml", 'blood = "Bleeding"', 'blood = ["Bleeding", "Blood"]')
    with pytest.raises(ContentError) as caught:
        load_content(root)
    assert "groups.blood is a list" in str(caught.value)


# --- alemtrack triage with a note (API.md section 1) ---------------------------------------

DOC = {"patient": {"sex": "female", "childbearing_potential": True}, "courses": [{"infusions": COURSE_1}],
       "answered_on": "2026-06-01", "answers": {}}


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        pytest.param({}, {"level": "none", "reasons": []}, id="no note field (v1 documents)"),
        pytest.param({"note": None}, {"level": "none", "reasons": []}, id="note null"),
        pytest.param({"note": " \n "}, {"level": "none", "reasons": []}, id="white space note"),
        pytest.param({"note": "tired"}, {"level": "routine", "reasons": ["note"]}, id="a note"),
        pytest.param({"note": "tired", "answers": {"infection.shingles": True}},
                     {"level": "urgent", "reasons": ["infection.shingles"]}, id="a note and an urgent yes"),
        pytest.param({"note": "?", "answers": {"pregnancy.possible": True}},
                     {"level": "soon", "reasons": ["pregnancy.possible"]}, id="pregnancy.possible"),
    ],
)
def test_triage_document_note(extra, expected):
    assert triage_document({**DOC, **extra}, CONTENT) == expected


@pytest.mark.parametrize("note", [5, True, ["a"], {"text": "a"}])
def test_triage_document_refuses_a_note_that_is_not_text(note):
    with pytest.raises(InputError) as caught:
        triage_document({**DOC, "note": note}, CONTENT)
    assert caught.value.field == "note"


def test_cli_triage_with_a_note():
    done = alemtrack("triage", "-", stdin=json.dumps({**DOC, "note": "I felt dizzy once"}))
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"level": "routine", "reasons": ["note"]}


def test_cli_triage_with_a_bad_note_exits_2_naming_it():
    assert_bad_input(alemtrack("triage", "-", stdin=json.dumps({**DOC, "note": 3})), "note")


def test_cli_triage_pregnancy_question_without_childbearing_potential_exits_2():
    doc = {**DOC, "patient": {"sex": "female"}, "answers": {"pregnancy.possible": False}}
    assert_bad_input(alemtrack("triage", "-", stdin=json.dumps(doc)), "answers.pregnancy.possible")
