"""Sums over all axes but one: compiled == NumPy to rounding (float64 accumulation against pairwise float32)."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from tapegrad.autograd import Tensor, kernels
from tapegrad.autograd.kernels import reduction

from .strategies import DTYPES, assert_same, float_arrays


@given(st.data(), st.integers(1, 5), st.integers(1, 9), st.integers(1, 40), st.sampled_from(DTYPES), st.booleans(),
       st.sampled_from(["contiguous", "negative strides", "every other row"]))
def test_channel_sum(data, outer, c, inner, dtype, special, layout) -> None:  # noqa: ANN001
    x = data.draw(float_arrays((outer, 2 * c, inner), dtype, special=special))
    layouts = {"contiguous": np.ascontiguousarray(x[:, :c]), "negative strides": x[::-1, c:, ::-1],
               "every other row": x[:, ::2]}
    x = layouts[layout]
    expected = reduction.channel_sum_numpy(x)
    tol = 1e-5 if dtype == np.float32 else 1e-12
    for ours in (reduction.channel_sum_compiled(x), kernels.channel_sum(x)):
        assert ours.dtype == x.dtype and ours.shape == (c,)
        assert_same(ours, expected, rtol=tol, atol=tol * outer * inner)


def test_channel_sum_of_a_transposed_view() -> None:
    x = np.arange(2 * 3 * 4, dtype=np.float32).reshape(4, 3, 2).transpose(2, 1, 0)
    assert_same(kernels.channel_sum(x), x.sum(axis=(0, 2)), rtol=0, atol=0)


def test_tensor_sum_over_all_axes_but_one_uses_it_and_keeps_numpys_shapes() -> None:
    """``Tensor.sum`` over every axis but one (large enough for the kernel): values, keepdim and the gradient."""
    x = np.random.default_rng(0).standard_normal((4, 8, 32, 33)).astype(np.float32)
    for dim, keep in (((0, 2, 3), False), ((0, 2, 3), True), ((0, 1, 2), False), ((1, 2, 3), True)):
        t = Tensor(x, requires_grad=True)
        out = t.sum(dim, keepdim=keep)
        reference = x.astype(np.float64).sum(axis=dim, keepdims=keep)
        assert out.shape == reference.shape and out.dtype == np.float32
        assert_same(out.numpy(), reference.astype(np.float32), rtol=1e-5, atol=1e-3)
        out.backward(Tensor(np.ones(out.shape, np.float32)))
        assert_same(t.grad.numpy(), np.ones_like(x), rtol=0, atol=0)
    transposed = Tensor(np.ascontiguousarray(x.transpose(1, 0, 2, 3))).transpose(0, 1)  # a non-contiguous view
    assert_same(transposed.sum((0, 2, 3)).numpy(), x.sum(axis=(0, 2, 3)), rtol=1e-5, atol=1e-3)
