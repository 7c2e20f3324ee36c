"""BatchNorm1d/2d and ``F.batch_norm`` against PyTorch: outputs, gradients, running statistics, eval mode."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from tapegrad.autograd import Tensor, grad

from tapegrad import nn
from tests.support import assert_close, random_like

DTYPES = [np.float32, np.float64]
TORCH = {np.float32: torch.float32, np.float64: torch.float64}


def _twins(kind, channels, dtype, **kwargs):
    ours = getattr(nn, kind)(channels, **kwargs).to(dtype=dtype)
    theirs = getattr(torch.nn, kind)(channels, **kwargs).to(TORCH[dtype])
    rng = np.random.default_rng(channels)
    if ours.affine:  # non-trivial affine parameters, identical in both
        ours.weight.data[...] = rng.uniform(0.5, 1.5, channels)
        ours.bias.data[...] = rng.standard_normal(channels)
    theirs.load_state_dict({k: torch.from_numpy(v) for k, v in ours.state_dict().items()})
    return ours, theirs


def _shape(kind, n, c, spatial):
    if kind == "BatchNorm2d":
        return (n, c, *spatial)
    return (n, c) if not spatial else (n, c, spatial[0])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kind", ["BatchNorm1d", "BatchNorm2d"])
@settings(max_examples=10)
@given(
    n=st.integers(2, 4),
    c=st.integers(1, 4),
    spatial=st.lists(st.integers(1, 4), min_size=2, max_size=2),
    flat=st.booleans(),
    affine=st.booleans(),
    momentum=st.sampled_from([0.1, 0.5, None]),
    seed=st.integers(0, 2**16),
)
def test_batchnorm_training_and_eval_match_torch(dtype, kind, n, c, spatial, flat, affine, momentum, seed):
    ours, theirs = _twins(kind, c, dtype, affine=affine, momentum=momentum)
    shape = _shape(kind, n, c, [] if (flat and kind == "BatchNorm1d") else spatial)
    params = list(ours.parameters())
    tparams = list(theirs.parameters())
    for step in range(3):  # a few training steps: the running statistics accumulate
        x = (random_like(shape, dtype, seed + step) * 2 + 1).astype(dtype)
        g = random_like(shape, dtype, seed + 10 + step)
        ox, tx = Tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        out, ref = ours(ox), theirs(tx)
        assert_close(out, ref, dtype)
        got = grad(out, [ox, *params], Tensor(g))
        want = torch.autograd.grad(ref, [tx, *tparams], torch.tensor(g))
        for a, b in zip(got, want, strict=True):
            assert_close(a, b, dtype)
    for key, value in theirs.state_dict().items():
        assert_close(ours.state_dict()[key], value, dtype)
    ours.eval()
    theirs.eval()
    x = random_like(shape, dtype, seed + 99)
    g = random_like(shape, dtype, seed + 98)
    ox, tx = Tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    out, ref = ours(ox), theirs(tx)
    assert_close(out, ref, dtype)
    got = grad(out, [ox, *params], Tensor(g))
    want = torch.autograd.grad(ref, [tx, *tparams], torch.tensor(g))
    for a, b in zip(got, want, strict=True):
        assert_close(a, b, dtype)


def test_batchnorm_without_running_stats_always_uses_the_batch():
    ours, theirs = _twins("BatchNorm2d", 3, np.float64, track_running_stats=False)
    assert ours.state_dict().keys() == theirs.state_dict().keys()
    x = random_like((4, 3, 2, 5), np.float64, 0)
    for mode in (True, False):
        ours.train(mode)
        theirs.train(mode)
        assert_close(ours(Tensor(x)), theirs(torch.tensor(x)))


def test_batchnorm_eval_is_an_affine_map_of_two_elementwise_ops():
    """The deconvnet walks an eval-mode BatchNorm as ``x * scale + shift``: two recorded elementwise ops."""
    layer = nn.BatchNorm2d(2).eval()
    x = Tensor(random_like((1, 2, 3, 3), np.float32, 0), requires_grad=True)
    out = layer(x)
    assert out.grad_fn.name == "Add"
    assert any(
        p is not None and p.grad_fn is not None and p.grad_fn.name == "Mul" for p in out.grad_fn.parents
    )


@pytest.mark.parametrize("dtype", DTYPES)
def test_batchnorm_second_order_matches_torch(dtype):
    ours, theirs = _twins("BatchNorm2d", 2, dtype)
    x = random_like((3, 2, 2, 2), dtype, 4)
    ox, tx = Tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    (gx,) = grad((ours(ox) ** 3).sum(), [ox], create_graph=True)
    (rx,) = torch.autograd.grad((theirs(tx) ** 3).sum(), [tx], create_graph=True)
    assert_close(gx, rx, dtype)
    got = grad((gx * gx).sum(), [ox, ours.weight])
    want = torch.autograd.grad((rx * rx).sum(), [tx, theirs.weight])
    for a, b in zip(got, want, strict=True):
        assert_close(a, b, dtype, rtol=1e-3 if dtype == np.float32 else 1e-8)


def test_batchnorm_repr_and_buffers_match_torch():
    ours, theirs = nn.BatchNorm2d(4), torch.nn.BatchNorm2d(4)
    assert repr(ours) == repr(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert [n for n, _ in ours.named_buffers()] == [n for n, _ in theirs.named_buffers()]
    ours(Tensor(random_like((2, 4, 3, 3), np.float32, 0)))
    assert int(ours.num_batches_tracked.item()) == 1
