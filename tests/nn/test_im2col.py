"""``im2col``/``col2im``: their adjointness and their errors.

Values, gradients, second order and devices against ``torch.nn.functional.unfold``/``fold`` are the generated
checks of their specs (``tests/testing/test_ops.py``, specs ``im2col`` and ``col2im``)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from tapegrad.autograd import Tensor
from tapegrad.autograd.errors import ShapeError
from tapegrad.nn import functional as F

from tests.support import random_like

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
