"""Batch-norm training forward and backward: compiled == NumPy to rounding (different summation order)."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from tapegrad.autograd import kernels
from tapegrad.autograd.kernels import batchnorm

from .strategies import DTYPES, assert_same, float_arrays


def _tol(dtype) -> float:  # noqa: ANN001
    return 2e-4 if dtype == np.float32 else 1e-10


@given(st.data(), st.integers(1, 4), st.integers(1, 5), st.integers(1, 11), st.sampled_from(DTYPES), st.booleans())
def test_batch_norm(data, n, c, s, dtype, affine) -> None:  # noqa: ANN001
    x = data.draw(float_arrays((n, c, s), dtype, special=False)) * dtype(3) + dtype(1)
    if n * s == 1:
        x = np.zeros((n, c, s), dtype)  # a single value per channel: var 0, output 0
    weight = data.draw(float_arrays((c,), dtype, special=False)) if affine else None
    bias = data.draw(float_arrays((c,), dtype, special=False)) if affine else None
    tol = _tol(dtype)
    expected = batchnorm.batch_norm_forward_numpy(x, weight, bias, 1e-5)
    for ours in (batchnorm.batch_norm_forward_compiled(x, weight, bias, 1e-5),
                 kernels.batch_norm_forward(x, weight, bias, 1e-5)):
        for a, b in zip(ours, expected, strict=True):
            assert_same(a, b, rtol=tol, atol=tol * 10)
    _, mean, invstd, _ = expected
    g = data.draw(float_arrays((n, c, s), dtype, special=False))
    expected = batchnorm.batch_norm_backward_numpy(g, x, mean, invstd, weight)
    for ours in (batchnorm.batch_norm_backward_compiled(g, x, mean, invstd, weight),
                 kernels.batch_norm_backward(g, x, mean, invstd, weight)):
        for a, b in zip(ours, expected, strict=True):
            assert_same(a, b, rtol=tol, atol=tol * 100)
