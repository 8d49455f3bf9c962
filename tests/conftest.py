"""Shared test set-up.

Hypothesis runs without a deadline: a timing limit inside a test is a timed
assertion, which this project keeps out of its suite (bench/ measures speed).
"""

from hypothesis import HealthCheck, settings

settings.register_profile(
    "alemtrack",
    deadline=None,
    max_examples=150,
    suppress_health_check=[HealthCheck.too_slow],
    derandomize=False,
)
settings.load_profile("alemtrack")
