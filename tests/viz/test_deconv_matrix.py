"""The slides' worked example, and the three faces of deconvolution: matrix, conv_transpose2d, vjp."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from tapegrad.autograd import Tensor, grad
from tapegrad.nn.functional import max_pool2d
from tapegrad.nn.functional.conv import conv2d, conv_transpose2d
from tapegrad.viz import conv_matrix, deconv_matrix, deconvolve, max_pool_switches, unpool

from tests.support import assert_close, random_like

SLIDE_INPUT = np.array(
    [
        [0.10, 0.15, 0.20, 0.25, 0.30],
        [0.35, 0.40, 0.45, 0.55, 0.60],
        [0.65, 0.70, 0.75, 0.80, 0.85],
        [0.90, 0.95, 0.10, 0.15, 0.20],
        [0.25, 0.30, 0.35, 0.40, 0.45],
    ]
)
SLIDE_KERNEL = np.array([[0.1, 0.2], [0.3, 0.4]])
SLIDE_CONV = np.array(
    [
        [0.305, 0.355, 0.425, 0.490],
        [0.590, 0.640, 0.700, 0.755],
        [0.855, 0.545, 0.325, 0.375],
        [0.475, 0.345, 0.305, 0.355],
    ]
)
SLIDE_POOLED = np.array([[0.64, 0.70, 0.755], [0.855, 0.70, 0.755], [0.855, 0.545, 0.375]])
SLIDE_UNPOOLED = np.array([[0, 0, 0, 0], [0, 0.64, 0.70, 0.755], [0.855, 0.545, 0, 0.375], [0, 0, 0, 0]])
SLIDE_DECONV = np.array(
    [
        [0, 0, 0, 0, 0],
        [0, 0.064, 0.198, 0.2155, 0.151],
        [0.0855, 0.4175, 0.575, 0.544, 0.377],
        [0.2565, 0.5055, 0.218, 0.1125, 0.15],
        [0, 0, 0, 0, 0],
    ]
)


def test_slides_forward_numbers_and_matrix_shapes() -> None:
    m = conv_matrix(SLIDE_KERNEL, SLIDE_INPUT.shape)
    assert m.shape == (16, 25) and deconv_matrix(SLIDE_KERNEL, SLIDE_INPUT.shape).shape == (25, 16)
    np.testing.assert_allclose(m[0, :7], [0.1, 0.2, 0, 0, 0, 0.3, 0.4])  # the slide's first row
    np.testing.assert_allclose(m[1, :8], [0, 0.1, 0.2, 0, 0, 0, 0.3, 0.4])  # and the next one
    np.testing.assert_allclose((m @ SLIDE_INPUT.ravel()).reshape(4, 4), SLIDE_CONV, atol=1e-12)
    pooled, _ = max_pool_switches(SLIDE_CONV, 2, stride=1)
    np.testing.assert_allclose(pooled, SLIDE_POOLED)


def test_slides_unpooling_and_deconvolution() -> None:
    """The slides' max-unpooling and deconvolution, exactly.

    Pooling the 4x4 conv output with 2x2 windows at stride 1 overlaps: the windows (0,1) and (1,1) both pick
    the 0.70 at (1,2), (0,2) and (1,2) both pick 0.755 at (1,3), (1,0) and (2,0) both pick 0.855 at (2,0).
    The slides show each of those values *once* at its switch, so their unpooling writes (overwrites) rather
    than adds: ``unpool(..., accumulate=False)``.  With accumulation (the adjoint of max pooling, which the
    deconvnet walk uses so that it equals backprop with the relu rule replaced) those three places would hold
    1.40, 1.51 and 1.71 instead; we check that too, so the difference is explicit.  The deconvolution of the
    slides' unpooled map with the kernel is then the 5x5 result on the slides, by the 25x16 matrix, by
    ``conv_transpose2d`` and by the vjp of ``conv2d``.
    """
    pooled, switches = max_pool_switches(SLIDE_CONV, 2, stride=1)
    written = unpool(SLIDE_POOLED, switches, (4, 4), accumulate=False)
    np.testing.assert_allclose(written, SLIDE_UNPOOLED, atol=1e-12)
    added = unpool(SLIDE_POOLED, switches, (4, 4), accumulate=True)
    np.testing.assert_allclose(added[1, 2], 1.40), np.testing.assert_allclose(added[1, 3], 1.51)
    np.testing.assert_allclose(added[2, 0], 1.71)
    np.testing.assert_allclose(added[added != written], 2 * written[added != written])

    # tapegrad's max_pool2d records the same switches; PyTorch's max_unpool2d writes too (the slides' numbers)
    _, indices = max_pool2d(Tensor(SLIDE_CONV[None, None]), 2, stride=1, return_indices=True)
    np.testing.assert_array_equal(indices.numpy()[0, 0], switches)
    theirs = torch.nn.functional.max_unpool2d(
        torch.tensor(SLIDE_POOLED[None, None]), torch.tensor(switches[None, None]), 2, 1, output_size=(4, 4)
    )
    np.testing.assert_allclose(theirs.numpy()[0, 0], SLIDE_UNPOOLED, atol=1e-12)

    np.testing.assert_allclose(deconvolve(written, SLIDE_KERNEL, (5, 5)), SLIDE_DECONV[None], atol=1e-12)
    w = Tensor(SLIDE_KERNEL[None, None])
    y = Tensor(written[None, None])
    np.testing.assert_allclose(conv_transpose2d(y, w).numpy()[0, 0], SLIDE_DECONV, atol=1e-12)
    x = Tensor(SLIDE_INPUT[None, None], requires_grad=True)
    (vjp,) = grad(conv2d(x, w), x, grad_outputs=y)
    np.testing.assert_allclose(vjp.numpy()[0, 0], SLIDE_DECONV, atol=1e-12)


def test_slides_rounded_deconvolution_as_printed() -> None:
    """The slide prints the deconvolution rounded to 3 decimals (0.215, 0.085, 0.417, ...)."""
    printed = np.array(
        [
            [0, 0, 0, 0, 0],
            [0, 0.064, 0.198, 0.215, 0.151],
            [0.085, 0.417, 0.575, 0.544, 0.377],
            [0.256, 0.505, 0.218, 0.112, 0.150],
            [0, 0, 0, 0, 0],
        ]
    )
    ours = deconvolve(SLIDE_UNPOOLED, SLIDE_KERNEL, (5, 5))[0]
    np.testing.assert_allclose(np.floor(ours * 1000 + 1e-9) / 1000, printed, atol=1e-12)


@st.composite
def conv_cases(draw: st.DrawFn) -> tuple:
    kh, kw = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    sh, sw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    ph, pw = draw(st.integers(0, kh - 1)), draw(st.integers(0, kw - 1))
    h = draw(st.integers(max(kh - 2 * ph, 1), 9))
    w = draw(st.integers(max(kw - 2 * pw, 1), 9))
    c_in, c_out = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    seed = draw(st.integers(0, 2**16))
    return (c_in, c_out, h, w, kh, kw, (sh, sw), (ph, pw), dtype, seed)


@settings(max_examples=25)
@given(conv_cases())
def test_matrix_equals_conv_transpose_equals_conv_vjp(case: tuple) -> None:
    """Non-square inputs, kernels, strides, paddings: M @ x == conv2d, M.T @ g == conv_transpose2d == vjp."""
    c_in, c_out, h, w, kh, kw, stride, padding, dtype, seed = case
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((1, c_in, h, w)).astype(dtype)
    weight = rng.standard_normal((c_out, c_in, kh, kw)).astype(dtype)
    m = conv_matrix(weight, (c_in, h, w), stride, padding)
    xt = Tensor(x, requires_grad=True)
    y = conv2d(xt, Tensor(weight), stride=stride, padding=padding)
    assert_close(m @ x.ravel(), y.numpy().ravel(), dtype)
    g = random_like(y.shape, dtype, seed)
    by_matrix = (deconv_matrix(weight, (c_in, h, w), stride, padding) @ g.ravel()).reshape(x.shape)
    (vjp,) = grad(y, xt, grad_outputs=Tensor(g))
    assert_close(vjp, by_matrix, dtype)
    # conv_transpose2d needs output_padding to land on the exact input size when the stride skips pixels
    out_pad = tuple(
        size - ((n - 1) * s - 2 * p + k)
        for size, n, s, p, k in zip((h, w), y.shape[2:], stride, padding, (kh, kw), strict=True)
    )
    ours = conv_transpose2d(Tensor(g), Tensor(weight), stride=stride, padding=padding, output_padding=out_pad)
    assert_close(ours, by_matrix, dtype)
    theirs = torch.nn.functional.conv_transpose2d(
        torch.tensor(g), torch.tensor(weight), stride=stride, padding=padding, output_padding=out_pad
    )
    assert_close(theirs, by_matrix, dtype)


def test_deconv_matrix_errors_name_the_problem() -> None:
    with pytest.raises(ValueError, match="deconv_matrix"):
        conv_matrix(np.ones((3, 3, 3)), (5, 5))
    with pytest.raises(ValueError, match="does not match"):
        conv_matrix(np.ones((1, 2, 2, 2)), (3, 5, 5))
    with pytest.raises(ValueError, match="larger"):
        conv_matrix(np.ones((4, 4)), (2, 2))
