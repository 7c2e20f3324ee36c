"""im2col / col2im: compiled == NumPy reference, bit for bit (same tap order)."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from tapegrad.autograd import kernels
from tapegrad.autograd.kernels import unfold

from .strategies import DTYPES, assert_same, float_arrays, geometries


@given(st.data(), geometries(), st.sampled_from(DTYPES), st.integers(1, 3), st.integers(1, 5))
def test_im2col(data, g, dtype, n, c) -> None:  # noqa: ANN001
    x = data.draw(float_arrays((n, c, g[8], g[9]), dtype))
    assert_same(unfold.im2col_compiled(x, g), unfold.im2col_numpy(x, g))
    out = np.full((n, c) + g[:2] + g[10:], 7.0, dtype)  # stale contents must be overwritten (scratch reuse)
    assert_same(kernels.im2col(x, g, out), unfold.im2col_numpy(x, g))


@given(st.data(), geometries(), st.sampled_from(DTYPES), st.integers(1, 3), st.integers(1, 5))
def test_col2im(data, g, dtype, n, c) -> None:  # noqa: ANN001
    cols = data.draw(float_arrays((n, c) + g[:2] + g[10:], dtype))
    assert_same(unfold.col2im_compiled(cols, g), unfold.col2im_numpy(cols, g))
    out = np.full((n, c, g[8], g[9]), 3.0, dtype)
    assert_same(kernels.col2im(cols, g, out), unfold.col2im_numpy(cols, g))
