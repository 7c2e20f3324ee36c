"""``conv2d`` and ``conv_transpose2d`` against PyTorch: values, input/weight/bias gradients, second order."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from tapegrad.autograd import Tensor, grad
from tapegrad.autograd.errors import DTypeError, ShapeError
from tapegrad.nn import functional as F

from tests.support import assert_close, random_like

DTYPES = [np.float32, np.float64]
TF = torch.nn.functional


@st.composite
def conv_configs(draw, transposed=False, unit_stride=False):
    """Batch, grouped channels, non-square input and kernel, stride, padding, dilation, bias."""
    groups = draw(st.integers(1, 3))
    cin, cout = groups * draw(st.integers(1, 3)), groups * draw(st.integers(1, 3))
    n, h, w = draw(st.integers(1, 3)), draw(st.integers(1, 8)), draw(st.integers(1, 8))
    kernel = (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    stride = (1, 1) if unit_stride else (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    padding = (draw(st.integers(0, 2)), draw(st.integers(0, 2)))
    dilation = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    config = dict(
        x=(n, cin, h, w),
        groups=groups,
        stride=stride,
        padding=padding,
        dilation=dilation,
        bias=draw(st.booleans()),
    )
    if transposed:
        config["w"] = (cin, cout // groups, *kernel)
        config["output_padding"] = tuple(
            draw(st.integers(0, max(s, d) - 1)) for s, d in zip(stride, dilation, strict=True)
        )
        for size, k, s, p, d, o in zip(
            (h, w), kernel, stride, padding, dilation, config["output_padding"], strict=True
        ):
            assume((size - 1) * s - 2 * p + d * (k - 1) + o + 1 > 0)
    else:
        config["w"] = (cout, cin // groups, *kernel)
        for size, k, p, d in zip((h, w), kernel, padding, dilation, strict=True):
            assume(size + 2 * p >= d * (k - 1) + 1)
    return config


def _leaves(config, dtype, seed):
    rng = np.random.default_rng(seed)
    arrays = [rng.standard_normal(config["x"]), rng.standard_normal(config["w"])]
    if config["bias"]:
        channels = config["w"][0] if "output_padding" not in config else config["w"][1] * config["groups"]
        arrays.append(rng.standard_normal(channels))
    arrays = [a.astype(dtype) for a in arrays]
    ours = [Tensor(a, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    return ours, theirs


def _options(config):
    keys = ("stride", "padding", "dilation", "groups", "output_padding")
    return {k: config[k] for k in keys if k in config}


def _check_against_torch(ours_fn, torch_fn, config, dtype, seed):
    ours, theirs = _leaves(config, dtype, seed)
    out = ours_fn(*ours, **_options(config))
    ref = torch_fn(*theirs, **_options(config))
    assert_close(out, ref, dtype)
    g = random_like(out.shape, dtype, seed + 1)
    grads = grad(out, ours, Tensor(g))
    ref_grads = torch.autograd.grad(ref, theirs, torch.tensor(g))
    for a, r in zip(grads, ref_grads, strict=True):
        assert_close(a, r, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@given(config=conv_configs(), seed=st.integers(0, 2**16))
def test_conv2d_matches_torch(dtype, config, seed):
    _check_against_torch(F.conv2d, TF.conv2d, config, dtype, seed)


@pytest.mark.parametrize("dtype", DTYPES)
@given(config=conv_configs(unit_stride=True), seed=st.integers(0, 2**16))
def test_conv2d_unit_stride_matches_torch(dtype, config, seed):
    """Stride 1 has its own paths: wide columns for the forward and the weight gradient, and the input gradient
    as the full correlation (or col2im over whole padded planes where the padding exceeds the kernel's reach)."""
    _check_against_torch(F.conv2d, TF.conv2d, config, dtype, seed)


@pytest.mark.parametrize(
    ("cin", "cout", "padding", "groups", "full"),
    [(6, 3, 1, 1, True), (8, 4, 2, 2, True), (3, 6, 1, 1, False), (4, 4, 0, 1, False), (4, 4, 1, 1, False)],
)
def test_conv2d_stride1_input_gradient_on_each_path(cin, cout, padding, groups, full):
    """Both stride-1 input-gradient paths, each picked by its column count (``_full_correlation_pays``): the
    full correlation (fewer output than input channels) and col2im (more output channels, no padding, ties)."""
    from tapegrad.nn.functional import conv_arrays
    from tapegrad.nn.functional.geometry import Geometry

    geo = Geometry.make("conv2d", (7, 9), (3, 3), 1, (padding, padding), (1, 1))
    chosen = conv_arrays._full_correlation(geo)
    assert (chosen is not None and conv_arrays._full_correlation_pays(geo, chosen, cout, cin)) is full
    config = dict(x=(3, cin, 7, 9), w=(cout, cin // groups, 3, 3), groups=groups, stride=(1, 1),
                  padding=(padding, padding), dilation=(1, 1), bias=True)
    for dtype in DTYPES:
        _check_against_torch(F.conv2d, TF.conv2d, config, dtype, 7)


@pytest.mark.parametrize("dtype", DTYPES)
@given(config=conv_configs(transposed=True), seed=st.integers(0, 2**16))
def test_conv_transpose2d_matches_torch(dtype, config, seed):
    _check_against_torch(F.conv_transpose2d, TF.conv_transpose2d, config, dtype, seed)


def _second_order(ours_fn, torch_fn, config, seed):
    """Differentiate sum(c * out**2)'s gradients (input, weight, bias) again, against torch (float64)."""
    ours, theirs = _leaves(config, np.float64, seed)
    out = ours_fn(*ours, **_options(config))
    ref = torch_fn(*theirs, **_options(config))
    c = random_like(out.shape, np.float64, seed + 1)
    first = grad((out * out * Tensor(c)).sum(), ours, create_graph=True)
    ref_first = torch.autograd.grad((ref * ref * torch.tensor(c)).sum(), theirs, create_graph=True)
    for a, r in zip(first, ref_first, strict=True):
        assert_close(a, r, np.float64)
    probes = [random_like(t.shape, np.float64, seed + 2 + i) for i, t in enumerate(ours)]
    total = sum(((g * Tensor(p)).sum() for g, p in zip(first, probes, strict=True)), Tensor(0.0))
    ref_total = sum((g * torch.tensor(p)).sum() for g, p in zip(ref_first, probes, strict=True))
    second = grad(total, ours)
    ref_second = torch.autograd.grad(ref_total, theirs)
    for a, r in zip(second, ref_second, strict=True):
        assert_close(a, r, np.float64)


@settings(max_examples=10)
@given(config=conv_configs(), seed=st.integers(0, 2**16))
def test_conv2d_second_order_matches_torch(config, seed):
    _second_order(F.conv2d, TF.conv2d, config, seed)


@settings(max_examples=10)
@given(config=conv_configs(transposed=True), seed=st.integers(0, 2**16))
def test_conv_transpose2d_second_order_matches_torch(config, seed):
    _second_order(F.conv_transpose2d, TF.conv_transpose2d, config, seed)


@pytest.mark.parametrize("transposed", [False, True])
def test_input_and_weight_gradients_run_at_once_only_when_nothing_is_recorded(monkeypatch, transposed):
    """A plain backward computes a convolution's input and weight gradients at the same time
    (``runtime.concurrently``); a recorded one (create_graph=True), or one above ``CONCURRENT_MAX_MACS``, in
    order.  All match torch."""
    from tapegrad.autograd import runtime
    from tapegrad.nn.functional import conv

    calls = []

    def spy(first, second, like=None):
        calls.append(like is not None)
        return runtime.concurrently(first, second, like=like)

    monkeypatch.setattr(conv, "concurrently", spy)
    config = dict(x=(4, 4, 9, 8), w=(4, 3, 3, 3) if transposed else (6, 4, 3, 3), groups=1, stride=(2, 1),
                  padding=(1, 0), dilation=(1, 1), bias=True)
    if transposed:
        config["output_padding"] = (1, 0)
    ours_fn, torch_fn = (F.conv_transpose2d, TF.conv_transpose2d) if transposed else (F.conv2d, TF.conv2d)
    with runtime.num_threads(2):
        _check_against_torch(ours_fn, torch_fn, config, np.float64, 3)
        assert calls == [True]
        leaves, _ = _leaves(config, np.float64, 4)
        grad(ours_fn(*leaves, **_options(config)).sum(), leaves, create_graph=True)
        assert calls == [True]  # recorded: in order on this thread
        _second_order(ours_fn, torch_fn, config, 5)
        count = len(calls)
        monkeypatch.setattr(conv, "CONCURRENT_MAX_MACS", 0)  # a convolution above it: in order
        _check_against_torch(ours_fn, torch_fn, config, np.float64, 6)
        assert len(calls) == count


def test_conv2d_backward_of_upstream_gradient_matches_torch():
    """d(grad_input)/d(upstream) is the transposed convolution: differentiate through the upstream too."""
    rng = np.random.default_rng(7)
    x, w = rng.standard_normal((2, 4, 7, 6)), rng.standard_normal((6, 2, 3, 2))
    g = rng.standard_normal((2, 6, 3, 7))
    ours = [Tensor(a, requires_grad=True) for a in (x, w, g)]
    theirs = [torch.tensor(a, requires_grad=True) for a in (x, w, g)]
    opts = dict(stride=(2, 1), padding=(0, 1), groups=2)
    gx, gw = grad(F.conv2d(ours[0], ours[1], **opts), ours[:2], ours[2], create_graph=True)
    rx, rw = torch.autograd.grad(
        TF.conv2d(theirs[0], theirs[1], **opts), theirs[:2], theirs[2], create_graph=True
    )
    u, v = rng.standard_normal(x.shape), rng.standard_normal(w.shape)
    second = grad((gx * Tensor(u)).sum() + (gw * Tensor(v)).sum(), ours)
    ref = torch.autograd.grad((rx * torch.tensor(u)).sum() + (rw * torch.tensor(v)).sum(), theirs)
    for a, r in zip(second, ref, strict=True):
        assert_close(a, r, np.float64)


@pytest.mark.parametrize("stride", [1, 2])
def test_conv2d_with_strided_input_and_broadcast_upstream_gradient(stride):
    """A transposed (non-contiguous) input and the zero-stride gradient of .sum() take the same fast path."""
    rng = np.random.default_rng(8)
    x, w = rng.standard_normal((2, 3, 6, 7)), rng.standard_normal((4, 3, 3, 2))
    ours = [Tensor(x, requires_grad=True), Tensor(w, requires_grad=True)]
    theirs = [torch.tensor(x, requires_grad=True), torch.tensor(w, requires_grad=True)]
    out = F.conv2d(ours[0].transpose(2, 3), ours[1], stride=stride, padding=1)
    ref = TF.conv2d(theirs[0].transpose(2, 3), theirs[1], stride=stride, padding=1)
    assert_close(out, ref, np.float64)
    for a, r in zip(grad(out.sum(), ours), torch.autograd.grad(ref.sum(), theirs), strict=True):
        assert_close(a, r, np.float64)


@pytest.mark.filterwarnings("ignore:Using padding='same'")
@pytest.mark.parametrize("padding", ["same", "valid"])
@pytest.mark.parametrize("dilation", [1, 2])
def test_conv2d_string_padding_matches_torch(padding, dilation):
    rng = np.random.default_rng(2)
    x, w = rng.standard_normal((2, 3, 7, 6)), rng.standard_normal((4, 3, 4, 3))
    ours = [Tensor(a, requires_grad=True) for a in (x, w)]
    theirs = [torch.tensor(a, requires_grad=True) for a in (x, w)]
    out = F.conv2d(*ours, padding=padding, dilation=dilation)
    ref = TF.conv2d(*theirs, padding=padding, dilation=dilation)
    assert_close(out, ref, np.float64)
    g = rng.standard_normal(out.shape)
    for a, r in zip(
        grad(out, ours, Tensor(g)), torch.autograd.grad(ref, theirs, torch.tensor(g)), strict=True
    ):
        assert_close(a, r, np.float64)


def test_unbatched_input_gives_unbatched_output():
    rng = np.random.default_rng(4)
    x, w, wt = (
        rng.standard_normal((3, 6, 5)),
        rng.standard_normal((2, 3, 3, 3)),
        rng.standard_normal((3, 2, 2, 2)),
    )
    assert_close(
        F.conv2d(Tensor(x), Tensor(w), padding=1), TF.conv2d(torch.tensor(x), torch.tensor(w), padding=1)
    )
    assert_close(
        F.conv_transpose2d(Tensor(x), Tensor(wt), stride=2),
        TF.conv_transpose2d(torch.tensor(x), torch.tensor(wt), stride=2),
    )


def test_conv2d_on_device(device):
    rng = np.random.default_rng(6)
    x, w, b = (rng.standard_normal(s).astype(np.float32) for s in ((2, 3, 9, 7), (4, 3, 3, 2), (4,)))
    ours = [Tensor(a, requires_grad=True, device=device) for a in (x, w, b)]
    theirs = [torch.tensor(a, requires_grad=True) for a in (x, w, b)]
    out = F.conv2d(*ours, stride=(1, 2), padding=1)
    assert out.device == device
    ref = TF.conv2d(*theirs, stride=(1, 2), padding=1)
    assert_close(out, ref, np.float32)
    g = random_like(out.shape, np.float32, 9)
    grads = grad(out, ours, Tensor(g, device=device))
    for a, r in zip(grads, torch.autograd.grad(ref, theirs, torch.tensor(g)), strict=True):
        assert a.device == device
        assert_close(a, r, np.float32)


def test_slide_deck_worked_convolution():
    """The slides' 5x5 input and 2x2 kernel (float64, no bias) give their 4x4 feature map."""
    x = np.array(
        [
            [0.10, 0.15, 0.20, 0.25, 0.30],
            [0.35, 0.40, 0.45, 0.55, 0.60],
            [0.65, 0.70, 0.75, 0.80, 0.85],
            [0.90, 0.95, 0.10, 0.15, 0.20],
            [0.25, 0.30, 0.35, 0.40, 0.45],
        ]
    )
    kernel = np.array([[0.1, 0.2], [0.3, 0.4]])
    expected = np.array(
        [
            [0.305, 0.355, 0.425, 0.49],
            [0.59, 0.64, 0.70, 0.755],
            [0.855, 0.545, 0.325, 0.375],
            [0.475, 0.345, 0.305, 0.355],
        ]
    )
    out = F.conv2d(Tensor(x[None, None]), Tensor(kernel[None, None]))
    np.testing.assert_allclose(out.numpy()[0, 0], expected, rtol=0, atol=1e-12)


def _zeros(*shape, dtype=np.float32):
    return Tensor(np.zeros(shape, dtype))


def test_conv_errors_name_the_op_and_the_shapes():
    x, w = _zeros(2, 3, 5, 5), _zeros(4, 3, 3, 3)
    with pytest.raises(ShapeError, match=r"conv2d: expected a 4-D .* got float32\[5, 5\]"):
        F.conv2d(_zeros(5, 5), w)
    with pytest.raises(
        ShapeError,
        match=r"conv2d: input float32\[2, 3, 5, 5\] has 3 channels, but weight "
        r"float32\[4, 2, 3, 3\] with groups=1 expects 2",
    ):
        F.conv2d(x, _zeros(4, 2, 3, 3))
    with pytest.raises(ShapeError, match=r"conv2d: 4 output channels .* not divisible by groups=3"):
        F.conv2d(_zeros(1, 3, 5, 5), _zeros(4, 1, 3, 3), groups=3)
    with pytest.raises(
        ShapeError, match=r"conv2d: the kernel \(8x8.*larger than the padded input \(7x7 = 5x5"
    ):
        F.conv2d(x, _zeros(4, 3, 8, 8), padding=1)
    with pytest.raises(ValueError, match="conv2d: stride must be positive, got 0"):
        F.conv2d(x, w, stride=0)
    with pytest.raises(ValueError, match=r"conv2d: padding must be at least 0, got \(1, -1\)"):
        F.conv2d(x, w, padding=(1, -1))
    with pytest.raises(ValueError, match="conv2d: groups must be a positive int"):
        F.conv2d(x, w, groups=0)
    with pytest.raises(ShapeError, match=r"conv2d: expected a bias of shape \(4,\), got float32\[3\]"):
        F.conv2d(x, w, _zeros(3))
    with pytest.raises(DTypeError, match=r"conv2d: input float32\[2, 3, 5, 5\] and weight float64"):
        F.conv2d(x, _zeros(4, 3, 3, 3, dtype=np.float64))
    with pytest.raises(
        ShapeError,
        match=r"conv_transpose2d: input float32\[2, 3, 5, 5\] has 3 channels, but "
        r"weight float32\[4, 3, 3, 3\] expects 4",
    ):
        F.conv_transpose2d(x, w)
    with pytest.raises(ShapeError, match="conv_transpose2d: 3 input channels are not divisible by groups=2"):
        F.conv_transpose2d(x, _zeros(3, 2, 3, 3), groups=2)
    with pytest.raises(
        ValueError, match="conv_transpose2d: output_padding .* smaller than either the stride"
    ):
        F.conv_transpose2d(x, _zeros(3, 2, 3, 3), stride=2, output_padding=2)
