"""The texts of every language: what each must hold, and that translations match English."""

from __future__ import annotations

import string
from pathlib import Path
from types import MappingProxyType
from typing import Any, Mapping

from ..errors import ContentError
from .model import (
    ANCHORS,
    APPLIES_TO,
    ASKED_OF,
    DEFAULT_LANGUAGE,
    LAB_TESTS,
    LANGUAGES,
    REMINDER_AUDIENCES,
    REMINDER_REPEATS,
    ROUTES,
    SCOPES,
    SETTING_TYPES,
    WEEKDAYS,
    ItemRule,
    LabRule,
    ReminderStep,
    Setting,
)
from .reading import read_toml
from .settings import UNIT_SETTING_PREFIX


def load_texts(root: Path, folder: str, required: dict[str, set[str]],
               variants: Mapping[str, set[str]] | None = None) -> Mapping[str, Mapping[str, Any]]:
    """Every language's texts of protocol ``folder``, checked against the codes content/ defines.

    A language's texts are content/shared/texts/<language>.toml and
    content/<folder>/texts/<language>.toml together; a key is in one of them
    only. ``required`` maps a text section (``items``, ``questions``...) to the
    codes it must hold. English must hold exactly those; every other language
    must hold exactly English's keys with the same placeholders. ``variants``
    maps an item code to the word variants (sub-tables) its English text must hold.
    """
    texts = {}
    for part in (SHARED_TEXTS, f"{folder}/texts"):
        present = sorted(path.stem for path in (root / part).glob("*.toml"))
        for language in present:
            if language not in LANGUAGES:
                raise ContentError(
                    f"content/{part}/{language}.toml: unknown language; supported: {', '.join(LANGUAGES)}"
                )
        for language in LANGUAGES:
            name = f"{part}/{language}.toml"
            if language not in present:
                raise ContentError(f"content/{name}: missing translation file")
            texts[language] = _merged(texts.get(language, {}), read_toml(root, name), f"content/{name}")
    names = {language: f"content/{folder}/texts/{language}.toml" for language in LANGUAGES}

    english = texts[DEFAULT_LANGUAGE]
    for section, codes in required.items():
        node = english
        for part in section.split("."):  # "sheet.who" is the table [sheet.who]
            node = node.get(part, {}) if isinstance(node, dict) else {}
        have = set(node) if isinstance(node, dict) else set()
        if codes - have:
            raise ContentError(
                f"{names['en']}: [{section}] has no text for {', '.join(sorted(codes - have))}"
            )
        if have - codes:
            raise ContentError(
                f"{names['en']}: [{section}] has text for unknown code(s) "
                f"{', '.join(sorted(have - codes))}"
            )
    check_item_variants(english.get("items", {}), variants or {})
    reference = dict(_leaves(english))
    for key, english_text in reference.items():
        if isinstance(english_text, list):
            _check_text_list(names["en"], key, english_text, None)
    for language in LANGUAGES[1:]:
        leaves = dict(_leaves(texts[language]))
        name = names[language]
        missing = sorted(set(reference) - set(leaves))
        if missing:
            raise ContentError(f"{name}: missing translation for {', '.join(missing[:5])}")
        extra = sorted(set(leaves) - set(reference))
        if extra:
            raise ContentError(f"{name}: unknown key(s) {', '.join(extra[:5])}")
        for key, english_text in reference.items():
            text = leaves[key]
            if isinstance(english_text, list):
                _check_text_list(name, key, text, english_text)
                continue
            if not isinstance(text, str) or not text.strip():
                raise ContentError(f"{name}: {key} is empty")
            if _placeholders(text) != _placeholders(english_text):
                raise ContentError(
                    f"{name}: {key} must use the placeholders {sorted(_placeholders(english_text))}"
                )
    return MappingProxyType({lang: _freeze(doc) for lang, doc in texts.items()})


#: text sections whose entries may hold a list of short texts (emergency signs:
#: a short lead, "any of these?", and one short item each, shown as a list)
TEXT_LIST_SECTIONS = ("questions", "levels", "items")


#: the texts every protocol shares (sheet labels, analyte names)
SHARED_TEXTS = "shared/texts"


def _merged(into: dict[str, Any], extra: dict[str, Any], name: str, prefix: str = "") -> dict[str, Any]:
    """``into`` with the tables of ``extra`` added; a key both give a value is a defect."""
    out = dict(into)
    for key, value in extra.items():
        path = f"{prefix}.{key}" if prefix else key
        if key in out and isinstance(out[key], dict) and isinstance(value, dict):
            out[key] = _merged(out[key], value, name, path)
        elif key in out:
            raise ContentError(f"{name}: {path} is also in the shared texts; a text lives in one file")
        else:
            out[key] = value
    return out


