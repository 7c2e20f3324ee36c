"""Second-order gradients (create_graph=True) against ``torch.autograd.grad(create_graph=True)``.

For each op f: g = grad(<v, f(x)>, x, create_graph=True), then the gradient of <w, g> with respect to x and
to the upstream gradient v, with random v and w.
"""

from __future__ import annotations

import numpy as np
import pytest
import tapegrad.autograd as ag
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from tapegrad.autograd import Tensor, grad
from tapegrad.autograd.testing import arrays, broadcastable_shapes, shapes

from tests.autograd.torchcheck import DTYPES, check_second_order

# name: (ours, torch's, number of inputs, value range); inputs broadcast against each other
OPS = {
    "mul": (lambda a, b: a * b, lambda a, b: a * b, 2, (-2, 2)),
    "div": (lambda a, b: a / b, lambda a, b: a / b, 2, (0.5, 2)),
    "pow_tensor": (lambda a, b: a**b, lambda a, b: a**b, 2, (0.5, 2)),
    "pow_scalar": (lambda a: a**3, lambda a: a**3, 1, (-2, 2)),
    "rpow": (lambda a: 2.0**a, lambda a: 2.0**a, 1, (-2, 2)),
    "exp": (ag.exp, torch.exp, 1, (-2, 2)),
    "log": (ag.log, torch.log, 1, (0.5, 3)),
    "sqrt": (ag.sqrt, torch.sqrt, 1, (0.5, 3)),
    "tanh": (ag.tanh, torch.tanh, 1, (-2, 2)),
    "sigmoid": (ag.sigmoid, torch.sigmoid, 1, (-4, 4)),
    "softplus": (lambda a: a.softplus(beta=2.0), lambda a: F.softplus(a, beta=2.0), 1, (-4, 4)),
    "softmax": (lambda a: a.softmax(-1), lambda a: a.softmax(-1), 1, (-3, 3)),
    "log_softmax": (lambda a: a.log_softmax(-1), lambda a: a.log_softmax(-1), 1, (-3, 3)),
    "logsumexp": (lambda a: a.logsumexp(-1), lambda a: a.logsumexp(-1), 1, (-3, 3)),
    "sum": (lambda a: (a * a).sum(0), lambda a: (a * a).sum(0), 1, (-2, 2)),
    "mean": (lambda a: (a * a).mean(), lambda a: (a * a).mean(), 1, (-2, 2)),
    "var": (lambda a: a.var(-1), lambda a: a.var(-1), 1, (-2, 2)),
    "max": (lambda a: (a * a).max(-1), lambda a: (a * a).amax(-1), 1, (-2, 2)),
    "maximum": (lambda a, b: ag.maximum(a * a, b), lambda a, b: torch.maximum(a * a, b), 2, (-2, 2)),
    "where": (lambda a, b: ag.where(a > 0, a * b, b * b), lambda a, b: torch.where(a > 0, a * b, b * b), 2,
              (-2, 2)),
    "getitem": (lambda a: (a * a)[..., [0, 0, -1]], lambda a: (a * a)[..., [0, 0, -1]], 1, (-2, 2)),
    "reshape_transpose": (lambda a: (a * a).reshape(-1, 1).T, lambda a: (a * a).reshape(-1, 1).T, 1, (-2, 2)),
    "cat": (lambda a, b: ag.cat([a * b, a], -1), lambda a, b: torch.cat([a * b, a.expand_as(a * b)], -1), 2,
            (-2, 2)),
    "relu_abs": (lambda a: a.relu() * a.abs(), lambda a: a.relu() * a.abs(), 1, (-2, 2)),
    "clip": (lambda a: a.clip(-1, 1) * a, lambda a: a.clamp(-1, 1) * a, 1, (-2, 2)),
}


@pytest.mark.parametrize("name", sorted(OPS))
@settings(max_examples=15)
@given(data=st.data())
def test_second_order_matches_torch(name: str, data: st.DataObject) -> None:
    ours, theirs, count, (low, high) = OPS[name]
    if count == 1:
        shape_list = [data.draw(shapes(min_dims=1, min_side=1, max_side=3, max_dims=3))]
    else:
        shape_list = list(data.draw(broadcastable_shapes(2, min_dims=1, min_side=1, max_side=3, max_dims=3)))
        if name == "cat":  # a must have the broadcast shape so the two pieces can be joined
            shape_list[0] = np.broadcast_shapes(*shape_list)
    magnitude = 0.1 if name in ("relu_abs", "clip", "max", "where", "maximum") else 0.0
    options = {"min_value": low, "max_value": high, "min_magnitude": magnitude, "unique": True}
    xs = [data.draw(arrays(np.float64, s, **options)) for s in shape_list]
    check_second_order(ours, theirs, xs)


@pytest.mark.parametrize("dtype", DTYPES)
@settings(max_examples=15)
@given(data=st.data())
def test_second_order_of_batched_matmul(dtype: type, data: st.DataObject) -> None:
    n, k, m = (data.draw(st.integers(1, 3)) for _ in range(3))
    batch_a, batch_b = data.draw(broadcastable_shapes(2, max_dims=2, min_side=1, max_side=3))
    a = data.draw(arrays(dtype, (*batch_a, n, k), min_value=-2, max_value=2))
    b = data.draw(arrays(dtype, (*batch_b, k, m), min_value=-2, max_value=2))
    check_second_order(lambda x, y: (x @ y).tanh(), lambda x, y: (x @ y).tanh(), [a, b])


@pytest.mark.parametrize("dtype", DTYPES)
def test_second_order_in_float32_too(dtype: type) -> None:
    rng = np.random.default_rng(0)
    x = rng.uniform(0.5, 2.0, size=(3, 4)).astype(dtype)
    y = rng.uniform(0.5, 2.0, size=(4,)).astype(dtype)
    check_second_order(lambda a, b: (a / b).log_softmax(-1) * a.sigmoid(),
                       lambda a, b: (a / b).log_softmax(-1) * a.sigmoid(), [x, y])


def test_third_order_of_a_polynomial() -> None:
    x = Tensor(np.array([1.5, -2.0]), requires_grad=True)
    (g1,) = grad((x**4).sum(), x, create_graph=True)
    (g2,) = grad(g1.sum(), x, create_graph=True)
    (g3,) = grad(g2.sum(), x)
    tx = torch.tensor([1.5, -2.0], dtype=torch.float64, requires_grad=True)
    (t1,) = torch.autograd.grad((tx**4).sum(), tx, create_graph=True)
    (t2,) = torch.autograd.grad(t1.sum(), tx, create_graph=True)
    (t3,) = torch.autograd.grad(t2.sum(), tx)
    for ours, theirs in ((g1, t1), (g2, t2), (g3, t3)):
        np.testing.assert_allclose(ours.numpy(), theirs.detach().numpy(), rtol=1e-12)


def test_first_gradient_without_create_graph_has_no_graph() -> None:
    x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    (g,) = grad((x**3).sum(), x)
    assert not g.requires_grad and g.grad_fn is None
