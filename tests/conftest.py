"""Hypothesis profiles for the test suite.

* ``default`` (a run on your machine): 60 examples a test, no deadline, new
  random examples every run, so local runs keep exploring.
* ``ci`` (chosen by ``.ci/run``): the same budget, derandomized, so a CI run is
  repeatable; an example it ever finds failing is pinned with ``@example``
  next to its test.
* ``dev``: 500 examples a test, for a thorough local run.

Choose one with ``HYPOTHESIS_PROFILE=dev python -m pytest``.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "default",
    deadline=None,
    max_examples=60,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "ci",
    deadline=None,
    max_examples=60,
    derandomize=True,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "dev",
    deadline=None,
    max_examples=500,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))
