"""Losses against PyTorch: cross_entropy (weights, ignore_index, label smoothing, reductions, extra dims),
nll_loss, mse_loss, their modules, extreme logits and second-order gradients."""

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


def _case(rng, n, c, extra, dtype, ignore):
    logits = (rng.standard_normal((n, c, *extra)) * 3).astype(dtype)
    target = rng.integers(0, c, (n, *extra)).astype(np.int64)
    if ignore and target.size > 1:
        target.flat[0] = -100 if ignore == "default" else 1
    return logits, target


@pytest.mark.parametrize("dtype", DTYPES)
@given(
    n=st.integers(1, 5),
    c=st.integers(2, 5),
    extra=st.lists(st.integers(1, 3), max_size=2),
    weighted=st.booleans(),
    ignore=st.sampled_from([None, "default", "custom"]),
    smoothing=st.sampled_from([0.0, 0.1, 0.35]),
    reduction=st.sampled_from(["mean", "sum", "none"]),
    seed=st.integers(0, 2**16),
)
def test_cross_entropy_matches_torch(dtype, n, c, extra, weighted, ignore, smoothing, reduction, seed):
    rng = np.random.default_rng(seed)
    logits, target = _case(rng, n, c, extra, dtype, ignore)
    weight = rng.uniform(0.2, 2.0, c).astype(dtype) if weighted else None
    ignore_index = 1 if ignore == "custom" else -100
    kwargs = dict(ignore_index=ignore_index, reduction=reduction, label_smoothing=smoothing)
    ox = Tensor(logits, requires_grad=True)
    tx = torch.tensor(logits, requires_grad=True)
    out = F.cross_entropy(ox, Tensor(target), None if weight is None else Tensor(weight), **kwargs)
    ref = torch.nn.functional.cross_entropy(
        tx, torch.tensor(target), None if weight is None else torch.tensor(weight), **kwargs
    )
    if reduction == "mean" and np.all(target == ignore_index):
        assert np.isnan(out.item()) and torch.isnan(ref)
        return
    assert_close(out, ref, dtype)
    g = random_like(tuple(ref.shape), dtype, seed + 1)
    (gx,) = grad(out, [ox], Tensor(g))
    (rx,) = torch.autograd.grad(ref, [tx], torch.tensor(g))
    assert_close(gx, rx, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@given(
    n=st.integers(1, 5),
    c=st.integers(2, 5),
    extra=st.lists(st.integers(1, 3), max_size=1),
    weighted=st.booleans(),
    reduction=st.sampled_from(["mean", "sum", "none"]),
    seed=st.integers(0, 2**16),
)
def test_nll_loss_matches_torch(dtype, n, c, extra, weighted, reduction, seed):
    rng = np.random.default_rng(seed)
    logits, target = _case(rng, n, c, extra, dtype, "default" if seed % 2 else None)
    weight = rng.uniform(0.2, 2.0, c).astype(dtype) if weighted else None
    ox, tx = Tensor(logits, requires_grad=True), torch.tensor(logits, requires_grad=True)
    out = F.nll_loss(F.log_softmax(ox, dim=1), target, weight, reduction=reduction)
    ref = torch.nn.functional.nll_loss(
        torch.log_softmax(tx, 1),
        torch.tensor(target),
        None if weight is None else torch.tensor(weight),
        reduction=reduction,
    )
    if reduction == "mean" and np.all(target == -100):
        return
    assert_close(out, ref, dtype)
    g = random_like(tuple(ref.shape), dtype, seed + 1)
    (gx,) = grad(out, [ox], Tensor(g))
    (rx,) = torch.autograd.grad(ref, [tx], torch.tensor(g))
    assert_close(gx, rx, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_mse_loss_matches_torch(dtype, reduction):
    a, b = random_like((3, 4), dtype, 0), random_like((3, 4), dtype, 1)
    oa, ta = Tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    out = F.mse_loss(oa, Tensor(b), reduction=reduction)
    ref = torch.nn.functional.mse_loss(ta, torch.tensor(b), reduction=reduction)
    assert_close(out, ref, dtype)
    g = random_like(tuple(ref.shape), dtype, 2)
    (ga,) = grad(out, [oa], Tensor(g))
    (ra,) = torch.autograd.grad(ref, [ta], torch.tensor(g))
    assert_close(ga, ra, dtype)
    assert_close(nn.MSELoss(reduction=reduction)(oa, b), ref, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_cross_entropy_is_exact_for_huge_logits(dtype):
    logits = np.array([[1e4, -1e4, 0.0], [-1e4, 1e4, 1e4], [0.0, 0.0, 1e4]], dtype=dtype)
    target = np.array([1, 0, 2])
    ox, tx = Tensor(logits, requires_grad=True), torch.tensor(logits, requires_grad=True)
    for reduction in ("none", "mean"):
        out = F.cross_entropy(ox, target, reduction=reduction)
        ref = torch.nn.functional.cross_entropy(tx, torch.tensor(target), reduction=reduction)
        assert np.all(np.isfinite(out.numpy()))
        np.testing.assert_allclose(out.numpy(), ref.detach().numpy(), rtol=1e-6)
    out.backward()
    ref.backward()
    np.testing.assert_allclose(ox.grad.numpy(), tx.grad.numpy(), rtol=1e-6, atol=1e-12)


def test_cross_entropy_accepts_any_integer_targets_and_an_unbatched_input():
    logits = random_like((4, 3), np.float64, 0)
    ref = torch.nn.functional.cross_entropy(torch.tensor(logits), torch.tensor([0, 2, 1, 2]))
    for target in (
        np.array([0, 2, 1, 2], dtype=np.int32),
        np.array([0, 2, 1, 2], dtype=np.uint8),
        [0, 2, 1, 2],
    ):
        assert_close(F.cross_entropy(Tensor(logits), target), ref)
    one = F.cross_entropy(Tensor(logits[1]), np.array(2))
    assert_close(one, torch.nn.functional.cross_entropy(torch.tensor(logits[1]), torch.tensor(2)))


@pytest.mark.parametrize("dtype", DTYPES)
def test_cross_entropy_second_order_matches_torch(dtype):
    logits = random_like((4, 3), dtype, 1)
    target = np.array([0, 2, 1, -100])
    weight = np.array([0.5, 1.0, 2.0], dtype=dtype)
    ox, tx = Tensor(logits, requires_grad=True), torch.tensor(logits, requires_grad=True)
    kwargs = dict(label_smoothing=0.2)
    (gx,) = grad(F.cross_entropy(ox, target, weight, **kwargs), [ox], create_graph=True)
    (rx,) = torch.autograd.grad(
        torch.nn.functional.cross_entropy(tx, torch.tensor(target), torch.tensor(weight), **kwargs),
        [tx],
        create_graph=True,
    )
    assert_close(gx, rx, dtype)
    g = random_like(gx.shape, dtype, 2)
    (ggx,) = grad((gx * Tensor(g)).sum(), [ox])
    (rgx,) = torch.autograd.grad((rx * torch.tensor(g)).sum(), [tx])
    assert_close(ggx, rgx, dtype)


def test_loss_modules_match_torch():
    logits = random_like((5, 4), np.float64, 3)
    target = np.array([0, 3, 1, 1, 2])
    weight = np.array([1.0, 0.5, 2.0, 1.5])
    ours = nn.CrossEntropyLoss(Tensor(weight), label_smoothing=0.1, ignore_index=3)
    theirs = torch.nn.CrossEntropyLoss(torch.tensor(weight), label_smoothing=0.1, ignore_index=3)
    assert_close(ours(Tensor(logits), target), theirs(torch.tensor(logits), torch.tensor(target)))
    assert "weight" in ours.state_dict()
    logp = torch.log_softmax(torch.tensor(logits), 1)
    assert_close(
        nn.NLLLoss(reduction="sum")(Tensor(logp.numpy()), target),
        torch.nn.NLLLoss(reduction="sum")(logp, torch.tensor(target)),
    )
