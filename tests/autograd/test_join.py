"""cat/concatenate, stack and split against torch, including empty pieces and negative axes."""

from __future__ import annotations

import numpy as np
import pytest
import tapegrad.autograd as ag
import torch
from hypothesis import given
from hypothesis import strategies as st
from tapegrad.autograd import ShapeError, Tensor, grad
from tapegrad.autograd.testing import arrays, shapes

from tests.autograd.torchcheck import DTYPES, check_op, fixture_ok


@fixture_ok
@pytest.mark.parametrize("dtype", DTYPES)
@given(data=st.data())
def test_cat_pieces_of_different_lengths(dtype: type, device: str, data: st.DataObject) -> None:
    base = data.draw(shapes(min_dims=1, max_dims=3))
    ndim = len(base)
    axis = data.draw(st.integers(-ndim, ndim - 1))
    lengths = data.draw(st.lists(st.integers(0, 3), min_size=1, max_size=3))
    pieces = []
    for n in lengths:
        shape = list(base)
        shape[axis] = n
        pieces.append(data.draw(arrays(dtype, tuple(shape))))
    check_op(lambda *ts: ag.cat(list(ts), axis), lambda *ts: torch.cat(ts, dim=axis), pieces, device)
    check_op(lambda *ts: ag.concatenate(ts, axis=axis) * 2.0, lambda *ts: torch.cat(ts, axis) * 2.0, pieces,
             device)


@fixture_ok
@pytest.mark.parametrize("dtype", DTYPES)
@given(data=st.data())
def test_stack(dtype: type, device: str, data: st.DataObject) -> None:
    shape = data.draw(shapes(max_dims=3))
    count = data.draw(st.integers(1, 3))
    pieces = [data.draw(arrays(dtype, shape)) for _ in range(count)]
    axis = data.draw(st.integers(-len(shape) - 1, len(shape)))
    check_op(lambda *ts: ag.stack(list(ts), axis), lambda *ts: torch.stack(ts, dim=axis), pieces, device)


@fixture_ok
@pytest.mark.parametrize("dtype", DTYPES)
@given(data=st.data())
def test_split_by_size_and_by_sections(dtype: type, device: str, data: st.DataObject) -> None:
    shape = data.draw(shapes(min_dims=1, max_dims=3, min_side=1, max_side=5))
    axis = data.draw(st.integers(-len(shape), len(shape) - 1))
    x = data.draw(arrays(dtype, shape))
    size = data.draw(st.integers(1, 4))
    check_op(lambda t: t.split(size, axis), lambda t: torch.split(t, size, dim=axis), [x], device)
    length = shape[axis]
    cut = sorted(data.draw(st.lists(st.integers(0, length), min_size=0, max_size=3)))
    sections = [b - a for a, b in zip([0, *cut], [*cut, length], strict=True)]  # zeros allowed
    check_op(lambda t: ag.split(t, sections, axis), lambda t: torch.split(t, sections, dim=axis), [x], device)


def test_split_pieces_used_only_in_part_still_get_gradients() -> None:
    x = Tensor(np.arange(6.0), requires_grad=True)
    a, _, c = x.split(2)
    (g,) = grad((a * 3.0).sum() + c.sum(), x)
    np.testing.assert_array_equal(g.numpy(), np.array([3.0, 3.0, 0.0, 0.0, 1.0, 1.0]))


def test_join_errors_name_the_op_and_the_shapes() -> None:
    a, b = Tensor(np.zeros((2, 3))), Tensor(np.zeros((2, 4)))
    with pytest.raises(ShapeError, match=r"cat: .*\(2, 4\)"):
        ag.cat([a, b], axis=0)
    with pytest.raises(ShapeError, match="cat: .*non-empty"):
        ag.cat([])
    with pytest.raises(ShapeError, match="cat: axis 2"):
        ag.cat([a, a], axis=2)
    with pytest.raises(ShapeError, match=r"stack: .*\(2, 3\), \(2, 4\)"):
        ag.stack([a, b])
    with pytest.raises(ShapeError, match="split: sections"):
        a.split([1, 3], axis=1)
    with pytest.raises(ShapeError, match="split size must be positive"):
        a.split(0)


def test_integer_pieces_joined_with_float_ones_take_the_float_dtype_like_torch() -> None:
    ints, floats = np.array([[1, 2]]), np.array([[0.5, -1.5]], dtype=np.float32)
    check_op(lambda a, b: ag.cat([a, b], 0), lambda a, b: torch.cat([a, b], 0), [ints, floats])
    check_op(lambda a, b: ag.stack([b, a], 1), lambda a, b: torch.stack([b, a], 1), [ints, floats])
