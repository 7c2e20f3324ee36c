"""where, maximum/minimum (ties split evenly, like torch) and the comparison ops (boolean, no gradient)."""

from __future__ import annotations

import operator

import numpy as np
import pytest
import tapegrad.autograd as ag
import torch
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from tapegrad.autograd import Tensor
from tapegrad.autograd.testing import arrays, broadcastable_shapes

from tests.autograd.torchcheck import DTYPES, check_op, fixture_ok


@fixture_ok
@pytest.mark.parametrize("dtype", DTYPES)
@given(data=st.data())
def test_where_broadcasts_condition_and_both_branches(dtype: type, device: str, data: st.DataObject) -> None:
    sc, sa, sb = data.draw(broadcastable_shapes(3))
    cond = data.draw(hnp.arrays(np.bool_, sc))
    a, b = data.draw(arrays(dtype, sa)), data.draw(arrays(dtype, sb))
    as_tensor = data.draw(st.booleans())
    our_cond = Tensor(cond) if as_tensor else cond
    check_op(lambda x, y: ag.where(our_cond, x, y), lambda x, y: torch.where(torch.from_numpy(cond), x, y),
             [a, b], device)


@pytest.mark.parametrize("dtype", DTYPES)
@given(data=st.data())
def test_where_with_a_number_branch(dtype: type, data: st.DataObject) -> None:
    x = data.draw(arrays(dtype, min_value=-3, max_value=3))
    check_op(lambda t: ag.where(t > 0, t, 0.0), lambda t: torch.where(t > 0, t, 0.0), [x])
    check_op(lambda t: ag.where(t > 0, -1.5, t * 2), lambda t: torch.where(t > 0, -1.5, t * 2), [x])


@fixture_ok
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", ["maximum", "minimum"])
@given(data=st.data())
def test_maximum_minimum_with_ties(name: str, dtype: type, device: str, data: st.DataObject) -> None:
    # values from a small grid: many exact ties, where torch gives each side half the gradient
    sa, sb = data.draw(broadcastable_shapes(2))
    grid = st.sampled_from([-1.0, 0.0, 0.5, 2.0])
    a, b = data.draw(hnp.arrays(dtype, sa, elements=grid)), data.draw(hnp.arrays(dtype, sb, elements=grid))
    check_op(getattr(ag, name), getattr(torch, name), [a, b], device)
    check_op(lambda x, y: getattr(x, name)(y), getattr(torch, name), [a, b], device)


@pytest.mark.parametrize("name", ["maximum", "minimum"])
def test_maximum_with_a_number(name: str) -> None:
    x = np.array([-1.0, 0.0, 0.5, 2.0])
    check_op(lambda t: getattr(ag, name)(t, 0.5), lambda t: getattr(torch, name)(t, torch.tensor(0.5)), [x])


COMPARISONS = [operator.eq, operator.ne, operator.lt, operator.le, operator.gt, operator.ge]


@pytest.mark.parametrize("op", COMPARISONS, ids=lambda op: op.__name__)
@given(data=st.data())
def test_comparisons_are_boolean_and_not_differentiable(op, data: st.DataObject) -> None:
    sa, sb = data.draw(broadcastable_shapes(2))
    grid = st.sampled_from([-1.0, 0.0, 2.0])
    a = data.draw(hnp.arrays(np.float32, sa, elements=grid))
    b = data.draw(hnp.arrays(np.float32, sb, elements=grid))
    ours = op(Tensor(a, requires_grad=True), Tensor(b))
    theirs = op(torch.from_numpy(a), torch.from_numpy(b))
    assert ours.dtype == np.bool_ and not ours.requires_grad and ours.grad_fn is None
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    np.testing.assert_array_equal(op(Tensor(a), 0.0).numpy(), op(torch.from_numpy(a), 0.0).numpy())
    fn = getattr(ag, op.__name__)
    np.testing.assert_array_equal(fn(Tensor(a), Tensor(b)).numpy(), theirs.numpy())


def test_where_with_an_integer_branch_takes_the_float_dtype_like_torch() -> None:
    cond = np.array([True, False, True])
    ints, floats = np.array([1, 2, 3]), np.array([0.5, -1.5, 2.5], dtype=np.float32)
    check_op(lambda a, b: ag.where(cond, a, b), lambda a, b: torch.where(torch.from_numpy(cond), a, b),
             [ints, floats])
    check_op(lambda a, b: ag.where(cond, b, a), lambda a, b: torch.where(torch.from_numpy(cond), b, a),
             [ints, floats])
