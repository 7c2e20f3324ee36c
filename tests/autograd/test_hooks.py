"""Tensor.register_hook on leaves and non-leaves (observing and replacing gradients) and retain_grad,
compared with torch."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from tapegrad.autograd import GraphError, Tensor, grad

from tests.support import random_like

DATA = np.array([[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]])


def test_leaf_hook_sees_the_total_gradient_once_and_can_replace_it() -> None:
    upstream = random_like(DATA.shape, np.float64, 0)
    calls, torch_calls = [], []
    x = Tensor(DATA, requires_grad=True)
    x.register_hook(lambda g: calls.append(g.numpy().copy()))
    x.register_hook(lambda g: g * 10.0)
    (x * 2.0 + x.exp()).backward(upstream)  # x reached along two paths
    tx = torch.tensor(DATA, requires_grad=True)
    tx.register_hook(lambda g: torch_calls.append(g.numpy().copy()))
    tx.register_hook(lambda g: g * 10.0)
    (tx * 2.0 + tx.exp()).backward(torch.from_numpy(upstream))
    assert len(calls) == len(torch_calls) == 1
    np.testing.assert_allclose(calls[0], torch_calls[0], rtol=1e-12)
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-12)


def test_non_leaf_hook_replacement_flows_to_the_leaves() -> None:
    upstream = random_like(DATA.shape, np.float64, 1)
    x = Tensor(DATA, requires_grad=True)
    h = x.tanh()
    h.register_hook(lambda g: g * g)  # not linear: a different gradient reaches x
    (h * h + h).backward(upstream)
    tx = torch.tensor(DATA, requires_grad=True)
    th = tx.tanh()
    th.register_hook(lambda g: g * g)
    (th * th + th).backward(torch.from_numpy(upstream))
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-12)


def test_hooks_run_in_grad_too_and_can_be_removed() -> None:
    x = Tensor(DATA, requires_grad=True)
    remove = x.register_hook(lambda g: g * 0.0)
    (g,) = grad((x * 3.0).sum(), x)
    assert not np.any(g.numpy())
    remove()
    (g,) = grad((x * 3.0).sum(), x)
    np.testing.assert_array_equal(g.numpy(), np.full(DATA.shape, 3.0))
    assert x.grad is None


def test_retain_grad_keeps_a_non_leaf_gradient() -> None:
    upstream = random_like(DATA.shape, np.float64, 2)
    x = Tensor(DATA, requires_grad=True)
    h = x.sigmoid()
    h.retain_grad()
    (h * x).backward(upstream)
    tx = torch.tensor(DATA, requires_grad=True)
    th = tx.sigmoid()
    th.retain_grad()
    (th * tx).backward(torch.from_numpy(upstream))
    np.testing.assert_allclose(h.grad.numpy(), th.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-12)
    x.retain_grad()  # a no-op on a leaf, which keeps .grad anyway


def test_hook_on_a_tensor_without_grad_is_an_error() -> None:
    with pytest.raises(GraphError, match="register_hook"):
        Tensor(DATA).register_hook(lambda g: g)
