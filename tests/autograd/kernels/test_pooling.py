"""Max pooling (switches, ties, NaN/inf), its scatter and gather, max-unpool, avg-pool: compiled == NumPy."""

from __future__ import annotations

import numpy as np
from hypothesis import assume, given
from hypothesis import strategies as st
from tapegrad.autograd import kernels
from tapegrad.autograd.kernels import avgpool, maxpool

from .strategies import DTYPES, assert_same, every_window_inside, float_arrays, geometries


@given(st.data(), geometries(pooling=True), st.sampled_from(DTYPES), st.integers(1, 3), st.integers(1, 4),
       st.booleans())
def test_max_pool_and_switches(data, g, dtype, n, c, ties) -> None:  # noqa: ANN001
    assume(every_window_inside(g))
    x = data.draw(float_arrays((n, c, g[8], g[9]), dtype, ties=ties))
    out, codes = maxpool.max_pool_compiled(x, g)
    ref_out, ref_codes = maxpool.max_pool_numpy(x, g)
    assert_same(out, ref_out)
    assert_same(codes, ref_codes)
    assert_same(kernels.max_pool(x, g)[1], ref_codes)


@given(st.data(), geometries(pooling=True), st.sampled_from(DTYPES), st.integers(1, 3), st.integers(1, 4))
def test_scatter_and_gather(data, g, dtype, n, c) -> None:  # noqa: ANN001
    """Overlapping windows add in the same order: exact.  The gather is the scatter's adjoint."""
    assume(every_window_inside(g))
    x = data.draw(float_arrays((n, c, g[8], g[9]), dtype, special=False, ties=True))
    _, codes = maxpool.max_pool_numpy(x, g)
    values = data.draw(float_arrays(codes.shape, dtype))
    assert_same(maxpool.max_pool_scatter_compiled(values, codes, g), maxpool.max_pool_scatter_numpy(values, codes, g))
    assert_same(kernels.max_pool_scatter(values, codes, g), maxpool.max_pool_scatter_numpy(values, codes, g))
    grad = data.draw(float_arrays((n, c, g[8], g[9]), dtype))
    assert_same(maxpool.max_pool_gather_compiled(grad, codes, g), maxpool.max_pool_gather_numpy(grad, codes, g))
    assert_same(kernels.max_pool_gather(grad, codes, g), maxpool.max_pool_gather_numpy(grad, codes, g))


@given(st.data(), st.integers(1, 3), st.integers(1, 3), st.integers(1, 5), st.integers(1, 5), st.integers(1, 7),
       st.integers(1, 7), st.sampled_from(DTYPES))
def test_max_unpool(data, n, c, ho, wo, h, w, dtype) -> None:  # noqa: ANN001
    """Repeated indices add up; NumPy's bincount sums in float64, so float32 agrees to rounding."""
    values = data.draw(float_arrays((n, c, ho, wo), dtype, special=False))
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    flat = rng.integers(0, h * w, size=(n, c, ho, wo))
    tol = 1e-6 if dtype == np.float32 else 1e-13
    assert_same(maxpool.max_unpool_compiled(values, flat, (h, w)), maxpool.max_unpool_numpy(values, flat, (h, w)),
                rtol=tol, atol=tol)
    assert_same(kernels.max_unpool(values, flat, (h, w)), maxpool.max_unpool_numpy(values, flat, (h, w)),
                rtol=tol, atol=tol)


@given(st.data(), geometries(), st.sampled_from(DTYPES), st.integers(1, 3), st.integers(1, 4), st.booleans())
def test_avg_pool_and_adjoint(data, g, dtype, n, c, per_position) -> None:  # noqa: ANN001
    x = data.draw(float_arrays((n, c, g[8], g[9]), dtype))
    scale = (np.arange(g[10] * g[11]).reshape(g[10], g[11]) % 3 + 1.0) ** -1 if per_position else 1 / (g[0] * g[1])
    assert_same(avgpool.avg_pool_compiled(x, g, scale), avgpool.avg_pool_numpy(x, g, scale))
    assert_same(kernels.avg_pool(x, g, scale), avgpool.avg_pool_numpy(x, g, scale))
    grad = data.draw(float_arrays((n, c, g[10], g[11]), dtype))
    assert_same(avgpool.avg_unpool_compiled(grad, g, scale), avgpool.avg_unpool_numpy(grad, g, scale))
    assert_same(kernels.avg_unpool(grad, g, scale), avgpool.avg_unpool_numpy(grad, g, scale))


@given(st.data(), st.sampled_from([2, 3]), st.sampled_from([(2, 2, 1, 1)] * 3 + [(1, 2, 1, 1), (2, 3, 1, 2)]),
       st.sampled_from(DTYPES), st.booleans(), st.booleans())
def test_unrolled_windows_equal_the_reference(data, k, steps, dtype, ties, special) -> None:  # noqa: ANN001
    """The unrolled 2x2 / 3x3 kernels (stride 2, no padding) and their NaN fallback: same maxima, switches and
    scatter.

    The general strategy draws these windows rarely; here most examples take the unrolled path (or, with a NaN,
    the general kernel it falls back to), the others the general kernel for the same window size."""
    sh, sw, dh, dw = steps
    h = data.draw(st.integers(dh * (k - 1) + 1, 12))
    w = data.draw(st.integers(dw * (k - 1) + 1, 12))
    ho, wo = (h - dh * (k - 1) - 1) // sh + 1, (w - dw * (k - 1) - 1) // sw + 1
    g = (k, k, sh, sw, 0, 0, dh, dw, h, w, ho, wo)
    x = data.draw(float_arrays((2, 3, h, w), dtype, special=special, ties=ties))
    out, codes = maxpool.max_pool_compiled(x, g)
    ref_out, ref_codes = maxpool.max_pool_numpy(x, g)
    assert_same(out, ref_out)
    assert_same(codes, ref_codes)
    values = data.draw(float_arrays(codes.shape, dtype, special=special))
    assert_same(maxpool.max_pool_scatter_compiled(values, ref_codes, g),
                maxpool.max_pool_scatter_numpy(values, ref_codes, g))


@given(st.data(), st.integers(2, 11), st.integers(2, 11), st.sampled_from(DTYPES), st.booleans())
def test_tiling_2x2_scatter_equals_the_reference(data, h, w, dtype, special) -> None:  # noqa: ANN001
    """2x2 windows at stride 2 (the one-pass scatter), odd sizes included: the rows and columns past the last
    window are zeros."""
    g = (2, 2, 2, 2, 0, 0, 1, 1, h, w, h // 2, w // 2)
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    codes = rng.integers(0, 4, size=(2, 3, h // 2, w // 2)).astype(np.uint8)
    values = data.draw(float_arrays(codes.shape, dtype, special=special))
    assert_same(maxpool.max_pool_scatter_compiled(values, codes, g), maxpool.max_pool_scatter_numpy(values, codes, g))


def test_nan_after_the_maximum_keeps_the_switch_in_the_unrolled_kernel() -> None:
    """A NaN later in the window: the output is NaN and the switch stays on the larger value before it."""
    x = np.array([[[[1.0, 5.0], [np.nan, 9.0]]]], dtype=np.float32)
    g = (2, 2, 2, 2, 0, 0, 1, 1, 2, 2, 1, 1)
    out, codes = maxpool.max_pool_compiled(x, g)
    assert np.isnan(out[0, 0, 0, 0]) and codes[0, 0, 0, 0] == 1
