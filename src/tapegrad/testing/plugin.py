"""pytest plugin (registered under ``pytest11``): ``--tapegrad-profile ci|heavy`` and a ``device`` fixture.

Installed with tapegrad, so a user's own suite gets them with no conftest:

* ``--tapegrad-profile ci`` — 25 examples per property, no deadline, derandomized (reproducible on CI);
  ``heavy`` — 400 random examples, for a nightly run.  Without the option nothing is changed (the
  ``TAPEGRAD_HYPOTHESIS_PROFILE`` environment variable is honoured too).
* ``device`` — runs a test on ``"cpu"`` and on ``"cuda"``; the CUDA run skips cleanly without CuPy or a GPU.

Nothing heavy is imported until the option is used or the fixture requested: pytest loads this module in every
run of an environment where tapegrad is installed.
"""

from __future__ import annotations

import os
from typing import Any

import pytest

PROFILES = ("ci", "heavy")


def register_profiles() -> None:
    """Register the Hypothesis profiles ``tapegrad-ci`` and ``tapegrad-heavy`` (idempotent)."""
    from hypothesis import HealthCheck, settings

    quiet = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much]
    settings.register_profile("tapegrad-ci", max_examples=25, deadline=None, derandomize=True,
                              suppress_health_check=quiet)
    settings.register_profile("tapegrad-heavy", max_examples=400, deadline=None, suppress_health_check=quiet)


def pytest_addoption(parser: Any) -> None:
    group = parser.getgroup("tapegrad")
    group.addoption("--tapegrad-profile", choices=PROFILES, default=None,
                    help="Hypothesis profile for property tests: ci (25 examples, derandomized) or heavy (400)")


def pytest_configure(config: Any) -> None:
    choice = config.getoption("--tapegrad-profile", default=None) or os.environ.get("TAPEGRAD_HYPOTHESIS_PROFILE")
    if choice is None:
        return
    if choice not in PROFILES:
        raise pytest.UsageError(f"TAPEGRAD_HYPOTHESIS_PROFILE must be one of {PROFILES}, got {choice!r}")
    from hypothesis import settings

    register_profiles()
    settings.load_profile(f"tapegrad-{choice}")


@pytest.fixture(params=["cpu", "cuda"])
def device(request: Any) -> str:
    """``"cpu"``, then ``"cuda"`` (skipped when no GPU is available through CuPy)."""
    if request.param == "cuda":
        from tapegrad.autograd.backend import gpu_available

        if not gpu_available():
            pytest.skip("no GPU (CuPy) available")
    return request.param
