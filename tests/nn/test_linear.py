"""``nn.Linear`` against PyTorch, and its initialisation.

``F.linear``'s values, gradients and second order against torch are the generated check of its spec
(``tests/testing/test_ops.py``, spec ``linear``)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from tapegrad.autograd import Tensor

from tapegrad import nn
from tests.support import assert_close, random_like

DTYPES = [np.float32, np.float64]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("bias", [True, False])
def test_linear_module_matches_torch(dtype, bias):
    layer = nn.Linear(5, 3, bias=bias).to(dtype=dtype)
    twin = torch.nn.Linear(5, 3, bias=bias).to(torch.float64 if dtype == np.float64 else torch.float32)
    twin.load_state_dict({k: torch.from_numpy(v) for k, v in layer.state_dict().items()})
    x = random_like((7, 5), dtype, 1)
    g = random_like((7, 3), dtype, 2)
    out = layer(Tensor(x, requires_grad=True))
    ref = twin(torch.tensor(x))
    assert_close(out, ref, dtype)
    out.backward(Tensor(g))
    ref.backward(torch.tensor(g))
    for (name, p), (tname, tp) in zip(layer.named_parameters(), twin.named_parameters(), strict=True):
        assert name == tname
        assert p.dtype == dtype
        assert_close(p.grad, tp.grad, dtype)


def test_linear_default_init_follows_pytorch_bounds():
    """kaiming_uniform(a=sqrt(5)) draws the weight from U(+-1/sqrt(in)); the bias has the same bound."""
    layer = nn.Linear(400, 300)
    bound = 1 / math.sqrt(400)
    w, b = layer.weight.numpy(), layer.bias.numpy()
    assert w.dtype == np.float32 and w.shape == (300, 400) and b.shape == (300,)
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.99 * bound
    assert np.abs(b).max() <= bound and np.abs(b).max() > 0.95 * bound
    # the variance of U(-c, c) is c^2 / 3
    np.testing.assert_allclose(w.var(), bound**2 / 3, rtol=0.02)
    np.testing.assert_allclose(w.mean(), 0, atol=3 * bound / math.sqrt(3 * w.size))


def test_identity_and_flatten():
    x = Tensor(np.arange(24.0).reshape(2, 3, 4), requires_grad=True)
    assert nn.Identity(3, foo=1)(x) is x
    y = nn.Flatten()(x)
    assert y.shape == (2, 12)
    assert nn.Flatten(0, 1)(x).shape == (6, 4)
    ref = torch.nn.Flatten(0, 1)(torch.zeros(2, 3, 4))
    assert tuple(ref.shape) == (6, 4)
    assert repr(nn.Flatten()) == repr(torch.nn.Flatten())
