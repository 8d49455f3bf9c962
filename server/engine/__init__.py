"""The pure clinical engine: the rules of content/ as functions of plain values.

Nothing here imports Flask or SQLAlchemy or reads the clock; ``today`` and
``now`` are arguments. tests/unit/test_engine_purity.py enforces it.
"""

from .content.loading import default_content, load_content
from .content.model import Content
from .errors import ContentError, InputError
from .timeline import Item, Timeline, timeline
from .triage import TriageResult, triage

__all__ = [
    "Content",
    "ContentError",
    "InputError",
    "Item",
    "Timeline",
    "TriageResult",
    "default_content",
    "load_content",
    "timeline",
    "triage",
]