def _check_text_list(name: str, key: str, value: Any, english: list | None) -> None:
    """A list of non-blank texts, allowed in TEXT_LIST_SECTIONS only; a
    translation has as many entries as English, each with its placeholders."""
    if key.split(".", 1)[0] not in TEXT_LIST_SECTIONS:
        raise ContentError(f"{name}: {key} is a list; only [{'], ['.join(TEXT_LIST_SECTIONS)}] may hold lists")
    if not isinstance(value, list) or not value:
        raise ContentError(f"{name}: {key} must be a non-empty list of texts like English's")
    if english is not None and len(value) != len(english):
        raise ContentError(f"{name}: {key} must have {len(english)} entries, as in English; it has {len(value)}")
    for index, entry in enumerate(value):
        if not isinstance(entry, str) or not entry.strip():
            raise ContentError(f"{name}: {key}[{index}] is empty")
        if english is not None and _placeholders(entry) != _placeholders(english[index]):
            raise ContentError(
                f"{name}: {key}[{index}] must use the placeholders {sorted(_placeholders(english[index]))}"
            )


def _leaves(node: Mapping[str, Any], prefix: str = ""):
    for key, value in node.items():
        path = f"{prefix}.{key}" if prefix else key
        if isinstance(value, dict):
            yield from _leaves(value, path)
        else:
            yield path, value


def _placeholders(text: str) -> set[str]:
    return {field for _, field, _, _ in string.Formatter().parse(text) if field}


def _freeze(node: Any) -> Any:
    if isinstance(node, dict):
        return MappingProxyType({key: _freeze(value) for key, value in node.items()})
    if isinstance(node, list):
        return tuple(node)
    return node


def sheet_texts(protocols: tuple[str, ...], items: tuple[ItemRule, ...], rules: tuple[LabRule, ...],
                 settings: Mapping[str, Setting], reminders: Mapping[str, tuple[ReminderStep, ...]]
                 ) -> dict[str, set[str]]:
    """What texts.*.toml [sheet] must hold: the protocol sheet (sheet.py) says every
    code of content/ through these tables, so a new code needs its words there."""
    from ..sheet import SHEET_LABELS  # sheet.py reads Content: imported when loading

    tables = {
        "protocols": set(protocols),
        "scopes": set(SCOPES),
        "anchors": set(ANCHORS),
        "offsets": {f"{anchor}_{way}" for anchor in ANCHORS for way in ("on", "before", "after")},
        "who": set(APPLIES_TO) | set(ASKED_OF),
        "tests": set(LAB_TESTS),
        "follow_up": {rule.follow_up for rule in rules},
        "reminder_anchors": {f"{step.anchor}_{way}" for steps in reminders.values() for step in steps
                             for way in ("on", "before", "after")},
        "repeats": set(REMINDER_REPEATS),
        "audiences": set(REMINDER_AUDIENCES),
        "setting_types": set(SETTING_TYPES),
        # the usual-unit settings are made from labs.toml: the sheet words them with one label
        "settings": {name for name in settings if not name.startswith(UNIT_SETTING_PREFIX)},
        "month_names": {str(month) for month in range(1, 13)},
        # the proposed course (CLINICAL.md 7.1, [proposal])
        "routes": set(ROUTES),
        "weekdays": set(WEEKDAYS),
    }
    return {"sheet": set(SHEET_LABELS) | set(tables), **{f"sheet.{name}": codes for name, codes in tables.items()}}


def check_item_variants(english_items: Mapping[str, Any], variants: Mapping[str, set[str]]) -> None:
    """An item with ``words_by`` has, in English (the other languages follow it),
    a sub-table for every choice of its setting but the default, with the keys
    of the item's own words; an item without has no sub-table."""
    for code, node in english_items.items():
        tables = {key for key, value in node.items() if isinstance(value, dict)}
        wanted = variants.get(code, set())
        if tables != wanted:
            raise ContentError(
                f"content/texts/en.toml: [items.\"{code}\"] needs word variants for "
                f"{', '.join(sorted(wanted)) or 'no setting'}; found {', '.join(sorted(tables)) or 'none'}"
            )
        keys = {key for key, value in node.items() if not isinstance(value, dict)}
        for choice in wanted:
            if set(node[choice]) != keys:
                raise ContentError(
                    f"content/texts/en.toml: [items.\"{code}\".{choice}] must have the keys "
                    f"{', '.join(sorted(keys))}"
                )
