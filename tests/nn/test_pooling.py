"""Pooling against PyTorch: max (switches, first-max ties, overlap, ceil_mode), unpool, avg, adaptive avg.

Max-pool inputs are random permutations (distinct values, exact in float32) or rectified values (exact ties at
zero): the chosen maximum then cannot flip between precisions, so both dtypes are compared exactly.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from tapegrad.autograd import Tensor, grad, no_grad
from tapegrad.autograd.errors import ShapeError
from tapegrad.nn import functional as F

from tests.support import assert_close, random_like

DTYPES = [np.float32, np.float64]
TF = torch.nn.functional


@st.composite
def pool_configs(draw, dilation=True):
    """Batch, channels, non-square sizes and windows, overlapping strides, legal padding, ceil_mode."""
    n, c, h, w = (
        draw(st.integers(1, 2)),
        draw(st.integers(1, 3)),
        draw(st.integers(1, 9)),
        draw(st.integers(1, 9)),
    )
    kernel = (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    dil = (draw(st.integers(1, 2)), draw(st.integers(1, 2))) if dilation else (1, 1)
    span = [d * (k - 1) + 1 for k, d in zip(kernel, dil, strict=True)]
    padding = tuple(draw(st.integers(0, k // 2)) for k in kernel)
    for size, s, p in zip((h, w), span, padding, strict=True):
        assume(size + 2 * p >= s)
    config = dict(kernel_size=kernel, stride=stride, padding=padding, ceil_mode=draw(st.booleans()))
    if dilation:
        config["dilation"] = dil
    return (n, c, h, w), config


def _values(shape, dtype, seed, kind):
    rng = np.random.default_rng(seed)
    if kind == "distinct":
        return (rng.permutation(int(np.prod(shape))).reshape(shape) - 10.0).astype(dtype)
    return np.maximum(rng.standard_normal(shape), 0).astype(dtype)  # many exact ties at zero


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kind", ["distinct", "rectified"])
@given(config=pool_configs(), seed=st.integers(0, 2**16))
def test_max_pool2d_matches_torch(dtype, kind, config, seed):
    shape, opts = config
    x = _values(shape, dtype, seed, kind)
    ours, theirs = Tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    ref, ref_indices = TF.max_pool2d(theirs, **opts, return_indices=True)
    assume(bool(torch.isfinite(ref).all()))  # windows of padding only are refused (tested below)
    out, indices = F.max_pool2d(ours, **opts, return_indices=True)
    np.testing.assert_array_equal(out.numpy(), ref.detach().numpy())
    np.testing.assert_array_equal(indices.numpy(), ref_indices.numpy())
    assert indices.dtype == np.int64
    g = random_like(out.shape, dtype, seed + 1)
    (gx,) = grad(out, [ours], Tensor(g))
    (rx,) = torch.autograd.grad(ref, [theirs], torch.tensor(g))
    assert_close(gx, rx, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(2, 3, 8, 8), (1, 2, 7, 5)])
def test_max_pool2d_2x2_fast_path_matches_torch(dtype, shape):
    for seed, kind in enumerate(["distinct", "rectified"]):
        x = _values(shape, dtype, seed, kind)
        ours, theirs = Tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        out, indices = F.max_pool2d(ours, 2, return_indices=True)
        ref, ref_indices = TF.max_pool2d(theirs, 2, return_indices=True)
        np.testing.assert_array_equal(out.numpy(), ref.detach().numpy())
        np.testing.assert_array_equal(indices.numpy(), ref_indices.numpy())
        g = random_like(out.shape, dtype, seed + 1)
        assert_close(grad(out, [ours], Tensor(g))[0], torch.autograd.grad(ref, [theirs], torch.tensor(g))[0])


@pytest.mark.parametrize("kernel, stride", [(2, 2), (3, 2)])
def test_max_pool2d_on_the_thread_pool_matches_torch(monkeypatch, kernel, stride):
    """Batch slices run on worker threads (forced here on a small input) give the same switches and grads."""
    from tapegrad.autograd import runtime

    monkeypatch.setattr(runtime, "MIN_ELEMENTS_PER_THREAD", 1)
    monkeypatch.setattr(runtime, "_threads", 3)
    x = _values((5, 3, 9, 8), np.float32, 11, "rectified")
    ours, theirs = Tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    out, indices = F.max_pool2d(ours, kernel, stride, 1, return_indices=True)
    ref, ref_indices = TF.max_pool2d(theirs, kernel, stride, 1, return_indices=True)
    np.testing.assert_array_equal(out.numpy(), ref.detach().numpy())
    np.testing.assert_array_equal(indices.numpy(), ref_indices.numpy())
    g = random_like(out.shape, np.float32, 12)
    assert_close(grad(out, [ours], Tensor(g))[0], torch.autograd.grad(ref, [theirs], torch.tensor(g))[0])


def test_max_pool2d_with_more_than_256_window_taps_matches_torch():
    """17x17 windows: the switch codes no longer fit a byte (int32 codes)."""
    x = _values((2, 3, 40, 37), np.float64, 13, "distinct")
    ours, theirs = Tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    out, indices = F.max_pool2d(ours, 17, 3, return_indices=True)
    ref, ref_indices = TF.max_pool2d(theirs, 17, 3, return_indices=True)
    np.testing.assert_array_equal(indices.numpy(), ref_indices.numpy())
    g = random_like(out.shape, np.float64, 14)
    assert_close(grad(out, [ours], Tensor(g))[0], torch.autograd.grad(ref, [theirs], torch.tensor(g))[0])


@pytest.mark.parametrize(
    "opts", [dict(kernel_size=2), dict(kernel_size=3, stride=2, padding=1, ceil_mode=True)]
)
def test_max_pool2d_without_gradients_matches_torch(opts):
    """Inference (no tape, no indices) takes a values-only path."""
    x = random_like((2, 3, 9, 7), np.float32, 15)
    with no_grad():
        out = F.max_pool2d(Tensor(x, requires_grad=True), **opts)
    assert out.grad_fn is None
    np.testing.assert_array_equal(out.numpy(), TF.max_pool2d(torch.tensor(x), **opts).numpy())


def test_max_pool2d_all_minus_inf_window_points_at_its_first_real_input():
    x = np.full((1, 1, 4, 5), -np.inf)
    x[0, 0, 3, 4] = 1.0
    opts = dict(kernel_size=3, stride=2, padding=1, ceil_mode=True)
    out, indices = F.max_pool2d(Tensor(x), **opts, return_indices=True)
    ref, ref_indices = TF.max_pool2d(torch.tensor(x), **opts, return_indices=True)
    np.testing.assert_array_equal(out.numpy(), ref.numpy())
    np.testing.assert_array_equal(indices.numpy(), ref_indices.numpy())


@pytest.mark.parametrize("stride", [1, 2])
def test_max_pool2d_routes_non_finite_gradients_only_to_the_switch(stride):
    """An inf upstream gradient reaches only its maximum (a masked product would give inf * 0 = nan)."""
    x = _values((1, 2, 6, 6), np.float64, 8, "distinct")
    ours, theirs = Tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    out, ref = F.max_pool2d(ours, 2, stride), TF.max_pool2d(theirs, 2, stride)
    g = random_like(out.shape, np.float64, 9)
    g[0, 0, 1, 1], g[0, 1, 0, 2] = np.inf, -np.inf
    (gx,) = grad(out, [ours], Tensor(g))
    (rx,) = torch.autograd.grad(ref, [theirs], torch.tensor(g))
    np.testing.assert_allclose(gx.numpy(), rx.numpy(), rtol=1e-9, atol=1e-11)  # nan/inf at the same places


@settings(max_examples=10)
@given(config=pool_configs(), seed=st.integers(0, 2**16))
def test_max_pool2d_second_order_matches_torch(config, seed):
    """Differentiate the pooled gradient again (through the upstream and through the input)."""
    shape, opts = config
    x = _values(shape, np.float64, seed, "distinct")
    ours, theirs = Tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    ref = TF.max_pool2d(theirs, **opts)
    assume(bool(torch.isfinite(ref).all()))
    out = F.max_pool2d(ours, **opts)
    c = random_like(out.shape, np.float64, seed + 1)
    (gx,) = grad((out * out * Tensor(c)).sum(), [ours], create_graph=True)
    (rx,) = torch.autograd.grad((ref * ref * torch.tensor(c)).sum(), [theirs], create_graph=True)
    assert_close(gx, rx)
    u = random_like(x.shape, np.float64, seed + 2)
    (second,) = grad((gx * Tensor(u)).sum(), [ours])
    (ref_second,) = torch.autograd.grad((rx * torch.tensor(u)).sum(), [theirs])
    assert_close(second, ref_second)


@pytest.mark.parametrize("dtype", DTYPES)
@given(config=pool_configs(dilation=False), seed=st.integers(0, 2**16))
def test_max_unpool2d_accumulates_like_max_pool2d_backward(dtype, config, seed):
    """Overlapping windows: unpooling at the switches equals PyTorch's max_pool2d backward (gradients add)."""
    shape, opts = config
    x = _values(shape, dtype, seed, "distinct")
    theirs = torch.tensor(x, requires_grad=True)
    ref, ref_indices = TF.max_pool2d(theirs, **opts, return_indices=True)
    g = random_like(ref.shape, dtype, seed + 1)
    (expected,) = torch.autograd.grad(ref, [theirs], torch.tensor(g))
    values = Tensor(g, requires_grad=True)
    out = F.max_unpool2d(
        values,
        Tensor(ref_indices.numpy()),
        opts["kernel_size"],
        opts["stride"],
        opts["padding"],
        output_size=shape[2:],
    )
    assert_close(out, expected, dtype)
    # its vjp reads the upstream gradient at the switches
    u = random_like(shape, dtype, seed + 2)
    (gv,) = grad(out, [values], Tensor(u))
    expected_gv = np.take_along_axis(
        u.reshape(*shape[:2], -1), ref_indices.numpy().reshape(*shape[:2], -1), 2
    )
    assert_close(gv, expected_gv.reshape(g.shape), dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@given(
    n=st.integers(1, 2),
    c=st.integers(1, 3),
    size=st.tuples(st.integers(2, 9), st.integers(2, 9)),
    kernel=st.tuples(st.integers(1, 3), st.integers(1, 3)),
    seed=st.integers(0, 2**16),
)
def test_max_unpool2d_matches_torch_without_overlap(dtype, n, c, size, kernel, seed):
    assume(size[0] >= kernel[0] and size[1] >= kernel[1])
    x = _values((n, c, *size), dtype, seed, "distinct")
    pooled, indices = TF.max_pool2d(torch.tensor(x), kernel, return_indices=True)
    values = Tensor(pooled.numpy(), requires_grad=True)
    theirs = pooled.clone().requires_grad_(True)
    out = F.max_unpool2d(values, Tensor(indices.numpy()), kernel, output_size=size)
    ref = TF.max_unpool2d(theirs, indices, kernel, output_size=size)
    assert_close(out, ref, dtype)
    g = random_like(tuple(out.shape), dtype, seed + 1)
    assert_close(grad(out, [values], Tensor(g))[0], torch.autograd.grad(ref, [theirs], torch.tensor(g))[0])


def test_max_unpool2d_default_output_size_and_unbatched():
    x = _values((2, 6, 4), np.float64, 3, "distinct")
    pooled, indices = F.max_pool2d(Tensor(x), 2, return_indices=True)
    ref_pooled, ref_indices = TF.max_pool2d(torch.tensor(x), 2, return_indices=True)
    np.testing.assert_array_equal(indices.numpy(), ref_indices.numpy())
    out = F.max_unpool2d(pooled, indices, 2)
    assert_close(out, TF.max_unpool2d(ref_pooled, ref_indices, 2))


@pytest.mark.parametrize("dtype", DTYPES)
@given(
    config=pool_configs(dilation=False),
    include=st.booleans(),
    override=st.sampled_from([None, 1, 5]),
    seed=st.integers(0, 2**16),
)
def test_avg_pool2d_matches_torch(dtype, config, include, override, seed):
    shape, opts = config
    x = random_like(shape, dtype, seed)
    ours, theirs = Tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    extra = dict(count_include_pad=include, divisor_override=override)
    out, ref = F.avg_pool2d(ours, **opts, **extra), TF.avg_pool2d(theirs, **opts, **extra)
    assert_close(out, ref, dtype)
    g = random_like(out.shape, dtype, seed + 1)
    assert_close(
        grad(out, [ours], Tensor(g))[0], torch.autograd.grad(ref, [theirs], torch.tensor(g))[0], dtype
    )


def test_avg_pool2d_second_order_matches_torch():
    x = random_like((2, 2, 7, 6), np.float64, 4)
    ours, theirs = Tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    opts = dict(kernel_size=3, stride=2, padding=1, ceil_mode=True, count_include_pad=False)
    out, ref = F.avg_pool2d(ours, **opts), TF.avg_pool2d(theirs, **opts)
    (gx,) = grad((out**3).sum(), [ours], create_graph=True)
    (rx,) = torch.autograd.grad((ref**3).sum(), [theirs], create_graph=True)
    u = random_like(x.shape, np.float64, 5)
    assert_close(
        grad((gx * Tensor(u)).sum(), [ours])[0],
        torch.autograd.grad((rx * torch.tensor(u)).sum(), [theirs])[0],
    )


@pytest.mark.parametrize("dtype", DTYPES)
@given(
    shape=st.tuples(st.integers(1, 2), st.integers(1, 3), st.integers(1, 9), st.integers(1, 9)),
    out_size=st.tuples(st.one_of(st.none(), st.integers(1, 9)), st.integers(1, 9)),
    seed=st.integers(0, 2**16),
)
def test_adaptive_avg_pool2d_matches_torch(dtype, shape, out_size, seed):
    x = random_like(shape, dtype, seed)
    ours, theirs = Tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    out, ref = F.adaptive_avg_pool2d(ours, out_size), TF.adaptive_avg_pool2d(theirs, out_size)
    assert_close(out, ref, dtype)
    g = random_like(out.shape, dtype, seed + 1)
    assert_close(
        grad(out, [ours], Tensor(g))[0], torch.autograd.grad(ref, [theirs], torch.tensor(g))[0], dtype
    )


def test_pooling_on_device(device):
    x = _values((2, 3, 7, 6), np.float32, 1, "distinct")
    ours, theirs = Tensor(x, requires_grad=True, device=device), torch.tensor(x, requires_grad=True)
    out, indices = F.max_pool2d(ours, 3, 2, 1, return_indices=True)
    ref, ref_indices = TF.max_pool2d(theirs, 3, 2, 1, return_indices=True)
    assert out.device == device and indices.device == device
    np.testing.assert_array_equal(indices.numpy(), ref_indices.numpy())
    avg = F.avg_pool2d(out, 2, ceil_mode=True)
    ref_avg = TF.avg_pool2d(ref, 2, ceil_mode=True)
    assert_close(avg, ref_avg, np.float32)
    g = random_like(avg.shape, np.float32, 2)
    (gx,) = grad(avg, [ours], Tensor(g, device=device))
    assert gx.device == device
    assert_close(gx, torch.autograd.grad(ref_avg, [theirs], torch.tensor(g))[0], np.float32)


def test_slide_deck_worked_pooling():
    """The slides' 4x4 feature map, 2x2 max-pool with unit stride, and the pooled gradient scattered back.

    0.70 and 0.755 are the maximum of two windows each: their gradients add.
    """
    feature = np.array(
        [
            [0.305, 0.355, 0.425, 0.49],
            [0.59, 0.64, 0.70, 0.755],
            [0.855, 0.545, 0.325, 0.375],
            [0.475, 0.345, 0.305, 0.355],
        ]
    )
    ours = Tensor(feature[None, None], requires_grad=True)
    pooled = F.max_pool2d(ours, 2, stride=1)
    expected = np.array([[0.64, 0.70, 0.755], [0.855, 0.70, 0.755], [0.855, 0.545, 0.375]])
    np.testing.assert_allclose(pooled.numpy()[0, 0], expected, rtol=0, atol=1e-12)
    upstream = np.array(
        [-0.34338, -0.25754, -0.17169, -0.08585, 0, 0.08585, 0.17169, 0.25754, 0.34338]
    ).reshape(1, 1, 3, 3)
    (gx,) = grad(pooled, [ours], Tensor(upstream))
    scattered = np.array(
        [[0, 0, 0, 0], [0, -0.34338, -0.25754, -0.08585], [0.08585, 0.25754, 0, 0.34338], [0, 0, 0, 0]]
    )
    np.testing.assert_allclose(gx.numpy()[0, 0], scattered, rtol=0, atol=2e-5)


def test_max_pool2d_refuses_windows_of_padding_only():
    """PyTorch returns -inf and an index outside the plane for such a window; tapegrad says why it cannot."""
    x = Tensor(np.ones((1, 1, 1, 3), np.float32))
    assert not np.isfinite(TF.max_pool2d(torch.ones(1, 1, 1, 3), (2, 1), 1, (1, 0), (2, 1)).numpy()).all()
    with pytest.raises(
        ShapeError, match=r"max_pool2d: .* some windows over float32\[1, 1, 1, 3\] contain only padding"
    ):
        F.max_pool2d(x, (2, 1), 1, (1, 0), (2, 1))


def test_pooling_errors_name_the_op_and_shapes():
    x = Tensor(np.zeros((1, 2, 4, 4), np.float32))
    with pytest.raises(ShapeError, match=r"max_pool2d: expected a 4-D .* got float32\[4\]"):
        F.max_pool2d(Tensor(np.zeros(4, np.float32)), 2)
    with pytest.raises(ShapeError, match=r"max_pool2d: the window \(5x5.*float32\[1, 2, 4, 4\]"):
        F.max_pool2d(x, 5)
    with pytest.raises(ValueError, match=r"max_pool2d: padding \(2, 2\) must be at most half"):
        F.max_pool2d(x, 3, padding=2)
    with pytest.raises(ValueError, match="max_pool2d: stride must be positive"):
        F.max_pool2d(x, 2, stride=0)
    with pytest.raises(ValueError, match=r"avg_pool2d: padding \(0, 2\) must be at most half"):
        F.avg_pool2d(x, 3, padding=(0, 2))
    with pytest.raises(ValueError, match="avg_pool2d: padding must be at least 0"):
        F.avg_pool2d(x, 3, padding=-1)
    with pytest.raises(ShapeError, match=r"max_unpool2d: indices .* must have the shape of the input"):
        F.max_unpool2d(x, Tensor(np.zeros((1, 2, 3, 3), np.int64)), 2)
    with pytest.raises(ShapeError, match=r"max_unpool2d: indices must lie in \[0, 64\)"):
        F.max_unpool2d(x, Tensor(np.full((1, 2, 4, 4), 64, np.int64)), 2)
    with pytest.raises(ValueError, match="adaptive_avg_pool2d: output_size must be positive"):
        F.adaptive_avg_pool2d(x, 0)
