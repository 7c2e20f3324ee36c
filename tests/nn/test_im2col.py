"""``im2col``/``col2im`` against ``torch.nn.functional.unfold``/``fold``, and their adjointness."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import assume, given
from hypothesis import strategies as st
from tapegrad.autograd import Tensor, grad
from tapegrad.autograd.errors import ShapeError
from tapegrad.nn import functional as F

from tests.support import assert_close, random_like

DTYPES = [np.float32, np.float64]


@st.composite
def windows(draw):
    """A (possibly non-square) input and window geometry whose output is non-empty."""
    n, c = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    h, w = draw(st.integers(1, 8)), draw(st.integers(1, 8))
    kernel = (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    dilation = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    padding = (draw(st.integers(0, 2)), draw(st.integers(0, 2)))
    for size, k, p, d in zip((h, w), kernel, padding, dilation, strict=True):
        assume(size + 2 * p >= d * (k - 1) + 1)
    return (n, c, h, w), kernel, stride, padding, dilation


def _torch_args(kernel, stride, padding, dilation):
    return dict(kernel_size=kernel, dilation=dilation, padding=padding, stride=stride)


@pytest.mark.parametrize("dtype", DTYPES)
@given(config=windows(), seed=st.integers(0, 2**16))
def test_im2col_matches_unfold(dtype, config, seed):
    shape, kernel, stride, padding, dilation = config
    x = random_like(shape, dtype, seed)
    ours = Tensor(x, requires_grad=True)
    theirs = torch.tensor(x, requires_grad=True)
    out = F.im2col(ours, kernel, stride, padding, dilation)
    ref = torch.nn.functional.unfold(theirs, **_torch_args(kernel, stride, padding, dilation))
    assert_close(out, ref, dtype)
    g = random_like(out.shape, dtype, seed + 1)
    (gx,) = grad(out, [ours], Tensor(g))
    (rx,) = torch.autograd.grad(ref, [theirs], torch.tensor(g))
    assert_close(gx, rx, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@given(config=windows(), seed=st.integers(0, 2**16))
def test_col2im_matches_fold(dtype, config, seed):
    shape, kernel, stride, padding, dilation = config
    cols_shape = tuple(F.im2col(Tensor(np.zeros(shape, dtype)), kernel, stride, padding, dilation).shape)
    cols = random_like(cols_shape, dtype, seed)
    ours = Tensor(cols, requires_grad=True)
    theirs = torch.tensor(cols, requires_grad=True)
    out = F.col2im(ours, shape[2:], kernel, stride, padding, dilation)
    ref = torch.nn.functional.fold(theirs, shape[2:], **_torch_args(kernel, stride, padding, dilation))
    assert_close(out, ref, dtype)
    g = random_like(shape, dtype, seed + 1)
    (gc,) = grad(out, [ours], Tensor(g))
    (rc,) = torch.autograd.grad(ref, [theirs], torch.tensor(g))
    assert_close(gc, rc, dtype)


@given(config=windows(), seed=st.integers(0, 2**16))
def test_col2im_is_the_adjoint_of_im2col(config, seed):
    """<col2im(a), b> == <a, im2col(b)> for random a and b (float64)."""
    shape, kernel, stride, padding, dilation = config
    b = random_like(shape, np.float64, seed)
    cols_b = F.im2col(Tensor(b), kernel, stride, padding, dilation)
    a = random_like(cols_b.shape, np.float64, seed + 1)
    folded = F.col2im(Tensor(a), shape, kernel, stride, padding, dilation)
    lhs = float((folded.numpy() * b).sum())
    rhs = float((a * cols_b.numpy()).sum())
    np.testing.assert_allclose(lhs, rhs, rtol=1e-10, atol=1e-10 * (1 + np.abs(a).sum() * np.abs(b).max()))


def test_im2col_second_order_matches_torch():
    """Gradients of gradients flow through the Im2Col/Col2Im pair (each the other's vjp)."""
    rng = np.random.default_rng(5)
    x, v = rng.standard_normal((2, 3, 6, 5)), rng.standard_normal((2, 3 * 2 * 3, 4 * 3))
    kw = dict(kernel_size=(2, 3), stride=(2, 1), padding=(1, 0), dilation=(1, 1))
    ours = [Tensor(a, requires_grad=True) for a in (x, v)]
    theirs = [torch.tensor(a, requires_grad=True) for a in (x, v)]
    out = F.im2col(ours[0], **kw)
    ref = torch.nn.functional.unfold(theirs[0], **kw)
    (gx,) = grad((out * ours[1]).sum() ** 2, [ours[0]], create_graph=True)
    (rx,) = torch.autograd.grad((ref * theirs[1]).sum() ** 2, [theirs[0]], create_graph=True)
    weight = rng.standard_normal(x.shape)
    second = grad((gx * Tensor(weight)).sum(), ours)
    ref_second = torch.autograd.grad((rx * torch.tensor(weight)).sum(), theirs)
    for a, r in zip(second, ref_second, strict=True):
        assert_close(a, r, np.float64)


def test_im2col_runs_on_device(device):
    x = random_like((2, 3, 5, 4), np.float32, 1)
    out = F.im2col(Tensor(x, device=device), (3, 2), 1, 1, 1)
    assert out.device == device
    ref = torch.nn.functional.unfold(torch.tensor(x), (3, 2), padding=1)
    assert_close(out, ref, np.float32)
    back = F.col2im(out, (5, 4), (3, 2), 1, 1, 1)
    assert_close(back, torch.nn.functional.fold(ref, (5, 4), (3, 2), padding=1), np.float32)


def test_im2col_errors_name_the_op_and_shapes():
    with pytest.raises(ShapeError, match=r"im2col: expected a 4-D .*float32\[3, 4\]"):
        F.im2col(Tensor(np.zeros((3, 4), np.float32)), 2)
    with pytest.raises(ShapeError, match=r"im2col: the kernel \(5x5.*larger than the padded input \(4x4"):
        F.im2col(Tensor(np.zeros((1, 1, 4, 4), np.float32)), 5)
    with pytest.raises(ValueError, match="im2col: stride must be positive"):
        F.im2col(Tensor(np.zeros((1, 1, 4, 4), np.float32)), 2, stride=0)
    with pytest.raises(ValueError, match="im2col: padding must be at least 0"):
        F.im2col(Tensor(np.zeros((1, 1, 4, 4), np.float32)), 2, padding=-1)
    with pytest.raises(ShapeError, match=r"col2im: expected columns of shape \(N, C\*2\*2, 3\*3\)"):
        F.col2im(Tensor(np.zeros((1, 5, 9), np.float32)), (4, 4), 2)
