"""Elementwise functions of one tensor against torch: exp, log, sqrt, abs, relu, sigmoid, tanh, softplus,
clip, and dtype casts."""

from __future__ import annotations

import numpy as np
import pytest
import tapegrad.autograd as ag
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from tapegrad.autograd import Tensor, grad
from tapegrad.autograd.testing import arrays, shapes

from tests.autograd.torchcheck import DTYPES, check_op, fixture_ok

# name: (ours, torch's, value range, min |x|); kinks (abs, relu at 0) are kept away from by min |x|
UNARY = {
    "exp": (ag.exp, torch.exp, (-5, 5), 0.0),
    "log": (ag.log, torch.log, (0.1, 10), 0.0),
    "sqrt": (ag.sqrt, torch.sqrt, (0.1, 10), 0.0),
    "abs": (ag.abs, torch.abs, (-5, 5), 1e-2),
    "relu": (ag.relu, torch.relu, (-5, 5), 1e-2),
    "sigmoid": (ag.sigmoid, torch.sigmoid, (-30, 30), 0.0),
    "tanh": (ag.tanh, torch.tanh, (-10, 10), 0.0),
    "softplus": (ag.softplus, F.softplus, (-30, 30), 0.0),
    "neg": (lambda t: -t, torch.neg, (-5, 5), 0.0),
}
METHODS = ["exp", "log", "sqrt", "abs", "relu", "sigmoid", "tanh", "softplus"]


@fixture_ok
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", sorted(UNARY))
@given(data=st.data())
def test_unary_matches_torch(name: str, dtype: type, device: str, data: st.DataObject) -> None:
    ours, theirs, (low, high), magnitude = UNARY[name]
    x = data.draw(arrays(dtype, min_value=low, max_value=high, min_magnitude=magnitude))
    check_op(ours, theirs, [x], device)


@pytest.mark.parametrize("name", METHODS)
def test_tensor_methods_are_the_ops(name: str) -> None:
    x = np.random.default_rng(3).uniform(0.2, 2.0, size=(3, 4)).astype(np.float32)
    check_op(lambda t: getattr(t, name)(), UNARY[name][1], [x])
    assert abs(Tensor(x)).dtype == np.float32


def test_kinks_at_zero_have_torch_subgradients() -> None:
    x = np.array([-1.0, 0.0, 2.0])
    check_op(ag.relu, torch.relu, [x])
    check_op(ag.abs, torch.abs, [x])


@pytest.mark.parametrize("dtype", DTYPES)
@given(data=st.data())
def test_softplus_beta_and_threshold(dtype: type, data: st.DataObject) -> None:
    beta = data.draw(st.sampled_from([0.5, 1.0, 2.0, 3.0]))
    threshold = data.draw(st.sampled_from([1.0, 5.0, 20.0]))
    x = data.draw(arrays(dtype, min_value=-15, max_value=15))
    check_op(
        lambda t: t.softplus(beta=beta, threshold=threshold),
        lambda t: F.softplus(t, beta=beta, threshold=threshold),
        [x],
    )


def test_softplus_switches_to_linear_strictly_above_threshold() -> None:
    x = np.array([4.0, 5.0, 5.5, 6.0])  # beta * x == threshold at 5.0: still the soft branch, as in torch
    check_op(lambda t: ag.softplus(t, 2.0, 10.0), lambda t: F.softplus(t, beta=2.0, threshold=10.0), [x])


def test_sigmoid_is_stable_for_huge_inputs() -> None:
    x = np.array([-1000.0, -100.0, 0.0, 100.0, 1000.0], dtype=np.float32)
    check_op(ag.sigmoid, torch.sigmoid, [x])


BOUNDS = [(-0.5, 0.5), (0.0, None), (None, 0.25), (-1.0, -1.0)]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("low, high", BOUNDS)
@given(data=st.data())
def test_clip_matches_clamp_including_the_bounds(dtype: type, low, high, data: st.DataObject) -> None:
    # values on a grid that contains the bounds: torch.clamp passes the gradient AT the bounds (inclusive)
    grid = st.sampled_from([-1.5, -1.0, -0.7, -0.5, -0.25, 0.0, 0.25, 0.3, 0.5, 1.0, 1.5])
    x = data.draw(hnp.arrays(dtype, shapes(), elements=grid))
    check_op(lambda t: t.clip(low, high), lambda t: torch.clamp(t, low, high), [x])
    check_op(lambda t: ag.clamp(t, min=low, max=high), lambda t: t.clamp(min=low, max=high), [x])


def test_clip_needs_a_bound_and_number_bounds() -> None:
    x = Tensor(np.zeros(3))
    with pytest.raises(ValueError, match="clip"):
        x.clip()
    with pytest.raises(TypeError, match="clip"):
        x.clip(Tensor(np.zeros(3)), 1.0)


@pytest.mark.parametrize("source, target", [(np.float32, np.float64), (np.float64, np.float32)])
def test_cast_is_differentiable_and_returns_the_source_dtype_gradient(source: type, target: type) -> None:
    x = np.random.default_rng(0).standard_normal((2, 3)).astype(source)
    torch_target = torch.from_numpy(np.zeros(1, target)).dtype
    check_op(lambda t: t.astype(target) * 3.0, lambda t: t.to(torch_target) * 3.0, [x])
    t = Tensor(x, requires_grad=True)
    (g,) = grad((t.double() * t.double()).sum(), [t])
    assert g.dtype == source


def test_cast_to_integer_cuts_the_graph() -> None:
    t = Tensor(np.array([1.5, 2.5]), requires_grad=True)
    as_int = t.long()
    assert as_int.dtype == np.int64 and not as_int.requires_grad
    assert t.float().dtype == np.float32 and t.float().requires_grad
    assert t.astype(np.float64) is t  # nothing to do: the same tensor


@pytest.mark.parametrize("name", ["exp", "log", "sqrt", "sigmoid", "tanh"])
def test_integer_tensors_become_float32_like_torch(name: str) -> None:
    ints = np.array([1, 2, 5])
    ours, theirs = getattr(ag, name)(Tensor(ints)), getattr(torch, name)(torch.from_numpy(ints))
    assert ours.dtype == theirs.numpy().dtype == np.float32
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6)
