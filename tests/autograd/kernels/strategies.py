"""Hypothesis strategies shared by the kernel equivalence tests: arrays in awkward layouts, window geometries."""

from __future__ import annotations

from typing import Any

import numpy as np
from hypothesis import strategies as st

DTYPES = (np.float32, np.float64)


def output_size(size: int, k: int, s: int, p: int, d: int, ceil: bool = False) -> int:
    span = size + 2 * p - d * (k - 1) - 1
    out = (-(-span // s) if ceil else span // s) + 1
    if ceil and (out - 1) * s >= size + p:
        out -= 1
    return out


@st.composite
def layouts(draw: Any, array: np.ndarray) -> np.ndarray:
    """The same values as ``array``, as a C-contiguous, Fortran-ordered, strided-view or negative-stride array."""
    kind = draw(st.sampled_from(["c", "fortran", "strided", "reversed"]))
    if kind == "fortran":
        return np.asfortranarray(array)
    if kind == "strided":
        big = np.zeros(array.shape[:-1] + (array.shape[-1] * 2,), dtype=array.dtype)
        big[..., ::2] = array
        return big[..., ::2]
    if kind == "reversed":
        return np.ascontiguousarray(array[..., ::-1])[..., ::-1]
    return array


@st.composite
def float_arrays(draw: Any, shape: tuple[int, ...], dtype: Any, special: bool = True, ties: bool = False) -> np.ndarray:
    """Random normal values; with ``ties`` from a few integers (many equal maxima); optionally some NaN/inf."""
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    if ties:
        a = rng.integers(-2, 3, size=shape).astype(dtype)
    else:
        a = rng.standard_normal(shape).astype(dtype)
    if special and a.size and draw(st.booleans()):
        flat = a.reshape(-1)
        for value in draw(st.lists(st.sampled_from([np.nan, np.inf, -np.inf]), min_size=1, max_size=3)):
            flat[rng.integers(0, a.size)] = value
    return draw(layouts(a))


@st.composite
def geometries(draw: Any, pooling: bool = False) -> tuple[int, ...]:
    """(kh, kw, sh, sw, ph, pw, dh, dw, h, w, ho, wo) with odd and prime sizes, padding, dilation, stride."""
    kh, kw = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    sh, sw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    dh, dw = draw(st.integers(1, 2)), draw(st.integers(1, 2))
    if pooling:
        ph, pw = draw(st.integers(0, kh // 2)), draw(st.integers(0, kw // 2))
    else:
        ph, pw = draw(st.integers(0, 2)), draw(st.integers(0, 2))
    h = draw(st.integers(max(1, dh * (kh - 1) + 1 - 2 * ph), 13))
    w = draw(st.integers(max(1, dw * (kw - 1) + 1 - 2 * pw), 11))
    ho, wo = output_size(h, kh, sh, ph, dh), output_size(w, kw, sw, pw, dw)
    return (kh, kw, sh, sw, ph, pw, dh, dw, h, w, ho, wo)


def every_window_inside(g: tuple[int, ...]) -> bool:
    """No window made only of padding (max pooling forbids those, like PyTorch)."""
    kh, kw, sh, sw, ph, pw, dh, dw, h, w, ho, wo = g
    rows = all(any(0 <= o * sh - ph + i * dh < h for i in range(kh)) for o in range(ho))
    cols = all(any(0 <= o * sw - pw + j * dw < w for j in range(kw)) for o in range(wo))
    return rows and cols


def assert_same(compiled: Any, reference: Any, rtol: float = 0.0, atol: float = 0.0) -> None:
    """Equal values (NaN where NaN), dtypes and shapes; exactly unless a tolerance is given."""
    compiled, reference = np.asarray(compiled), np.asarray(reference)
    assert compiled.shape == reference.shape
    assert compiled.dtype == reference.dtype
    if rtol == atol == 0:
        np.testing.assert_array_equal(compiled, reference)
    else:
        np.testing.assert_allclose(compiled, reference, rtol=rtol, atol=atol, equal_nan=True)
