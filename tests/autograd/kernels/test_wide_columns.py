"""The wide columns of stride-1 convolution (padded planes, per-tap copies): compiled == NumPy reference, exactly."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from tapegrad.autograd import kernels
from tapegrad.autograd.kernels import wide_columns

from .strategies import DTYPES, float_arrays


@st.composite
def wide_geometries(draw):  # noqa: ANN001, ANN201
    """(h, w, ph, pw, kh, kw, dh, dw, r0, rows): a stride-1 window geometry and a band of its output rows."""
    kh, kw, dh, dw = draw(st.integers(1, 3)), draw(st.integers(1, 3)), draw(st.integers(1, 2)), draw(st.integers(1, 2))
    ph, pw = draw(st.integers(0, 2)), draw(st.integers(0, 2))
    h = draw(st.integers(max(1, dh * (kh - 1) + 1 - 2 * ph), 9))
    w = draw(st.integers(max(1, dw * (kw - 1) + 1 - 2 * pw), 9))
    grid_h = h + 2 * ph - dh * (kh - 1)
    r0 = draw(st.integers(0, grid_h - 1))
    rows = draw(st.integers(1, grid_h - r0))
    return h, w, ph, pw, kh, kw, dh, dw, r0, rows


@given(st.data(), wide_geometries(), st.integers(1, 3), st.integers(1, 3), st.sampled_from(DTYPES))
def test_pad_planes_and_wide_taps(data, geometry, n, c, dtype) -> None:  # noqa: ANN001
    h, w, ph, pw, kh, kw, dh, dw, r0, rows = geometry
    hp, wp = h + 2 * ph, w + 2 * pw
    x = data.draw(float_arrays((n, c, h, w), dtype))  # any layout, NaN/inf included
    length = hp * wp + (kw - 1) * dw
    planes = {}
    for name, pad in (("compiled", wide_columns.pad_planes_compiled), ("numpy", wide_columns.pad_planes_numpy),
                      ("chosen", kernels.pad_planes)):
        planes[name] = np.full((n, c, length), 7, dtype)  # stale values: every position must be written
        pad(x, planes[name], ph, pw)
    np.testing.assert_array_equal(planes["compiled"], planes["numpy"])
    np.testing.assert_array_equal(planes["chosen"], planes["numpy"])
    columns = {}
    for name, copy in (("compiled", wide_columns.wide_taps_compiled), ("numpy", wide_columns.wide_taps_numpy),
                       ("chosen", kernels.wide_taps)):
        columns[name] = np.full((n, c, kh * kw, rows * wp), 7, dtype)
        copy(planes["numpy"], columns[name], kw, dh, dw, wp, r0)
    np.testing.assert_array_equal(columns["compiled"], columns["numpy"])
    np.testing.assert_array_equal(columns["chosen"], columns["numpy"])


@given(st.data(), wide_geometries(), st.integers(1, 3), st.integers(1, 3), st.sampled_from(DTYPES))
def test_wide_fold(data, geometry, n, c, dtype) -> None:  # noqa: ANN001
    h, w, ph, pw, kh, kw, dh, dw, _, _ = geometry
    hp, wp = h + 2 * ph, w + 2 * pw
    grid_h = hp - dh * (kh - 1)
    taps = data.draw(float_arrays((n, c, kh * kw, grid_h * wp), dtype))  # any layout, NaN/inf included
    outs = {}
    for name, fold in (("compiled", wide_columns.wide_fold_compiled), ("numpy", wide_columns.wide_fold_numpy),
                       ("chosen", kernels.wide_fold)):
        padded = np.full((n, c, hp * wp + (kw - 1) * dw), 7, dtype)  # stale scratch
        outs[name] = np.full((n, c, h, w), 7, dtype)
        fold(taps, padded, outs[name], kw, ph, pw, dh, dw)
    np.testing.assert_array_equal(outs["compiled"], outs["numpy"])  # the same order of adds: bit-identical
    np.testing.assert_array_equal(outs["chosen"], outs["numpy"])
