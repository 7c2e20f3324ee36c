"""Dropout: inverted scaling, mask statistics, gradient through the same mask, eval mode, seeding."""

from __future__ import annotations

import numpy as np
import pytest
from tapegrad.autograd import Tensor, manual_seed
from tapegrad.nn import functional as F

from tapegrad import nn
from tests.support import random_like


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("p", [0.1, 0.5, 0.8])
def test_dropout_zeroes_a_fraction_p_and_scales_the_rest(dtype, p):
    manual_seed(0)
    x = np.random.default_rng(1).uniform(1.0, 2.0, (200, 100)).astype(dtype)  # never zero
    ox = Tensor(x, requires_grad=True)
    out = F.dropout(ox, p=p, training=True)
    assert out.dtype == dtype
    y = out.numpy()
    dropped = y == 0
    # 20,000 Bernoulli(p) draws: the fraction is within 5 standard deviations of p
    assert abs(dropped.mean() - p) < 5 * np.sqrt(p * (1 - p) / x.size)
    np.testing.assert_allclose(y[~dropped], x[~dropped] / (1 - p), rtol=1e-6)
    g = random_like(x.shape, dtype, 2)
    out.backward(Tensor(g))
    expected = np.where(dropped, 0.0, g / (1 - p)).astype(dtype)
    np.testing.assert_allclose(ox.grad.numpy(), expected, rtol=1e-6)


def test_dropout_is_the_identity_in_eval_and_for_p_zero():
    x = Tensor(random_like((4, 5), np.float32, 0))
    assert F.dropout(x, 0.5, training=False) is x
    assert F.dropout(x, 0.0) is x
    layer = nn.Dropout(0.3).eval()
    assert layer(x) is x
    assert repr(layer) == "Dropout(p=0.3, inplace=False)"


def test_dropout_p_one_zeroes_everything():
    x = Tensor(random_like((3, 3), np.float64, 0), requires_grad=True)
    out = F.dropout(x, 1.0)
    np.testing.assert_array_equal(out.numpy(), 0.0)
    out.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), 0.0)


def test_dropout_masks_repeat_under_manual_seed_and_differ_otherwise():
    x = Tensor(np.ones((50, 50)))
    manual_seed(7)
    a = F.dropout(x).numpy()
    b = F.dropout(x).numpy()
    manual_seed(7)
    c = F.dropout(x).numpy()
    np.testing.assert_array_equal(a, c)
    assert not np.array_equal(a, b)


@pytest.mark.parametrize("p", [-0.1, 1.5])
def test_dropout_rejects_bad_probabilities(p):
    with pytest.raises(ValueError, match="dropout: probability"):
        F.dropout(Tensor(np.ones(3)), p)
    with pytest.raises(ValueError, match="Dropout"):
        nn.Dropout(p)
