"""Losses at the edges (issue 14, defects 3 and 4): -inf logits, float16 extremes, ignored rows, empty batches.

Every value and gradient is compared with PyTorch; an empty batch must also not print NumPy's RuntimeWarning.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
from tapegrad.autograd import Tensor
from tapegrad.nn import functional as F

from tests.support import assert_close

INF = float("inf")

CASES = [  # (logits, targets, dtype): each once made a NaN where PyTorch has a number
    ([[0.0, 1.0, -INF]], [0], np.float32),  # the issue's repro: torch gives 1.3133
    ([[0.0, 1.0, -INF], [1.0, 2.0, 3.0]], [1, 2], np.float64),
    ([[0.0, 1.0, -INF], [1.0, 2.0, 3.0]], [-100, 0], np.float32),  # the -inf sits in an ignored row
    ([[4e4, -4e4, 0.0]], [0], np.float16),  # finite float16 logits whose difference overflows
    ([[4e4, -4e4, 0.0]], [2], np.float16),
    ([[-4e4, 4e4], [4e4, -4e4]], [1, 0], np.float16),
]


def _torch_loss(fn, logits, target, reduction):
    t = torch.tensor(np.asarray(logits), requires_grad=True)
    loss = fn(t, torch.tensor(target), reduction=reduction)
    return t, loss


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("logits, target, dtype", CASES)
def test_cross_entropy_with_infinite_or_huge_logits_matches_torch(logits, target, dtype, reduction):
    x = np.array(logits, dtype=dtype)
    ours = F.cross_entropy(Tensor(x, requires_grad=True), Tensor(np.array(target)), reduction=reduction)
    t, theirs = _torch_loss(torch.nn.functional.cross_entropy, x, target, reduction)
    np.testing.assert_allclose(np.asarray(ours.numpy(), np.float64), theirs.detach().double().numpy(),
                               rtol=1e-3 if dtype == np.float16 else 1e-6)


def test_the_issue_repro_is_1_3133():
    loss = F.cross_entropy(Tensor(np.array([[0.0, 1.0, -INF]], np.float32)), Tensor(np.array([0])))
    assert loss.item() == pytest.approx(1.3133, abs=1e-4)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("logits, target, dtype", [c for c in CASES if c[2] != np.float16])
def test_nll_loss_with_infinite_log_probabilities_matches_torch(logits, target, dtype, reduction):
    x = np.array(logits, dtype=dtype)
    ours = F.nll_loss(Tensor(x), Tensor(np.array(target)), reduction=reduction)
    _, theirs = _torch_loss(torch.nn.functional.nll_loss, x, target, reduction)
    np.testing.assert_allclose(ours.numpy(), theirs.detach().numpy(), rtol=1e-6)


@pytest.mark.parametrize("fn", ["cross_entropy", "nll_loss"])
def test_empty_batch_mean_backward_is_quiet_and_matches_torch(fn):
    x = Tensor(np.zeros((0, 3), np.float32), requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # NumPy's divide-by-zero RuntimeWarning fails the test
        loss = getattr(F, fn)(x, Tensor(np.zeros(0, np.int64)))
        loss.backward()
    t, theirs = _torch_loss(getattr(torch.nn.functional, fn), np.zeros((0, 3), np.float32),
                            np.zeros(0, np.int64), "mean")
    theirs.backward()
    assert np.isnan(loss.item()) and torch.isnan(theirs)
    assert x.grad.shape == (0, 3) == tuple(t.grad.shape)


@pytest.mark.parametrize("fn", ["cross_entropy", "nll_loss"])
def test_every_target_ignored_gives_nan_loss_and_zero_gradient_like_torch(fn):
    logits = np.random.default_rng(0).standard_normal((2, 3)).astype(np.float32)
    x = Tensor(logits, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loss = getattr(F, fn)(x, Tensor(np.array([-100, -100])))
        loss.backward()
    t, theirs = _torch_loss(getattr(torch.nn.functional, fn), logits, [-100, -100], "mean")
    theirs.backward()
    assert np.isnan(loss.item()) and torch.isnan(theirs)
    assert_close(x.grad.numpy(), t.grad.numpy(), np.float32)
