"""Ops that move elements without computing, against torch: reshape/view, transpose/permute/.T,
expand/broadcast_to, squeeze/unsqueeze, flatten."""

from __future__ import annotations

import numpy as np
import pytest
import tapegrad.autograd as ag
from hypothesis import given
from hypothesis import strategies as st
from tapegrad.autograd.testing import arrays, shapes

from tests.autograd.torchcheck import DTYPES, check_op, fixture_ok


@st.composite
def reshape_targets(draw: st.DrawFn, shape: tuple[int, ...]) -> tuple[int, ...]:
    """Another shape with as many elements: the dims shuffled, 1s inserted, maybe one -1."""
    dims = list(draw(st.permutations(list(shape))))
    for _ in range(draw(st.integers(0, 2))):
        dims.insert(draw(st.integers(0, len(dims))), 1)
    if draw(st.booleans()) and dims and int(np.prod(shape)) > 0:
        dims[draw(st.integers(0, len(dims) - 1))] = -1
    return tuple(dims)


@fixture_ok
@pytest.mark.parametrize("dtype", DTYPES)
@given(data=st.data())
def test_reshape_and_view(dtype: type, device: str, data: st.DataObject) -> None:
    shape = data.draw(shapes())
    x = data.draw(arrays(dtype, shape))
    target = data.draw(reshape_targets(shape))
    check_op(lambda t: t.reshape(target), lambda t: t.reshape(target), [x], device)
    check_op(lambda t: t.view(*target), lambda t: t.reshape(target), [x], device)
    check_op(lambda t: ag.reshape(t, target), lambda t: t.reshape(target), [x], device)


@fixture_ok
@pytest.mark.parametrize("dtype", DTYPES)
@given(data=st.data())
def test_transpose_permute_and_T(dtype: type, device: str, data: st.DataObject) -> None:
    shape = data.draw(shapes(min_dims=1))
    ndim = len(shape)
    x = data.draw(arrays(dtype, shape))
    a, b = data.draw(st.integers(-ndim, ndim - 1)), data.draw(st.integers(-ndim, ndim - 1))
    order = data.draw(st.permutations(range(ndim)))
    order = tuple(o - ndim if data.draw(st.booleans()) else o for o in order)  # negative axes too
    check_op(lambda t: t.transpose(a, b), lambda t: t.transpose(a, b), [x], device)
    check_op(lambda t: t.permute(*order), lambda t: t.permute(*order), [x], device)
    check_op(lambda t: ag.permute(t, order), lambda t: t.permute(order), [x], device)
    check_op(lambda t: t.transpose(), lambda t: t.permute(*reversed(range(ndim))), [x], device)
    check_op(lambda t: ag.swapaxes(t, a, b), lambda t: t.swapaxes(a, b), [x], device)
    if ndim == 2:
        check_op(lambda t: t.T, lambda t: t.T, [x], device)


@st.composite
def expandable(draw: st.DrawFn) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """(shape, target): target adds leading dims and grows size-1 dims (-1 keeps a dim)."""
    shape = draw(shapes(max_dims=3))
    lead = draw(st.lists(st.integers(0, 3), max_size=2))
    grown = [draw(st.integers(0, 3)) if s == 1 else (-1 if draw(st.booleans()) else s) for s in shape]
    return shape, (*lead, *grown)


@fixture_ok
@pytest.mark.parametrize("dtype", DTYPES)
@given(data=st.data())
def test_expand_and_broadcast_to(dtype: type, device: str, data: st.DataObject) -> None:
    shape, target = data.draw(expandable())
    x = data.draw(arrays(dtype, shape))
    check_op(lambda t: t.expand(*target), lambda t: t.expand(target), [x], device)
    lead = len(target) - len(shape)
    full = tuple(shape[i - lead] if s == -1 else s for i, s in enumerate(target))
    check_op(lambda t: t.broadcast_to(full), lambda t: t.broadcast_to(full), [x], device)
    check_op(lambda t: ag.expand(t, full) * 2.0, lambda t: t.expand(full) * 2.0, [x], device)


@fixture_ok
@pytest.mark.parametrize("dtype", DTYPES)
@given(data=st.data())
def test_squeeze_and_unsqueeze(dtype: type, device: str, data: st.DataObject) -> None:
    shape = data.draw(shapes(max_side=2))  # many size-1 dims
    ndim = len(shape)
    x = data.draw(arrays(dtype, shape))
    check_op(lambda t: t.squeeze(), lambda t: t.squeeze(), [x], device)
    if ndim:
        axis = data.draw(st.integers(-ndim, ndim - 1))
        axes = tuple(data.draw(st.sets(st.integers(0, ndim - 1), min_size=1)))
        check_op(lambda t: t.squeeze(axis), lambda t: t.squeeze(axis), [x], device)
        check_op(lambda t: ag.squeeze(t, axes), lambda t: t.squeeze(axes), [x], device)
    new = data.draw(st.integers(-ndim - 1, ndim))
    check_op(lambda t: t.unsqueeze(new), lambda t: t.unsqueeze(new), [x], device)


@fixture_ok
@pytest.mark.parametrize("dtype", DTYPES)
@given(data=st.data())
def test_flatten(dtype: type, device: str, data: st.DataObject) -> None:
    shape = data.draw(shapes())
    ndim = len(shape)
    x = data.draw(arrays(dtype, shape))
    check_op(lambda t: t.flatten(), lambda t: t.flatten(), [x], device)
    if ndim:
        start = data.draw(st.integers(0, ndim - 1))
        end = data.draw(st.integers(start, ndim - 1))
        start_arg = start - ndim if data.draw(st.booleans()) else start
        end_arg = end - ndim if data.draw(st.booleans()) else end
        check_op(
            lambda t: ag.flatten(t, start_arg, end_arg), lambda t: t.flatten(start_arg, end_arg), [x], device
        )
