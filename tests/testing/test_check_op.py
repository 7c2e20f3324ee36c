"""check_op passes correct ops and fails wrong ones with a report that says what, where, how much, and how to
replay it; each kind of check (values, gradients, second order, dtypes, mutation, graph) is shown to bite."""

from __future__ import annotations

import re

import numpy as np
import pytest
import torch
from tapegrad.autograd import Function, Tensor
from tapegrad.autograd.backend import array_module

from tapegrad.testing import Arg, broadcastable_shapes, check_op, replay

KEPT: list = []


def make_softsign(bug: str = ""):
    class Softsign(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x / (1 + array_module(x).abs(x))

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            d = 1 + x.abs()
            if bug == "first":
                return g / d
            if bug == "second":  # right values, but computed off the tape: no second derivative
                return Tensor(g.data / (d.data * d.data))
            return g / (d * d)

    def softsign(x):
        return Softsign.apply(x)

    return softsign


def test_a_correct_op_passes_against_torch_and_numeric() -> None:
    check_op(make_softsign(), torch.nn.functional.softsign, shapes=[(3, 4)], max_examples=5)
    # |x| has a kink at 0: central differences across it are meaningless, so keep the draws away from it
    check_op(make_softsign(), "numeric", shapes=[Arg((2, 3), away_from=(0.0,))], max_examples=3)
    # 0-d shapes included: this check found 0-d tanh/exp/sqrt losing their second derivative (since fixed)
    check_op(lambda a, b: a * b.tanh(), lambda a, b: a * b.tanh(), shapes=broadcastable_shapes(2), max_examples=5)


def test_a_wrong_gradient_fails_with_a_report_and_a_replay_snippet() -> None:
    with pytest.raises(AssertionError) as info:
        check_op(make_softsign("first"), "torch.nn.functional.softsign", shapes=[(3, 4)], max_examples=5)
    text = str(info.value)
    assert "softsign disagrees with torch.nn.functional.softsign" in text
    assert "first-order gradient of input 0" in text
    assert re.search(r"max abs [\d.e-]+, max rel [\d.e-]+", text)
    assert "tolerance: |ours - ref| <=" in text and "Reproduce:" in text
    # the snippet rebuilds the shrunk inputs exactly and fails the same way
    body = text.split("Reproduce:\n", 1)[1]
    code = "\n".join(line[4:] for line in body.splitlines())
    namespace = {"softsign": make_softsign("first")}
    with pytest.raises(AssertionError, match="first-order gradient of input 0"):
        exec(code, namespace)  # noqa: S102 - the report's own snippet


def test_second_order_is_checked() -> None:
    bad = make_softsign("second")
    check_op(bad, torch.nn.functional.softsign, second_order=False, max_examples=3)
    with pytest.raises(AssertionError, match="second-order gradient"):
        check_op(bad, torch.nn.functional.softsign, [(2,)], max_examples=3)


def test_tiny_gradients_are_compared_relatively() -> None:
    """The pooling failure of the issue: gradients ~2e-5 off by 1 % must not hide under an absolute 1e-4."""

    def scaled(x):
        return x * 2e-5

    def wrong(x):
        return x * (2e-5 * 1.01)

    check_op(scaled, lambda x: x * 2e-5, [(2,)], max_examples=3)
    with pytest.raises(AssertionError, match="max rel 0.01"):
        check_op(wrong, lambda x: x * 2e-5, [(2,)], ("float64",), max_examples=3)


def test_dtype_mutation_and_graph_are_checked() -> None:
    with pytest.raises(AssertionError, match=r"dtype of output 0\n\s+detail:\s+is float64, expected float32"):
        check_op(lambda x: x.astype(np.float64) * 2, lambda x: x * 2, [(2,)], ("float32",), max_examples=2)

    def mutating(x):
        out = x * 2
        x.data[...] = 0
        return out

    with pytest.raises(AssertionError, match="what: +mutation of input 0"):
        check_op(mutating, lambda x: x * 2, [(2,)], max_examples=2)

    def leaking(x):
        out = x.exp()
        KEPT.append(out)  # a global cache that keeps the op's node (and what it saved) alive
        return out

    try:
        with pytest.raises(AssertionError, match="what: +graph of backward"):
            check_op(leaking, torch.exp, [(2,)], max_examples=2)
    finally:
        KEPT.clear()


def test_wrong_values_and_arg_options() -> None:
    with pytest.raises(AssertionError, match="forward value of output 0"):
        check_op(lambda x: x.abs() * 1.001, torch.abs, shapes=[Arg((4,), away_from=(0.0,))], max_examples=3)
    check_op(lambda x: x.abs(), torch.abs, shapes=[Arg((4,), away_from=(0.0,))], max_examples=5)


def test_bad_tolerance_option_is_named() -> None:
    with pytest.raises(TypeError, match="unknown tolerance option"):
        check_op(lambda x: x, lambda x: x, rtl=1e-3)


def test_replay_accepts_plain_arrays() -> None:
    replay(make_softsign(), torch.nn.functional.softsign, inputs=[np.array([0.5, -2.0])])
    with pytest.raises(AssertionError, match="softsign disagrees"):
        replay(make_softsign("first"), "numeric", inputs=[np.array([0.5, -2.0])])
