"""Engine throughput: full timelines for 10,000 synthetic patients on one core.

Each patient has 2 to 4 courses a year or more apart and a year of monthly labs
(blood count, creatinine, urinalysis, liver tests, quarterly TSH, a few CD4),
with some falling platelet counts so weekly series run too.

    .venv/bin/python bench/engine.py [--patients N] [--seed S]
        prints timelines per second, items per second and peak memory
    .venv/bin/python -m pytest bench/engine.py --benchmark-only
        the same timeline under pytest-benchmark's statistics

Target (issue 2): at least 1,000 full timelines per second on one core.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import sys
import time
import tracemalloc
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from server.engine.content.loading import default_content  # noqa: E402
from server.engine.inputs import (  # noqa: E402
    Patient,
    check_courses,
    make_course,
    make_lab_result,
    resolve_settings,
)
from server.engine.timeline import timeline  # noqa: E402

CONTENT = default_content()
SETTINGS = resolve_settings({}, CONTENT)


def synthetic_patient(rng: random.Random):
    first = date(2018, 1, 1) + timedelta(days=rng.randrange(0, 6 * 365))
    courses = [make_course([first + timedelta(days=i) for i in range(5)])]
    for _ in range(rng.randint(1, 3)):
        start = courses[-1].last + timedelta(days=rng.randint(365, 500))
        courses.append(make_course([start + timedelta(days=i) for i in range(3)]))
    sex = rng.choice(["female", "male"])
    patient = Patient(
        sex=sex,
        childbearing_potential=sex == "female" and rng.random() < 0.7,
        baseline={"platelets": rng.randint(180, 350), "creatinine": rng.randint(50, 100)},
    )
    labs = []
    for month in range(1, 13):
        taken = first + timedelta(days=30 * month + rng.randint(-3, 3))
        platelets = rng.randint(60, 350) if rng.random() < 0.15 else rng.randint(160, 350)
        values = {
            "platelets": platelets,
            "neutrophils": round(rng.uniform(0.8, 6), 1),
            "lymphocytes": round(rng.uniform(0.3, 3), 1),
            "creatinine": rng.randint(50, 130),
            "urine_blood": rng.choice(["negative"] * 19 + ["positive"]),
            "urine_protein": "negative",
            "alt": rng.randint(10, 80),
            "ast": rng.randint(10, 60),
            "bilirubin": rng.randint(4, 25),
        }
        if month % 3 == 0:
            values["tsh"] = round(rng.uniform(0.2, 5), 2)
            values["cd4"] = rng.randint(100, 600)
        labs.extend(make_lab_result(a, v, taken, CONTENT) for a, v in values.items())
    labs.sort(key=lambda r: r.taken_on)
    return patient, check_courses(courses), tuple(labs)


def run(patients: int, seed: int) -> None:
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})  # one core
    rng = random.Random(seed)
    cohort = [synthetic_patient(rng) for _ in range(patients)]
    results = sum(len(labs) for _, _, labs in cohort)

    tracemalloc.start()
    timeline(*cohort[0], SETTINGS, CONTENT)
    _, one_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    items = 0
    started = time.perf_counter()
    for patient, courses, labs in cohort:
        items += len(timeline(patient, courses, labs, SETTINGS, CONTENT).items)
    elapsed = time.perf_counter() - started

    peak_rss_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"patients:              {patients:,} ({results:,} lab results, 2-4 courses each)")
    print(f"elapsed:               {elapsed:.2f} s on one core")
    print(f"timelines per second:  {patients / elapsed:,.0f}  (target >= 1,000)")
    print(f"items per second:      {items / elapsed:,.0f}  ({items / patients:.0f} items per timeline)")
    print(f"mean per timeline:     {elapsed / patients * 1e3:.3f} ms")
    print(f"peak memory, one timeline (tracemalloc): {one_peak / 1024:.0f} KiB")
    print(f"peak RSS of the process (cohort held in memory): {peak_rss_mib:.0f} MiB")


def test_full_timeline(benchmark):
    """pytest-benchmark: one full timeline of a 4-course patient."""
    rng = random.Random(7)
    patient, courses, labs = max((synthetic_patient(rng) for _ in range(20)),
                                 key=lambda p: len(p[1]))
    result = benchmark(timeline, patient, courses, labs, SETTINGS, CONTENT)
    assert result.items


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=2026)
    arguments = parser.parse_args()
    run(arguments.patients, arguments.seed)
