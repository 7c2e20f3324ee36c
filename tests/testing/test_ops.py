"""The built-in ops' tests, generated from the registry: one test per ``OpSpec``, on every device.

Adding an op is adding its spec; this file does not change.  Under the ``ci`` profile each spec draws 8
examples (the 25 of the profile, times ~40 specs, times two devices, would cost minutes for little: the
hand-written tests keep covering the op-specific properties); ``heavy`` draws the profile's 400.
"""

from __future__ import annotations

import pytest
from hypothesis import settings

from tapegrad.testing import check_spec, ops

SPEC_EXAMPLES = 8 if settings.default.max_examples <= 25 else settings.default.max_examples
# on the (emulated) GPU the math is the same code: a few examples check that every op runs there
DEVICE_EXAMPLES = 3 if settings.default.max_examples <= 25 else settings.default.max_examples


# Failures these checks found, left for their owners to fix; strict, so a fix turns them into a reminder.
KNOWN = {
    ("cuda", "erf"): "erf on the GPU imports cupyx.scipy.special directly; the emulated CuPy has no cupyx.scipy",
    ("cuda", "gelu"): "gelu uses erf (see erf on cuda)",
}


@pytest.mark.parametrize("name", ops.names())
def test_spec(name: str, device: str, request: pytest.FixtureRequest) -> None:
    if (device, name) in KNOWN:
        request.applymarker(pytest.mark.xfail(strict=True, reason=KNOWN[device, name]))
    check_spec(ops.get(name), max_examples=SPEC_EXAMPLES if device == "cpu" else DEVICE_EXAMPLES, device=device)


def test_registry_is_not_empty_and_names_are_unique() -> None:
    names = ops.names()
    assert len(names) == len(set(names))
    assert {"conv2d", "max_pool2d", "avg_pool2d", "cross_entropy"} <= set(names)
