"""The wide columns of stride-1 convolution (padded planes, per-tap copies): compiled == NumPy reference, exactly."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from tapegrad.autograd import kernels
from tapegrad.autograd.kernels import conv_columns

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


@given(st.data(), wide_geometries(), st.integers(1, 3), st.integers(1, 3), st.sampled_from(DTYPES), st.booleans())
def test_wide_columns(data, geometry, n, c, dtype, side_by_side) -> None:  # noqa: ANN001
    """Padded planes (every position written over stale scratch) and the taps' columns for a band of rows, in
    both layouts; a later band reuses the planes (``pad=False``)."""
    h, w, ph, pw, kh, kw, dh, dw, r0, rows = geometry
    hp, wp = h + 2 * ph, w + 2 * pw
    x = data.draw(float_arrays((n, c, h, w), dtype))  # any layout, NaN/inf included
    length = hp * wp + (kw - 1) * dw
    shape = (c, kh * kw, n, rows * wp) if side_by_side else (n, c, kh * kw, rows * wp)
    results = {}
    for name, build in (("compiled", conv_columns.wide_columns_compiled),
                        ("numpy", conv_columns.wide_columns_numpy), ("chosen", kernels.wide_columns)):
        padded = np.full((n, c, length), 7, dtype)  # stale scratch: every position must be written
        first = np.full(shape, 7, dtype)
        build(x, padded, first, ph, pw, kw, dh, dw, 0, True, side_by_side)
        band = np.full(shape, 7, dtype)
        build(x, padded, band, ph, pw, kw, dh, dw, r0, False, side_by_side)
        results[name] = (padded, first, band)
    for name in ("compiled", "chosen"):
        for got, expected in zip(results[name], results["numpy"], strict=True):
            np.testing.assert_array_equal(got, expected)


@given(st.data(), wide_geometries(), st.integers(1, 3), st.integers(1, 3), st.sampled_from(DTYPES))
def test_wide_fold(data, geometry, n, c, dtype) -> None:  # noqa: ANN001
    h, w, ph, pw, kh, kw, dh, dw, _, _ = geometry
    hp, wp = h + 2 * ph, w + 2 * pw
    grid_h = hp - dh * (kh - 1)
    taps = data.draw(float_arrays((n, c, kh * kw, grid_h * wp), dtype))  # any layout, NaN/inf included
    outs = {}
    for name, fold in (("compiled", conv_columns.wide_fold_compiled), ("numpy", conv_columns.wide_fold_numpy),
                       ("chosen", kernels.wide_fold)):
        padded = np.full((n, c, hp * wp + (kw - 1) * dw), 7, dtype)  # stale scratch
        outs[name] = np.full((n, c, h, w), 7, dtype)
        fold(taps, padded, outs[name], kw, ph, pw, dh, dw)
    np.testing.assert_array_equal(outs["compiled"], outs["numpy"])  # the same order of adds: bit-identical
    np.testing.assert_array_equal(outs["chosen"], outs["numpy"])


@given(st.data(), wide_geometries(), st.integers(1, 3), st.integers(1, 3), st.sampled_from(DTYPES))
def test_wide_fold_in_bands(data, geometry, n, c, dtype) -> None:  # noqa: ANN001
    """The fold of a band of output rows at a time (zeroed by the first, cropped by the last) is the fold of
    the whole: the same sums in another order."""
    h, w, ph, pw, kh, kw, dh, dw, r0, rows = geometry
    hp, wp = h + 2 * ph, w + 2 * pw
    grid_h = hp - dh * (kh - 1)
    taps = data.draw(float_arrays((n, c, kh * kw, grid_h * wp), dtype, special=False))
    whole = np.full((n, c, h, w), 7, dtype)
    conv_columns.wide_fold_numpy(taps, np.full((n, c, hp * wp + (kw - 1) * dw), 7, dtype), whole, kw, ph, pw, dh, dw)
    bounds = sorted({0, r0, r0 + rows, grid_h})
    outs = {}
    for name, fold in (("compiled", conv_columns.wide_fold_compiled), ("numpy", conv_columns.wide_fold_numpy)):
        padded = np.full((n, c, hp * wp + (kw - 1) * dw), 7, dtype)
        outs[name] = np.full((n, c, h, w), 7, dtype)
        for lo, hi in zip(bounds[:-1], bounds[1:], strict=False):
            band = np.ascontiguousarray(taps[..., lo * wp : hi * wp])
            fold(band, padded, outs[name], kw, ph, pw, dh, dw, lo, lo == 0, hi == grid_h)
    np.testing.assert_array_equal(outs["compiled"], outs["numpy"])
    np.testing.assert_allclose(outs["numpy"], whole, rtol=1e-5, atol=1e-5 * max(1.0, float(np.abs(whole).max())))


@st.composite
def phase_geometries(draw):  # noqa: ANN001, ANN201
    """(h, w, ph, pw, kh, kw, sh, sw, dh, dw, r0, rows): a strided window geometry and a band of its output rows."""
    kh, kw, dh, dw = draw(st.integers(1, 5)), draw(st.integers(1, 5)), draw(st.integers(1, 2)), draw(st.integers(1, 2))
    sh, sw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    ph, pw = draw(st.integers(0, 2)), draw(st.integers(0, 2))
    h = draw(st.integers(max(1, dh * (kh - 1) + 1 - 2 * ph), 11))
    w = draw(st.integers(max(1, dw * (kw - 1) + 1 - 2 * pw), 11))
    grid_h = (h + 2 * ph - dh * (kh - 1) - 1) // sh + 1
    r0 = draw(st.integers(0, grid_h - 1))
    rows = draw(st.integers(1, grid_h - r0))
    return h, w, ph, pw, kh, kw, sh, sw, dh, dw, r0, rows


@given(st.data(), phase_geometries(), st.integers(1, 3), st.integers(1, 3), st.sampled_from(DTYPES), st.booleans())
def test_phase_columns(data, geometry, n, c, dtype, side_by_side) -> None:  # noqa: ANN001
    """The strided wide columns (the input split into its stride phases, one copy per tap), both layouts, stale
    scratch everywhere; and every valid window's column equals the window's pixel (zero in the padding)."""
    h, w, ph, pw, kh, kw, sh, sw, dh, dw, r0, rows = geometry
    hq, wq = -(-(h + 2 * ph) // sh), -(-(w + 2 * pw) // sw)
    x = data.draw(float_arrays((n, c, h, w), dtype, special=False))
    length = hq * wq + ((kw - 1) * dw) // sw
    shape = (c, kh * kw, n, rows * wq) if side_by_side else (n, c, kh * kw, rows * wq)
    results = {}
    for name, build in (("compiled", conv_columns.phase_columns_compiled),
                        ("numpy", conv_columns.phase_columns_numpy), ("chosen", kernels.phase_columns)):
        phases = np.full((n, c, sh * sw, length), 7, dtype)
        first = np.full(shape, 7, dtype)
        build(x, phases, first, ph, pw, kw, sh, sw, dh, dw, 0, True, side_by_side)
        band = np.full(shape, 7, dtype)
        build(x, phases, band, ph, pw, kw, sh, sw, dh, dw, r0, False, side_by_side)
        results[name] = (phases, first, band)
    for name in ("compiled", "chosen"):
        for got, expected in zip(results[name], results["numpy"], strict=True):
            np.testing.assert_array_equal(got, expected)
    padded = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    band = results["numpy"][2]
    cols = band.transpose(2, 0, 1, 3) if side_by_side else band
    grid_w = (w + 2 * pw - dw * (kw - 1) - 1) // sw + 1
    for oh in range(rows):
        for ow in range(grid_w):
            for t in range(kh * kw):
                i, j = t // kw, t % kw
                expected = padded[:, :, (r0 + oh) * sh + i * dh, ow * sw + j * dw]
                np.testing.assert_array_equal(cols[:, :, t, oh * wq + ow], expected)
