"""Hypothesis strategies for property-testing ops written on tapegrad (your own ``Function`` subclasses too).

This module imports Hypothesis (a test-only dependency: ``pip install tapegrad[test]``); ``tapegrad.autograd``
itself never does.

>>> from hypothesis import given
>>> from tapegrad.autograd import gradcheck
>>> from tapegrad.autograd.testing import tensors
>>> @given(tensors(dtype="float64", requires_grad=True, min_magnitude=0.1))
... def test_my_op(x):
...     assert gradcheck(my_op, [x])

Index strategies only produce what both NumPy and PyTorch accept (no negative slice steps), so a test can
apply the same expression to a tapegrad tensor and to a ``torch.Tensor``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from .backend import to_device
from .tensor import Tensor

__all__ = [
    "advanced_indices", "arrays", "basic_indices", "broadcastable_shapes", "dtypes", "shapes", "tensors",
    "valid_axes",
]

Shape = tuple[int, ...]


def dtypes(include_float16: bool = False) -> st.SearchStrategy[np.dtype]:
    """The floating dtypes tapegrad differentiates: float32 and float64."""
    choices = [np.dtype(np.float32), np.dtype(np.float64)]
    if include_float16:
        choices.append(np.dtype(np.float16))
    return st.sampled_from(choices)


def shapes(
    min_dims: int = 0, max_dims: int = 4, min_side: int = 0, max_side: int = 4
) -> st.SearchStrategy[Shape]:
    """Array shapes; ``min_side=0`` (the default) includes empty dimensions."""
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side, max_side=max_side)


def _elements(dtype: np.dtype, min_value: float, max_value: float, min_magnitude: float) -> st.SearchStrategy:
    if dtype.kind == "b":
        return st.booleans()
    if dtype.kind in "iu":
        low = int(np.ceil(min_value)) if dtype.kind == "i" else max(0, int(np.ceil(min_value)))
        ints = st.integers(low, int(np.floor(max_value)))
        return ints.filter(lambda v: abs(v) >= min_magnitude) if min_magnitude else ints
    width = dtype.itemsize * 8

    def floats(lo: float, hi: float) -> st.SearchStrategy[float]:
        # bounds rounded inwards to the dtype (0.01 is not a float32; Hypothesis wants exact bounds)
        lo_d, hi_d = dtype.type(lo), dtype.type(hi)
        if float(lo_d) < lo:
            lo_d = np.nextafter(lo_d, dtype.type(np.inf))
        if float(hi_d) > hi:
            hi_d = np.nextafter(hi_d, dtype.type(-np.inf))
        finite = {"allow_nan": False, "allow_infinity": False, "allow_subnormal": False}
        return st.floats(float(lo_d), float(hi_d), width=width, **finite)

    if min_magnitude <= 0:
        return floats(min_value, max_value)
    parts = []
    if max_value >= min_magnitude:
        parts.append(floats(max(min_value, min_magnitude), max_value))
    if min_value <= -min_magnitude:
        parts.append(floats(min_value, min(max_value, -min_magnitude)))
    if not parts:
        raise ValueError(f"no values in [{min_value}, {max_value}] have magnitude >= {min_magnitude}")
    return st.one_of(parts)


def arrays(
    dtype: Any = np.float64,
    shape: Shape | int | st.SearchStrategy[Shape] | None = None,
    *,
    min_value: float = -10.0,
    max_value: float = 10.0,
    min_magnitude: float = 0.0,
    unique: bool = False,
) -> st.SearchStrategy[np.ndarray]:
    """NumPy arrays of finite values in ``[min_value, max_value]``.

    Parameters
    ----------
    dtype
        A dtype or a strategy of dtypes (e.g. :func:`dtypes`).
    shape
        A shape, or a strategy of shapes; default: :func:`shapes` (0 to 4 dims, sides 0 to 4).
    min_magnitude
        Keep every value at least this far from 0: for functions with a kink or a pole there (abs, relu,
        log, division).
    unique
        All values distinct: no ties for max/min/argmax/sort, whose gradient is not smooth at ties.
    """
    shape = shapes() if shape is None else shape
    dtype_strategy = dtype if isinstance(dtype, st.SearchStrategy) else st.just(np.dtype(dtype))

    def build(dt: np.dtype) -> st.SearchStrategy[np.ndarray]:
        dt = np.dtype(dt)
        elements = _elements(dt, min_value, max_value, min_magnitude)
        return hnp.arrays(dt, shape, elements=elements, unique=unique)

    return dtype_strategy.flatmap(build)


def tensors(
    dtype: Any = np.float64,
    shape: Shape | int | st.SearchStrategy[Shape] | None = None,
    *,
    requires_grad: bool = False,
    device: str = "cpu",
    **element_options: Any,
) -> st.SearchStrategy[Tensor]:
    """tapegrad Tensors built from :func:`arrays` (same options), optionally leaves with ``requires_grad``."""
    grad_ok = requires_grad

    def wrap(array: np.ndarray) -> Tensor:
        floating = array.dtype.kind == "f"
        return Tensor(to_device(array, device), requires_grad=grad_ok and floating)

    return arrays(dtype, shape, **element_options).map(wrap)


def broadcastable_shapes(
    num_shapes: int = 2, min_dims: int = 0, max_dims: int = 4, min_side: int = 0, max_side: int = 4
) -> st.SearchStrategy[tuple[Shape, ...]]:
    """Tuples of ``num_shapes`` shapes that broadcast together (``np.broadcast_shapes(*shapes)`` is defined).

    Sizes of 1 are drawn often, so the shapes really broadcast; ``min_side=0`` includes empty dimensions.
    """
    return hnp.mutually_broadcastable_shapes(
        num_shapes=num_shapes, min_dims=min_dims, max_dims=max_dims, min_side=min_side, max_side=max_side
    ).map(lambda drawn: tuple(drawn.input_shapes))


def valid_axes(
    ndim: int, *, allow_none: bool = True, allow_int: bool = True, allow_tuple: bool = True
) -> st.SearchStrategy[Any]:
    """An ``axis`` argument for a reduction over ``ndim`` dimensions: None, an int or a tuple of distinct
    ints, negative ones included."""
    options: list[st.SearchStrategy[Any]] = []
    if allow_none:
        options.append(st.none())
    if allow_int and ndim > 0:
        options.append(st.integers(-ndim, ndim - 1))
    if allow_tuple:
        options.append(hnp.valid_tuple_axes(ndim))
    if not options:
        raise ValueError(f"valid_axes: nothing to draw for ndim={ndim} with these options")
    return st.one_of(options)


@st.composite
def _basic_index(
    draw: st.DrawFn, shape: Shape, allow_newaxis: bool, allow_ellipsis: bool, max_step: int
) -> Any:
    ndim = len(shape)
    used = draw(st.integers(0, ndim))
    ellipsis = allow_ellipsis and used < ndim and draw(st.booleans())
    # index the first `used` dims, or with a leading Ellipsis the last `used` dims
    sizes = shape[ndim - used :] if ellipsis else shape[:used]
    items: list[Any] = []
    for size in sizes:
        if size > 0 and draw(st.booleans()):
            items.append(draw(st.integers(-size, size - 1)))
        else:
            bound = size + 2
            start = draw(st.none() | st.integers(-bound, bound))
            stop = draw(st.none() | st.integers(-bound, bound))
            step = draw(st.none() | st.integers(1, max_step))
            items.append(slice(start, stop, step))
    if allow_newaxis:
        for _ in range(draw(st.integers(0, 2))):
            items.insert(draw(st.integers(0, len(items))), None)
    if ellipsis:
        items.insert(0, Ellipsis)
    if len(items) == 1 and draw(st.booleans()):
        return items[0]  # a bare int or slice, not a 1-tuple
    return tuple(items)


def basic_indices(
    shape: Shape, *, allow_newaxis: bool = True, allow_ellipsis: bool = True, max_step: int = 3
) -> st.SearchStrategy[Any]:
    """Basic index expressions for an array of ``shape``: ints (negative too), slices with positive steps and
    out-of-range bounds, ``None`` and ``...``.  Never out of bounds for an int."""
    return _basic_index(tuple(shape), allow_newaxis, allow_ellipsis, max_step)


@st.composite
def _advanced_index(draw: st.DrawFn, shape: Shape, allow_bool: bool, max_index_dims: int) -> Any:
    ndim = len(shape)
    kinds = ["ints", "ints_after_slice", "int_arrays"]
    if allow_bool:
        kinds.append("mask")
    kind = draw(st.sampled_from(kinds if ndim >= 2 else ["ints", "mask"] if allow_bool else ["ints"]))

    def int_array(size: int, index_shape: Shape) -> np.ndarray:
        if size == 0:  # nothing can be picked from an empty axis: an empty index
            return np.zeros((0,), dtype=np.int64)
        return draw(hnp.arrays(np.int64, index_shape, elements=st.integers(-size, size - 1)))

    index_shape = draw(hnp.array_shapes(min_dims=1, max_dims=max_index_dims, min_side=0, max_side=4))
    if kind == "ints":  # x[[2, 0, 2]]: repeats and negative indices
        return int_array(shape[0], index_shape)
    if kind == "ints_after_slice":  # x[:, idx]
        return (slice(None), int_array(shape[1], index_shape))
    if kind == "int_arrays":  # x[i, j] with i and j broadcasting together
        first, second = draw(broadcastable_shapes(2, min_dims=1, max_dims=max_index_dims, min_side=1))
        if shape[0] == 0 or shape[1] == 0:
            first = second = (0,)
        return (int_array(shape[0], first), int_array(shape[1], second))
    k = draw(st.integers(1, ndim))  # x[mask] with a mask over the first k dims
    return draw(hnp.arrays(np.bool_, shape[:k]))


def advanced_indices(
    shape: Shape, *, allow_bool: bool = True, max_index_dims: int = 2
) -> st.SearchStrategy[Any]:
    """Advanced (NumPy "fancy") index expressions for an array of ``shape`` (at least 1-D): integer arrays
    with repeated and negative entries (alone, after a slice, or two that broadcast together) and boolean
    masks over leading dimensions.  Repeated indices are what make the gradient a scatter-*add*."""
    if len(shape) == 0:
        raise ValueError("advanced_indices: a 0-d array has no axis to index")
    return _advanced_index(tuple(shape), allow_bool, max_index_dims)
