"""What dumping an answer through its @output schema costs, against plain JSON.

The API sends the few largest lists (a timeline, the flag queue, lab results,
checklists, the patient list, deliveries, the export) as built, and every other
answer through the marshmallow schema that documents it (docs/decisions.md,
"Responses"). This prints the figures behind that line, in-process, no database:

    .venv/bin/python bench/serialize.py
"""

from __future__ import annotations

import json
import timeit

from server.api.schemas import ChecklistResultOut, TimelineOut


def per_call(function, number: int) -> float:
    """Seconds per call, the best of five rounds of ``number`` calls."""
    return min(timeit.repeat(function, number=number, repeat=5)) / number


def main() -> None:
    item = {"code": "lab.cbc", "kind": "lab", "title": "Blood count test", "due": "2027-01-01",
            "course": 1, "status": "upcoming", "tracked": True}
    rows = []
    for size in (100, 600):
        body = {"items": [dict(item) for _ in range(size)], "monitoring_ends": "2031-01-01"}
        schema = TimelineOut()
        rows.append((f"timeline, {size} items", per_call(lambda: json.dumps(schema.dump(body)), 20),
                     per_call(lambda: json.dumps(body), 20)))
    result = {"id": 1, "level": "urgent", "reasons": ["bleed.mucosal"], "flag_id": 3,
              "advice": {"level": "urgent", "text": "Call your MS team today.", "phone": "+34 900 000 000",
                         "emergency_number": "112"}}
    schema = ChecklistResultOut()
    rows.append(("checklist result", per_call(lambda: json.dumps(schema.dump(result)), 5000),
                 per_call(lambda: json.dumps(result), 5000)))
    print(f"{'answer':<24} {'schema dump + JSON':>20} {'JSON only':>12}")
    for name, dumped, plain in rows:
        print(f"{name:<24} {dumped * 1e3:>17.3f} ms {plain * 1e3:>9.3f} ms")


if __name__ == "__main__":
    main()
