"""Row-wise log-softmax and the fused cross-entropy forward: compiled == NumPy to rounding (exp/log)."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from tapegrad.autograd import kernels
from tapegrad.autograd.kernels import softmax

from .strategies import DTYPES, assert_same, float_arrays


def _tol(dtype) -> float:  # noqa: ANN001
    return 1e-5 if dtype == np.float32 else 1e-12


@given(st.data(), st.integers(1, 9), st.integers(1, 13), st.sampled_from(DTYPES), st.sampled_from([1.0, 1e4]))
def test_log_softmax(data, m, c, dtype, scale) -> None:  # noqa: ANN001
    rows = data.draw(float_arrays((m, c), dtype)) * dtype(scale)
    with np.errstate(invalid="ignore", over="ignore"):
        expected = softmax.log_softmax_numpy(rows)
        assert_same(softmax.log_softmax_compiled(rows), expected, rtol=_tol(dtype), atol=_tol(dtype))
        assert_same(kernels.log_softmax(rows), expected, rtol=_tol(dtype), atol=_tol(dtype))


@given(st.data(), st.integers(1, 9), st.integers(1, 13), st.sampled_from(DTYPES))
def test_cross_entropy(data, m, c, dtype) -> None:  # noqa: ANN001
    rows = data.draw(float_arrays((m, c), dtype))
    a = np.abs(data.draw(float_arrays((m, c), dtype, special=False)))
    with np.errstate(invalid="ignore", over="ignore"):
        losses, prob = softmax.cross_entropy_numpy(rows, a)
        for ours in (softmax.cross_entropy_compiled(rows, a), kernels.cross_entropy(rows, a)):
            assert_same(ours[0], losses, rtol=_tol(dtype), atol=_tol(dtype))
            assert_same(ours[1], prob, rtol=_tol(dtype), atol=_tol(dtype))
