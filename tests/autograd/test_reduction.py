"""Reductions against torch: sum, mean, var (correction), amax/amin (ties split evenly), argmax/argmin,
logsumexp, softmax and log_softmax, over Hypothesis-drawn axes (None, ints, tuples, negative)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import tapegrad.autograd as ag
import torch
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from tapegrad.autograd import ShapeError, Tensor
from tapegrad.autograd.testing import arrays, shapes, valid_axes

from tests.autograd.torchcheck import DTYPES, check_op, fixture_ok


def torch_reduce(fn: Callable[..., Any], axis: Any, ndim: int, **kw: Any) -> Callable[[torch.Tensor], Any]:
    """torch reads dim=() as "every dim" where NumPy reads it as "none"; translate, and spell out None."""
    if axis == () and ndim > 0:
        return lambda t: t * 1.0
    if axis is None:
        axis = tuple(range(ndim)) if ndim else 0
    return lambda t: fn(t, dim=axis, **kw)


REDUCTIONS = {
    "sum": (ag.sum, torch.sum),
    "mean": (ag.mean, torch.mean),
    "logsumexp": (ag.logsumexp, torch.logsumexp),
}


@fixture_ok
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", sorted(REDUCTIONS))
@given(data=st.data())
def test_reductions_over_any_axes(name: str, dtype: type, device: str, data: st.DataObject) -> None:
    ours, theirs = REDUCTIONS[name]
    shape = data.draw(shapes(min_side=1 if name == "logsumexp" else 0))
    x = data.draw(arrays(dtype, shape, min_value=-5, max_value=5))
    axis = data.draw(valid_axes(len(shape)))
    keepdims = data.draw(st.booleans())
    check_op(lambda t: ours(t, axis, keepdims), torch_reduce(theirs, axis, len(shape), keepdim=keepdims), [x],
             device)


@pytest.mark.parametrize("dtype", DTYPES)
@given(data=st.data())
def test_sum_and_mean_methods(dtype: type, data: st.DataObject) -> None:
    shape = data.draw(shapes(min_dims=1))
    x = data.draw(arrays(dtype, shape))
    axis = data.draw(st.integers(-len(shape), len(shape) - 1))
    check_op(lambda t: t.sum(axis=axis, keepdims=True), lambda t: t.sum(dim=axis, keepdim=True), [x])
    check_op(lambda t: t.mean(axis), lambda t: t.mean(dim=axis), [x])
    check_op(lambda t: t.sum(), lambda t: t.sum(), [x])


def test_mean_over_nothing_is_nan_like_torch() -> None:
    check_op(lambda t: t.mean(), lambda t: t.mean(), [np.zeros((0,))])
    check_op(lambda t: t.mean(axis=0), lambda t: t.mean(dim=0), [np.zeros((0, 3))])
    assert np.isnan(Tensor(np.zeros((0, 2), np.float32)).mean().item())


@fixture_ok
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("correction", [0, 1, 2])
@given(data=st.data())
def test_var_with_correction(dtype: type, correction: int, device: str, data: st.DataObject) -> None:
    shape = data.draw(shapes(min_dims=1, min_side=1))
    axis = data.draw(valid_axes(len(shape)).filter(lambda a: a != ()))
    kept = range(len(shape)) if axis is None else (axis,) if isinstance(axis, int) else axis
    count = int(np.prod([shape[a] for a in kept]))
    if count <= correction:  # torch gives NaN/inf there: compared separately below
        shape, axis, count = (correction + 2,) + shape[1:], 0, correction + 2
    x = data.draw(arrays(dtype, shape, min_value=-3, max_value=3))
    keepdims = data.draw(st.booleans())
    check_op(
        lambda t: t.var(axis, keepdims, correction=correction),
        torch_reduce(torch.var, axis, len(shape), keepdim=keepdims, correction=correction),
        [x],
        device,
    )


@pytest.mark.filterwarnings("ignore::RuntimeWarning", "ignore::UserWarning")
def test_var_with_too_few_elements_matches_torch() -> None:
    x = np.array([[1.0], [2.0]])
    ours, theirs = Tensor(x).var(axis=1), torch.from_numpy(x).var(dim=1)
    np.testing.assert_array_equal(np.isnan(ours.numpy()), np.isnan(theirs.numpy()))


@fixture_ok
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("largest", [True, False])
@given(data=st.data())
def test_max_min_with_distinct_values(dtype: type, largest: bool, device: str, data: st.DataObject) -> None:
    shape = data.draw(shapes(min_side=1))
    x = data.draw(arrays(dtype, shape, unique=True))
    axis = data.draw(valid_axes(len(shape)))
    keepdims = data.draw(st.booleans())
    ours = ag.max if largest else ag.min
    theirs = torch.amax if largest else torch.amin
    check_op(lambda t: ours(t, axis, keepdims), torch_reduce(theirs, axis, len(shape), keepdim=keepdims), [x],
             device)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("largest", [True, False])
@given(data=st.data())
def test_max_min_ties_split_the_gradient_like_amax(dtype: type, largest: bool, data: st.DataObject) -> None:
    # few distinct values, so ties are everywhere; torch.amax/amin share the gradient evenly among them
    shape = data.draw(shapes(min_side=1))
    x = data.draw(hnp.arrays(dtype, shape, elements=st.sampled_from([-1.0, 0.0, 2.0])))
    axis = data.draw(valid_axes(len(shape)))
    ours = (lambda t: t.max(axis)) if largest else (lambda t: t.min(axis))
    theirs = torch.amax if largest else torch.amin
    check_op(ours, torch_reduce(theirs, axis, len(shape)), [x])


def test_max_over_a_non_empty_axis_of_an_empty_tensor() -> None:
    check_op(lambda t: t.max(axis=1), lambda t: torch.amax(t, dim=1), [np.zeros((0, 3))])
    with pytest.raises(ShapeError, match="max"):
        Tensor(np.zeros((0, 3))).max(axis=0)
    with pytest.raises(ShapeError, match="min"):
        Tensor(np.zeros(0)).min()


@pytest.mark.parametrize("largest", [True, False])
@given(data=st.data())
def test_argmax_argmin_like_torch(largest: bool, data: st.DataObject) -> None:
    shape = data.draw(shapes(min_dims=1, min_side=1))
    # repeated values included: both return the first extremum
    x = data.draw(hnp.arrays(np.float64, shape, elements=st.sampled_from([-1.0, 0.5, 3.0, 7.0])))
    axis = data.draw(st.none() | st.integers(-len(shape), len(shape) - 1))
    keepdims = data.draw(st.booleans())
    ours = Tensor(x).argmax(axis, keepdims) if largest else Tensor(x).argmin(axis, keepdims)
    theirs = torch.argmax if largest else torch.argmin
    expected = theirs(torch.from_numpy(x), dim=axis, keepdim=keepdims).numpy()
    if axis is None and keepdims:
        expected = expected.reshape((1,) * len(shape))  # torch 2 keeps one dim per axis here too
    assert ours.dtype == np.int64 and not ours.requires_grad
    np.testing.assert_array_equal(ours.numpy(), expected)


def test_argmax_errors_name_the_op() -> None:
    with pytest.raises(ShapeError, match="argmax"):
        Tensor(np.zeros((2, 3))).argmax(axis=2)
    with pytest.raises(ShapeError, match="argmax"):
        Tensor(np.zeros((0, 3))).argmax(axis=0)
    with pytest.raises(ShapeError, match="argmax"):
        Tensor(np.zeros((0,))).argmax()


@fixture_ok
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
@given(data=st.data())
def test_softmax_and_log_softmax(name: str, dtype: type, device: str, data: st.DataObject) -> None:
    shape = data.draw(shapes(min_dims=1))
    x = data.draw(arrays(dtype, shape, min_value=-10, max_value=10))
    axis = data.draw(st.integers(-len(shape), len(shape) - 1))
    check_op(lambda t: getattr(t, name)(axis), lambda t: getattr(torch, name)(t, dim=axis), [x], device)
    check_op(lambda t: getattr(ag, name)(t, axis), lambda t: getattr(t, name)(axis), [x], device)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", ["softmax", "log_softmax", "logsumexp"])
def test_softmax_family_is_stable_for_huge_logits(dtype: type, name: str) -> None:
    x = np.array([[1e4, -1e4, 0.0, 1e4 - 1], [-1e4, -1e4 + 2, -1e4 + 1, -1e4]], dtype=dtype)
    if name == "logsumexp":
        check_op(lambda t: t.logsumexp(axis=1), lambda t: torch.logsumexp(t, dim=1), [x])
    else:
        check_op(lambda t: getattr(t, name)(1), lambda t: getattr(torch, name)(t, dim=1), [x])
    ours = getattr(Tensor(x), name)(1 if name != "logsumexp" else None)
    assert np.isfinite(ours.numpy()).all()


def test_logsumexp_of_minus_infinity_and_of_nothing() -> None:
    x = np.array([[-np.inf, -np.inf], [0.0, -np.inf]])
    expected = torch.logsumexp(torch.from_numpy(x), 1).numpy()
    np.testing.assert_array_equal(Tensor(x).logsumexp(axis=1).numpy(), expected)
    check_op(lambda t: t.logsumexp(axis=0), lambda t: torch.logsumexp(t, dim=0), [np.zeros((0, 3))])


def test_reductions_reject_bad_axes() -> None:
    x = Tensor(np.zeros((2, 3)))
    for fn in (ag.sum, ag.mean, ag.var, ag.max, ag.logsumexp):
        with pytest.raises(ShapeError, match="out of range"):
            fn(x, 2)
    with pytest.raises(ShapeError, match="repeated"):
        x.sum(axis=(0, -2))
    with pytest.raises(ShapeError, match="softmax"):
        x.softmax(axis=3)
