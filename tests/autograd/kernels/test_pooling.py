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
