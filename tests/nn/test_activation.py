"""Activations against PyTorch: relu, leaky_relu, sigmoid, tanh, softmax, log_softmax (and modules)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from tapegrad.autograd import Tensor, grad
from tapegrad.nn import functional as F

from tapegrad import nn
from tests.support import assert_close, random_like

DTYPES = [np.float32, np.float64]

ELEMENTWISE = {
    "relu": (F.relu, torch.relu),
    "leaky_relu": (F.leaky_relu, torch.nn.functional.leaky_relu),
    "leaky_relu_0.2": (lambda x: F.leaky_relu(x, 0.2), lambda x: torch.nn.functional.leaky_relu(x, 0.2)),
    "sigmoid": (F.sigmoid, torch.sigmoid),
    "tanh": (F.tanh, torch.tanh),
}


def _input(shape, dtype, seed):
    x = np.random.default_rng(seed).standard_normal(shape) * 3
    x.flat[:: max(1, x.size // 3)] = 0.0  # exact zeros: the kink of relu / leaky_relu
    return x.astype(dtype)


@pytest.mark.parametrize("name", list(ELEMENTWISE))
@pytest.mark.parametrize("dtype", DTYPES)
@given(shape=st.lists(st.integers(1, 5), min_size=1, max_size=3), seed=st.integers(0, 2**16))
def test_elementwise_matches_torch(name, dtype, shape, seed):
    ours_fn, torch_fn = ELEMENTWISE[name]
    x = _input(tuple(shape), dtype, seed)
    g = random_like(x.shape, dtype, seed + 1)
    ox, tx = Tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    out, ref = ours_fn(ox), torch_fn(tx)
    assert_close(out, ref, dtype)
    (gx,) = grad(out, [ox], Tensor(g))
    (rx,) = torch.autograd.grad(ref, [tx], torch.tensor(g))
    assert_close(gx, rx, dtype)


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
@pytest.mark.parametrize("dtype", DTYPES)
@given(shape=st.lists(st.integers(1, 5), min_size=1, max_size=3), data=st.data(), seed=st.integers(0, 2**16))
def test_softmax_family_matches_torch(name, dtype, shape, data, seed):
    dim = data.draw(st.integers(-len(shape), len(shape) - 1))
    x = _input(tuple(shape), dtype, seed)
    g = random_like(x.shape, dtype, seed + 1)
    ox, tx = Tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    out = getattr(F, name)(ox, dim=dim)
    ref = getattr(torch.nn.functional, name)(tx, dim=dim)
    assert_close(out, ref, dtype)
    (gx,) = grad(out, [ox], Tensor(g))
    (rx,) = torch.autograd.grad(ref, [tx], torch.tensor(g))
    assert_close(gx, rx, dtype)


def test_softmax_extreme_logits_are_finite():
    x = np.array([[1e4, -1e4, 0.0], [-1e4, -1e4, -1e4]])
    for name in ("softmax", "log_softmax"):
        out = getattr(F, name)(Tensor(x), dim=1).numpy()
        ref = getattr(torch.nn.functional, name)(torch.tensor(x), dim=1).numpy()
        np.testing.assert_array_equal(out, ref)


@pytest.mark.parametrize("dtype", DTYPES)
def test_leaky_relu_second_order_matches_torch(dtype):
    x = _input((4, 3), dtype, 5)
    ox, tx = Tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    (gx,) = grad((F.leaky_relu(ox, 0.3) ** 3).sum(), [ox], create_graph=True)
    (rx,) = torch.autograd.grad((torch.nn.functional.leaky_relu(tx, 0.3) ** 3).sum(), [tx], create_graph=True)
    (ggx,) = grad((gx * gx).sum(), [ox])
    (rgx,) = torch.autograd.grad((rx * rx).sum(), [tx])
    assert_close(ggx, rgx, dtype)


def test_rectifiers_are_the_function_classes_the_deconvnet_looks_for():
    x = Tensor(np.array([-1.0, 2.0]), requires_grad=True)
    assert F.relu(x).grad_fn.name == "Relu"
    assert F.sigmoid(x).grad_fn.name == "Sigmoid"
    assert F.tanh(x).grad_fn.name == "Tanh"
    assert F.leaky_relu(x).grad_fn.name == "LeakyRelu"


MODULES = [
    (nn.ReLU(), torch.nn.ReLU()),
    (nn.LeakyReLU(), torch.nn.LeakyReLU()),
    (nn.LeakyReLU(0.2), torch.nn.LeakyReLU(0.2)),
    (nn.Sigmoid(), torch.nn.Sigmoid()),
    (nn.Tanh(), torch.nn.Tanh()),
    (nn.Softmax(dim=1), torch.nn.Softmax(dim=1)),
    (nn.LogSoftmax(dim=0), torch.nn.LogSoftmax(dim=0)),
]


@pytest.mark.parametrize("pair", MODULES, ids=lambda p: repr(p[0]))
def test_activation_modules_match_torch(pair):
    ours, theirs = pair
    assert repr(ours) == repr(theirs)
    x = _input((3, 4), np.float64, 0)
    g = random_like(x.shape, np.float64, 1)
    ox, tx = Tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    out, ref = ours(ox), theirs(tx)
    assert_close(out, ref)
    out.backward(Tensor(g))
    ref.backward(torch.tensor(g))
    assert_close(ox.grad, tx.grad)


def test_softmax_without_dim_uses_pytorchs_legacy_choice():
    for shape in [(4,), (2, 3), (2, 3, 4), (2, 3, 4, 5)]:
        x = _input(shape, np.float64, 2)
        with pytest.warns(UserWarning):
            ref = torch.nn.functional.softmax(torch.tensor(x), dim=None)
        assert_close(F.softmax(Tensor(x)), ref)
