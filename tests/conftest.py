"""Shared test settings: Hypothesis profiles and the device each test runs on.

Profiles: ``ci`` (the default: few examples, no deadline, so the suite stays fast on 2 cores) and ``heavy``
(many more examples).  Pick one with ``TAPEGRAD_HYPOTHESIS_PROFILE=heavy``.
"""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci",
    max_examples=25,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
)
settings.register_profile(
    "heavy",
    max_examples=400,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
)
settings.load_profile(os.environ.get("TAPEGRAD_HYPOTHESIS_PROFILE", "ci"))


def _devices() -> list:
    from tapegrad.autograd.backend import gpu_available

    cuda = pytest.param("cuda", marks=pytest.mark.skipif(not gpu_available(), reason="no GPU (CuPy) available"))
    return ["cpu", cuda]


@pytest.fixture(params=_devices())
def device(request: pytest.FixtureRequest) -> str:
    """Run a test once on the CPU and once on the GPU; the GPU run skips cleanly when there is none."""
    return request.param
