"""The kernel equivalence tests run the *parallel* compilation of every parallel kernel, whatever the size of
the arrays Hypothesis draws (small arrays otherwise take the serial twin, ``_compile.PARALLEL_MIN_ELEMENTS``),
and split the kernels that run on the runtime's pool into slices of the batch however few the elements.
The serial twins run in every other test of the suite (nn, viz, the op specs), which compare with PyTorch."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from tapegrad.autograd import runtime
from tapegrad.autograd.kernels import _compile


@pytest.fixture(autouse=True)
def parallel_kernels(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(_compile, "PARALLEL_MIN_ELEMENTS", 0)
    monkeypatch.setattr(runtime, "MIN_ELEMENTS_PER_THREAD", 1)  # kernels split over the pool's threads split
    yield
