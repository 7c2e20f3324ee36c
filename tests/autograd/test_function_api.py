"""The public Function API: a user-defined op with forward/backward/save_for_backward, needs_input_grad,
several outputs, double backward through it, and the engine's checks on what a backward returns."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch
from tapegrad.autograd import (
    Context,
    DTypeError,
    Function,
    GraphError,
    ShapeError,
    Tensor,
    grad,
    gradcheck,
    gradgradcheck,
)

from tests.autograd.torchcheck import check_op, check_second_order
from tests.support import random_like


class ScaledCube(Function):
    """y = scale * x**3 * w, written only with the public API."""

    @staticmethod
    def forward(ctx: Context, x: Any, w: Any, scale: float = 1.0) -> Any:
        ctx.save_for_backward(x, w)
        ctx.scale = scale
        ctx.seen_needs = ctx.needs_input_grad
        return scale * x**3 * w

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> tuple[Any, ...]:
        x, w = ctx.saved_tensors
        gx = g * (3.0 * ctx.scale) * x * x * w if ctx.needs_input_grad[0] else None
        gw = g * ctx.scale * x**3 if ctx.needs_input_grad[1] else None
        return gx, gw  # scale is a keyword argument: no gradient slot


def scaled_cube(x: Any, w: Any) -> Any:
    if isinstance(x, torch.Tensor):
        return 0.5 * x**3 * w
    return ScaledCube.apply(x, w, scale=0.5)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_user_op_matches_the_same_formula_in_torch(dtype: type) -> None:
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal((3, 4)).astype(dtype), rng.standard_normal((4,)).astype(dtype)
    check_op(scaled_cube, scaled_cube, [x, w])  # w broadcasts: the engine sums its gradient back
    check_op(scaled_cube, scaled_cube, [x, w], differentiable=[False, True])


def test_user_op_double_backward_and_gradcheck() -> None:
    rng = np.random.default_rng(1)
    x, w = rng.standard_normal((2, 3)), rng.standard_normal((2, 3))
    check_second_order(scaled_cube, scaled_cube, [x, w])
    inputs = [Tensor(x, requires_grad=True), Tensor(w, requires_grad=True)]
    assert gradcheck(scaled_cube, inputs)
    assert gradgradcheck(scaled_cube, inputs)


def test_needs_input_grad_and_saved_inputs_are_the_input_tensors() -> None:
    x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    w = Tensor(np.array([3.0, 4.0]))
    y = ScaledCube.apply(x, w)
    ctx = y.grad_fn
    assert ctx.seen_needs == (True, False)
    saved_x, saved_w = ctx.saved_tensors
    assert saved_x is x and saved_w is w
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 3.0 * x.numpy() ** 2 * w.numpy())
    assert not hasattr(ctx, "scale")  # what forward stored on ctx is freed with the graph


def test_no_node_is_recorded_when_nothing_requires_grad() -> None:
    y = ScaledCube.apply(Tensor(np.array([1.0])), Tensor(np.array([2.0])))
    assert y.grad_fn is None and not y.requires_grad


class SplitHalves(Function):
    """Two outputs; the backward gets one gradient per output (zeros for an unused one)."""

    @staticmethod
    def forward(ctx: Context, x: Any) -> Any:
        n = x.shape[0] // 2
        return x[:n] * 2.0, x[n:] * 3.0

    @staticmethod
    def backward(ctx: Context, ga: Tensor, gb: Tensor) -> Any:
        from tapegrad.autograd import cat

        return cat([ga * 2.0, gb * 3.0])


def test_multiple_outputs_with_one_unused() -> None:
    x = Tensor(np.arange(4.0), requires_grad=True)
    a, b = SplitHalves.apply(x)
    upstream = random_like((2,), np.float64, 5)
    a.backward(upstream)
    np.testing.assert_allclose(x.grad.numpy(), np.concatenate([2.0 * upstream, [0.0, 0.0]]))


def _op(backward_result: Any) -> type[Function]:
    class Broken(Function):
        @staticmethod
        def forward(ctx: Context, x: Any) -> Any:
            return x * 2.0

        @staticmethod
        def backward(ctx: Context, g: Tensor) -> Any:
            return backward_result(g)

    return Broken


def test_backward_returning_a_wrong_shape_is_an_error_naming_the_op() -> None:
    x = Tensor(np.ones((2, 3)), requires_grad=True)
    with pytest.raises(ShapeError, match=r"Broken\.backward .*shape \(3, 2\).*\(2, 3\)"):
        _op(lambda g: g.reshape(3, 2)).apply(x).sum().backward()


def test_backward_returning_an_integer_gradient_is_an_error() -> None:
    x = Tensor(np.ones(3), requires_grad=True)
    with pytest.raises(DTypeError, match=r"Broken\.backward .*int64"):
        _op(lambda g: g.data.astype(np.int64)).apply(x).sum().backward()


def test_backward_returning_too_few_gradients_is_an_error() -> None:
    x = Tensor(np.ones(3), requires_grad=True)
    with pytest.raises(GraphError, match=r"Broken\.backward returned 0 gradients, expected 1"):
        _op(lambda g: ()).apply(x).sum().backward()


@pytest.mark.host_only  # NumPy operands / CPU defaults: the device pass deselects it
def test_backward_may_return_the_broadcast_shape_or_an_array() -> None:
    x = Tensor(np.ones((1, 3)), requires_grad=True)
    _op(lambda g: g.data.reshape(1, 1, 3) * np.ones((2, 4, 1))).apply(x).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.full((1, 3), 8.0))


def test_backward_for_overrides_each_nodes_rule() -> None:
    x = Tensor(np.array([-1.0, 2.0]), requires_grad=True)
    y = x.relu().sum()

    def guided(ctx: Context) -> Any:
        original = ctx.function.backward
        if ctx.name == "Relu":
            return lambda c, g: g * 5.0  # pass everything, scaled
        return original

    (g,) = grad(y, x, backward_for=guided)
    np.testing.assert_array_equal(g.numpy(), [5.0, 5.0])
