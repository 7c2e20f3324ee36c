"""gradcheck / gradgradcheck: they pass on correct ops, and catch (with a readable report) wrong ones."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import tapegrad.autograd as ag
from hypothesis import given, settings
from hypothesis import strategies as st
from tapegrad.autograd import (
    Context,
    DTypeError,
    Function,
    GradcheckError,
    TapegradError,
    Tensor,
    gradcheck,
    gradgradcheck,
)
from tapegrad.autograd.testing import arrays, broadcastable_shapes


def leaves(*arrays_: np.ndarray) -> list[Tensor]:
    return [Tensor(a, requires_grad=True) for a in arrays_]


def _buggy_cube(first_order_bug: bool) -> type[Function]:
    class Cube(Function):
        @staticmethod
        def forward(ctx: Context, x: Any) -> Any:
            ctx.save_for_backward(x)
            return x**3

        @staticmethod
        def backward(ctx: Context, g: Tensor) -> Any:
            (x,) = ctx.saved_tensors
            if first_order_bug:  # wrong at one element only: the report must point at it
                factor = np.ones(x.shape)
                factor.reshape(-1)[-1] = 1.01
                factor = Tensor(factor)  # on the default device, like x
                return g * 3.0 * x * x * factor
            # right values, but built from raw arrays: the first gradient does not depend on x on the tape
            return g * (3.0 * x.data * x.data)

    return Cube


OPS = {
    "matmul_tanh": (lambda a, b: (a @ b).tanh(), [(3, 4), (4, 2)]),
    "softmax": (lambda a: a.softmax(-1), [(2, 5)]),
    "broadcast_div": (lambda a, b: a / (b * b + 1.0), [(3, 1), (4,)]),
    "var_logsumexp": (lambda a: a.var(0) + a.logsumexp(1).sum(), [(3, 3)]),
    "getitem_cat": (lambda a, b: ag.cat([a[[0, 0, 1]], b], 0), [(2, 3), (1, 3)]),
    "two_outputs": (lambda a: a.split(1, axis=0), [(2, 2)]),
}


@pytest.mark.parametrize("name", sorted(OPS))
def test_gradcheck_and_gradgradcheck_pass_on_correct_ops(name: str) -> None:
    fn, shapes = OPS[name]
    rng = np.random.default_rng(0)
    inputs = leaves(*(rng.uniform(-1, 1, s) for s in shapes))
    assert gradcheck(fn, inputs)
    assert gradgradcheck(fn, inputs)


@settings(max_examples=10)
@given(data=st.data())
def test_gradcheck_on_drawn_broadcasting_products(data: st.DataObject) -> None:
    sa, sb = data.draw(broadcastable_shapes(2, max_side=3))
    a = data.draw(arrays(np.float64, sa, min_value=-2, max_value=2))
    b = data.draw(arrays(np.float64, sb, min_value=-2, max_value=2))
    assert gradcheck(lambda x, y: (x * y).sigmoid(), leaves(a, b))


def test_wrong_first_derivative_is_reported_with_input_error_and_index() -> None:
    x = np.random.default_rng(1).uniform(0.5, 1.5, (2, 3))
    other = Tensor(np.ones(1), requires_grad=True)
    with pytest.raises(GradcheckError) as info:
        gradcheck(lambda o, t: _buggy_cube(True).apply(t) * o, [other, Tensor(x, requires_grad=True)])
    report = str(info.value)
    assert "input 1" in report and "input 0" not in report
    assert "max abs error" in report and "max rel error" in report
    assert "index (1, 2)" in report and "1 of 6 elements" in report
    assert not gradcheck(_buggy_cube(True).apply, leaves(x), raise_exception=False)


def test_gradgradcheck_catches_a_backward_that_is_not_differentiable() -> None:
    x = leaves(np.random.default_rng(2).uniform(0.5, 1.5, (3,)))
    op = _buggy_cube(False).apply
    assert gradcheck(op, x)  # the first derivative is right ...
    with pytest.raises(GradcheckError, match="gradgradcheck: the gradient of input 0"):
        gradgradcheck(op, x)  # ... its derivative is not
    assert not gradgradcheck(op, x, raise_exception=False)


def test_random_upstream_catches_a_transposed_gradient_that_ones_would_hide() -> None:
    class BadTranspose(Function):
        @staticmethod
        def forward(ctx: Context, x: Any) -> Any:
            return x.T.copy()

        @staticmethod
        def backward(ctx: Context, g: Tensor) -> Any:
            return g.reshape(g.shape[::-1])  # right shape, wrong element order

    x = leaves(np.random.default_rng(3).standard_normal((2, 3)))
    ones = Tensor(np.ones((3, 2)))
    assert not ag.grad(BadTranspose.apply(x[0]), x[0], grad_outputs=ones)[0].numpy().std()  # ones: invisible
    assert not gradcheck(BadTranspose.apply, x, raise_exception=False)


def test_float32_inputs_are_refused_with_a_hint() -> None:
    with pytest.raises(DTypeError, match=r"float64.*\.double\(\)"):
        gradcheck(ag.exp, [Tensor(np.ones(2, np.float32), requires_grad=True)])


def test_non_leaf_and_no_differentiable_input_are_refused() -> None:
    x = Tensor(np.ones(2), requires_grad=True)
    with pytest.raises(DTypeError, match="not a leaf"):
        gradcheck(ag.exp, [x * 2.0])
    with pytest.raises(TapegradError, match="nothing to check"):
        gradcheck(ag.exp, [Tensor(np.ones(2))])


def test_non_tensor_arguments_pass_through_and_inputs_are_restored() -> None:
    data = np.array([0.3, -0.2, 0.9])
    x = Tensor(data.copy(), requires_grad=True)
    assert gradcheck(lambda t, k: (t * k).exp(), [x, 2.5])
    np.testing.assert_array_equal(x.numpy(), data)
    assert x.grad is None


def test_a_function_independent_of_its_input_passes() -> None:
    x = Tensor(np.ones(3), requires_grad=True)
    assert gradcheck(lambda t: Tensor(np.arange(3.0)), [x])
