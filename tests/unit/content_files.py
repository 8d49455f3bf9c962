"""Where a content file of the old flat layout lives now (content/shared, content/ms).

Tests that break a copy of content/ name a file as before ("labs.toml",
"texts/en.toml"); ``locate`` finds the MS protocol's or the shared file that
holds the text to replace.
"""

from __future__ import annotations

from pathlib import Path

SHARED = ("sources.toml", "settings.toml", "analytes.toml")


def locate(root: Path, name: str, old: str | None = None) -> Path:
    """The file of ``root`` that ``name`` means and that contains ``old``."""
    if "/" in name and not name.startswith("texts/"):
        return root / name
    candidates = [root / "shared" / name, root / "ms" / name] if name not in SHARED else [root / "shared" / name]
    if name == "labs.toml":
        candidates = [root / "ms" / "labs.toml", root / "shared" / "analytes.toml"]
    for path in candidates:
        if path.exists() and (old is None or old in path.read_text(encoding="utf-8")):
            return path
    return candidates[-1]
