"""The direct 3x3 convolution (no columns): compiled == NumPy reference, within the dtype's rounding (the sums
run in another order), NaN/inf included."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from tapegrad.autograd import kernels
from tapegrad.autograd.kernels import conv_direct

from .strategies import DTYPES, float_arrays

TOLERANCE = {np.float32: 1e-5, np.float64: 1e-12}


@st.composite
def direct_shapes(draw):  # noqa: ANN001, ANN201
    """(n, c, o, h, w, ph, pw): odd, prime and one-pixel images; padding 0-2 (the output is at least 1x1)."""
    ph, pw = draw(st.integers(0, 2)), draw(st.integers(0, 2))
    h = draw(st.integers(max(1, 3 - 2 * ph), 13))
    w = draw(st.integers(max(1, 3 - 2 * pw), 13))
    return draw(st.integers(1, 3)), draw(st.integers(1, 3)), draw(st.integers(1, 4)), h, w, ph, pw


def _close(got, expected, dtype) -> None:  # noqa: ANN001
    scale = np.nanmax(np.abs(np.where(np.isfinite(expected), expected, 0)), initial=1.0)
    np.testing.assert_allclose(got, expected, rtol=TOLERANCE[dtype], atol=TOLERANCE[dtype] * scale, equal_nan=True)


@given(st.data(), direct_shapes(), st.sampled_from(DTYPES), st.booleans())
def test_conv3x3_forward(data, shape, dtype, with_bias) -> None:  # noqa: ANN001
    n, c, o, h, w, ph, pw = shape
    x = data.draw(float_arrays((n, c, h, w), dtype))  # any layout, NaN/inf included
    weight = data.draw(float_arrays((o, c, 3, 3), dtype, special=False))
    bias = data.draw(float_arrays((o,), dtype, special=False)) if with_bias else None
    outs = {}
    for name, forward in (("compiled", conv_direct.conv3x3_forward_compiled),
                          ("numpy", conv_direct.conv3x3_forward_numpy), ("chosen", kernels.conv3x3_forward)):
        outs[name] = np.full((n, o, h + 2 * ph - 2, w + 2 * pw - 2), 7, dtype)  # every output must be written
        forward(x, weight, bias, outs[name], ph, pw)
    _close(outs["compiled"], outs["numpy"], dtype)
    _close(outs["chosen"], outs["numpy"], dtype)


@given(st.data(), direct_shapes(), st.sampled_from(DTYPES))
def test_conv3x3_weight_grad(data, shape, dtype) -> None:  # noqa: ANN001
    n, c, o, h, w, ph, pw = shape
    x = data.draw(float_arrays((n, c, h, w), dtype))
    grad = data.draw(float_arrays((n, o, h + 2 * ph - 2, w + 2 * pw - 2), dtype))
    outs = {}
    for name, weight_grad in (("compiled", conv_direct.conv3x3_weight_grad_compiled),
                              ("numpy", conv_direct.conv3x3_weight_grad_numpy),
                              ("chosen", kernels.conv3x3_weight_grad)):
        outs[name] = np.full((o, c, 3, 3), 7, dtype)  # written, not added to
        weight_grad(grad, x, outs[name], ph, pw)
    _close(outs["compiled"], outs["numpy"], dtype)
    _close(outs["chosen"], outs["numpy"], dtype)


def test_conv3x3_weight_grad_bits_depend_only_on_the_samples() -> None:
    """The same samples give the same bits, whichever buffer or call they come through (the weight gradient's
    blocks rely on it for thread-count independence)."""
    rng = np.random.default_rng(3)
    x = rng.standard_normal((4, 2, 70, 70)).astype(np.float32)
    grad = rng.standard_normal((4, 3, 70, 70)).astype(np.float32)
    first, second = np.empty((3, 2, 3, 3), np.float32), np.empty((3, 2, 3, 3), np.float32)
    kernels.conv3x3_weight_grad(grad, x, first, 1, 1)
    kernels.conv3x3_weight_grad(grad.copy(), np.asfortranarray(x), second, 1, 1)
    np.testing.assert_array_equal(first, second)
