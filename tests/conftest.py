"""Hypothesis profiles for the test suite.

* ``ci`` (the default): 60 examples a test, no deadline, derandomize off, so
  every run explores new examples while staying fast.
* ``dev``: 500 examples a test, for a thorough local run.

Choose one with ``HYPOTHESIS_PROFILE=dev python -m pytest``.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci",
    deadline=None,
    max_examples=60,
    derandomize=False,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "dev",
    deadline=None,
    max_examples=500,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
