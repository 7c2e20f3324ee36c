"""Named families of linked inputs: ops whose inputs and options depend on each other.

A conv2d weight must have the image's channels (divided by ``groups``); a pooling window must fit the padded
image; a target must index the logits' classes.  A spec names its family (``inputs="conv2d"``) and the strategy
here draws every input and option together, small enough to keep the checks fast (sides <= 7) but covering
strides, padding, dilation, groups, ceil_mode, optional bias, weights and reductions.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from hypothesis import assume
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from tapegrad.autograd.opspec import Arg

from .case import Case

__all__ = ["FAMILIES", "family", "family_case", "values"]

Family = Callable[[str], st.SearchStrategy[Case]]
FAMILIES: dict[str, Family] = {}


def family(name: str) -> Callable[[Family], Family]:
    """Register a family: ``fn(dtype) -> strategy of Case``.  Users may add their own."""

    def register(fn: Family) -> Family:
        FAMILIES[name] = fn
        return fn

    return register


def family_case(name: str, dtype: str) -> st.SearchStrategy[Case]:
    if name not in FAMILIES:
        raise ValueError(f"unknown input family {name!r}; known: {', '.join(sorted(FAMILIES))}")
    return FAMILIES[name](dtype)


def _floats(dtype: np.dtype, low: float, high: float) -> st.SearchStrategy[float]:
    lo, hi = dtype.type(low), dtype.type(high)  # bounds rounded inwards to the dtype (Hypothesis wants exact ones)
    if float(lo) < low:
        lo = np.nextafter(lo, dtype.type(np.inf))
    if float(hi) > high:
        hi = np.nextafter(hi, dtype.type(-np.inf))
    return st.floats(float(lo), float(hi), width=dtype.itemsize * 8, allow_nan=False, allow_infinity=False,
                     allow_subnormal=False)


def _push_away(value: float, points: tuple[float, ...], gap: float) -> float:
    for p in points:
        if abs(value - p) < gap:
            return p + gap if value >= p else p - gap
    return value


def values(shape: tuple[int, ...], dtype: str, arg: Arg) -> st.SearchStrategy[np.ndarray]:
    """An array of ``shape`` with the value range, distinctness and kinks-avoided of ``arg``."""
    dt = np.dtype(dtype)
    if dt.kind in "iu":
        elements: st.SearchStrategy[Any] = st.integers(int(np.ceil(arg.low)), int(np.floor(arg.high)))
    elif dt.kind == "b":
        elements = st.booleans()
    else:
        elements = _floats(dt, arg.low, arg.high)
        if arg.away_from:
            elements = elements.map(lambda v: float(dt.type(_push_away(v, arg.away_from, arg.gap))))
    return hnp.arrays(dt, shape, elements=elements, unique=arg.distinct)


def _distinct(draw: st.DrawFn, shape: tuple[int, ...], dtype: str) -> np.ndarray:
    """Values spaced 0.25 apart in random order: no ties, exact in float32, so a max cannot flip."""
    count = int(np.prod(shape))
    order = draw(st.permutations(range(count))) if count else []
    return ((np.asarray(order, dtype=np.float64) - count / 2) * 0.25).reshape(shape).astype(dtype)


def _normal(draw: st.DrawFn, shape: tuple[int, ...], dtype: str, low: float = -2.0, high: float = 2.0) -> np.ndarray:
    return draw(values(tuple(shape), dtype, Arg(low=low, high=high)))


@family("broadcast")
@st.composite
def _broadcast(draw: st.DrawFn, dtype: str) -> Case:
    a, b = draw(hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=4, min_side=1, max_side=4)
                .map(lambda d: d.input_shapes))
    return Case((_normal(draw, a, dtype), _normal(draw, b, dtype)), (True, True), {}, dtype)


@family("matmul")
@st.composite
def _matmul(draw: st.DrawFn, dtype: str) -> Case:
    """Vector-vector, matrix-vector, vector-matrix, matrix-matrix and batched (broadcast batch) products."""
    n, k, m = (draw(st.integers(1, 4)) for _ in range(3))
    kind = draw(st.sampled_from(["vv", "mv", "vm", "mm", "batched"]))
    a, b = {"vv": ((k,), (k,)), "mv": ((n, k), (k,)), "vm": ((k,), (k, m)), "mm": ((n, k), (k, m))}.get(
        kind, ((2, 1, n, k), (3, k, m)))
    return Case((_normal(draw, a, dtype), _normal(draw, b, dtype)), (True, True), {}, dtype)


@st.composite
def _window(draw: st.DrawFn, dilation: bool, pad: bool = True) -> dict[str, Any]:
    k = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    s = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    d = (draw(st.integers(1, 2)), draw(st.integers(1, 2))) if dilation else (1, 1)
    p = tuple(draw(st.integers(0, kk // 2)) for kk in k) if pad else (0, 0)
    return {"kernel_size": k, "stride": s, "padding": p, "dilation": d}


def _image(draw: st.DrawFn, n: int, c: int, span: tuple[int, int], padding: tuple[int, int]) -> tuple[int, ...]:
    """(N, C, H, W) with H, W at least the window's span after padding, at most 7."""
    h = draw(st.integers(max(1, span[0] - 2 * padding[0]), 7))
    w = draw(st.integers(max(1, span[1] - 2 * padding[1]), 7))
    return (n, c, h, w)


def _span(win: dict[str, Any]) -> tuple[int, int]:
    return tuple(d * (k - 1) + 1 for k, d in zip(win["kernel_size"], win["dilation"], strict=True))


@family("conv2d")
@st.composite
def _conv2d(draw: st.DrawFn, dtype: str) -> Case:
    win = draw(_window(dilation=True))
    groups = draw(st.integers(1, 2))
    cin, cout = groups * draw(st.integers(1, 2)), groups * draw(st.integers(1, 2))
    shape = _image(draw, draw(st.integers(1, 2)), cin, _span(win), win["padding"])
    weight = _normal(draw, (cout, cin // groups, *win["kernel_size"]), dtype)
    bias = _normal(draw, (cout,), dtype) if draw(st.booleans()) else None
    kwargs = {"stride": win["stride"], "padding": win["padding"], "dilation": win["dilation"], "groups": groups}
    return Case((_normal(draw, shape, dtype), weight, bias), (True, True, bias is not None), kwargs, dtype)


@family("conv_transpose2d")
@st.composite
def _conv_transpose2d(draw: st.DrawFn, dtype: str) -> Case:
    win = draw(_window(dilation=True))
    groups = draw(st.integers(1, 2))
    cin, cout_g = groups * draw(st.integers(1, 2)), draw(st.integers(1, 2))
    (sh, sw), (dh, dw) = win["stride"], win["dilation"]
    out_pad = (draw(st.integers(0, max(sh, dh) - 1)), draw(st.integers(0, max(sw, dw) - 1)))
    n, h, w = draw(st.integers(1, 2)), draw(st.integers(1, 4)), draw(st.integers(1, 4))
    (kh, kw), (ph, pw) = win["kernel_size"], win["padding"]
    assume((h - 1) * sh - 2 * ph + dh * (kh - 1) + out_pad[0] + 1 > 0)
    assume((w - 1) * sw - 2 * pw + dw * (kw - 1) + out_pad[1] + 1 > 0)
    weight = _normal(draw, (cin, cout_g, kh, kw), dtype)
    bias = _normal(draw, (cout_g * groups,), dtype) if draw(st.booleans()) else None
    kwargs = {"stride": win["stride"], "padding": win["padding"], "output_padding": out_pad, "groups": groups,
              "dilation": win["dilation"]}
    return Case((_normal(draw, (n, cin, h, w), dtype), weight, bias), (True, True, bias is not None), kwargs,
                dtype)


@family("max_pool2d")
@st.composite
def _max_pool2d(draw: st.DrawFn, dtype: str) -> Case:
    """Distinct values (no ties: the gradient at a tie is a convention), overlapping windows, ceil_mode."""
    win = draw(_window(dilation=True))
    if win["dilation"] != (1, 1):
        win["padding"] = (0, 0)  # a dilated window over padding can miss every input row: an error, not a case
    shape = _image(draw, draw(st.integers(1, 2)), draw(st.integers(1, 2)), _span(win), win["padding"])
    win["ceil_mode"] = draw(st.booleans())
    return Case((_distinct(draw, shape, dtype),), (True,), win, dtype)


@family("avg_pool2d")
@st.composite
def _avg_pool2d(draw: st.DrawFn, dtype: str) -> Case:
    win = draw(_window(dilation=False))
    del win["dilation"]
    shape = _image(draw, draw(st.integers(1, 2)), draw(st.integers(1, 2)), win["kernel_size"], win["padding"])
    win["ceil_mode"] = draw(st.booleans())
    win["count_include_pad"] = draw(st.booleans())
    win["divisor_override"] = draw(st.none() | st.integers(1, 5))
    return Case((_normal(draw, shape, dtype),), (True,), win, dtype)


@family("adaptive_avg_pool2d")
@st.composite
def _adaptive(draw: st.DrawFn, dtype: str) -> Case:
    shape = (draw(st.integers(1, 2)), draw(st.integers(1, 2)), draw(st.integers(1, 7)), draw(st.integers(1, 7)))
    size = (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    return Case((_normal(draw, shape, dtype),), (True,), {"output_size": size}, dtype)


@family("max_unpool2d")
@st.composite
def _max_unpool2d(draw: st.DrawFn, dtype: str) -> Case:
    """Distinct switches per plane (torch keeps one of several values sent to one place; tapegrad adds them)."""
    k = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    s = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    n, c, hi, wi = draw(st.integers(1, 2)), draw(st.integers(1, 2)), draw(st.integers(1, 3)), draw(st.integers(1, 3))
    h, w = (hi - 1) * s[0] + k[0], (wi - 1) * s[1] + k[1]
    planes = [draw(st.permutations(range(h * w)))[: hi * wi] for _ in range(n * c)]
    indices = np.asarray(planes, dtype=np.int64).reshape(n, c, hi, wi)
    x = _normal(draw, (n, c, hi, wi), dtype)
    return Case((x, indices), (True, False), {"kernel_size": k, "stride": s}, dtype)


@family("unfold")
@st.composite
def _unfold(draw: st.DrawFn, dtype: str) -> Case:
    win = draw(_window(dilation=True))
    shape = _image(draw, draw(st.integers(1, 2)), draw(st.integers(1, 2)), _span(win), win["padding"])
    return Case((_normal(draw, shape, dtype),), (True,), win, dtype)


@family("fold")
@st.composite
def _fold(draw: st.DrawFn, dtype: str) -> Case:
    win = draw(_window(dilation=True))
    n, c, h, w = _image(draw, draw(st.integers(1, 2)), draw(st.integers(1, 2)), _span(win), win["padding"])
    (kh, kw), (sh, sw), (ph, pw), (dh, dw) = win["kernel_size"], win["stride"], win["padding"], win["dilation"]
    ho, wo = (h + 2 * ph - dh * (kh - 1) - 1) // sh + 1, (w + 2 * pw - dw * (kw - 1) - 1) // sw + 1
    cols = _normal(draw, (n, c * kh * kw, ho * wo), dtype)
    return Case((cols,), (True,), {"output_size": (h, w), **win}, dtype)


def _classes(draw: st.DrawFn, dtype: str, smoothing: bool) -> Case:
    c = draw(st.integers(2, 5))
    layout = draw(st.sampled_from(["single", "batch", "spatial"]))
    n = draw(st.integers(1, 4))
    shape, tshape = {"single": ((c,), ()), "batch": ((n, c), (n,)), "spatial": ((n, c, 2), (n, 2))}[layout]
    target = draw(hnp.arrays(np.int64, tshape, elements=st.integers(0, c - 1)))
    kwargs: dict[str, Any] = {"reduction": draw(st.sampled_from(["mean", "sum", "none"]))}
    if target.size > 1 and draw(st.booleans()):
        kwargs["ignore_index"] = int(target.flat[0])  # ignore one class, keep at least one other target
        assume(np.any(target != target.flat[0]))
    if smoothing and draw(st.booleans()):
        kwargs["label_smoothing"] = draw(st.sampled_from([0.1, 0.25]))
    weight = draw(values((c,), dtype, Arg(low=0.5, high=2.0))) if draw(st.booleans()) else None
    x = _normal(draw, shape, dtype, -3.0, 3.0)
    return Case((x, target, weight), (True, False, False), kwargs, dtype)


@family("cross_entropy")
@st.composite
def _cross_entropy(draw: st.DrawFn, dtype: str) -> Case:
    return _classes(draw, dtype, smoothing=True)


@family("nll_loss")
@st.composite
def _nll(draw: st.DrawFn, dtype: str) -> Case:
    return _classes(draw, dtype, smoothing=False)


@family("same_shape")
@st.composite
def _same_shape(draw: st.DrawFn, dtype: str) -> Case:
    shape = draw(hnp.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=4))
    return Case((_normal(draw, shape, dtype), _normal(draw, shape, dtype)), (True, True),
                {"reduction": draw(st.sampled_from(["mean", "sum", "none"]))}, dtype)


@family("linear")
@st.composite
def _linear(draw: st.DrawFn, dtype: str) -> Case:
    lead = draw(hnp.array_shapes(min_dims=0, max_dims=2, min_side=1, max_side=3))
    fin, fout = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    bias = _normal(draw, (fout,), dtype) if draw(st.booleans()) else None
    return Case((_normal(draw, (*lead, fin), dtype), _normal(draw, (fout, fin), dtype), bias),
                (True, True, bias is not None), {}, dtype)


@family("batch_norm")
@st.composite
def _batch_norm(draw: st.DrawFn, dtype: str) -> Case:
    """Training (batch statistics) or evaluation (running statistics); affine or not.

    Training with running statistics updates them in place (a documented side effect, PyTorch's too), so the
    training cases pass none and the check that inputs are not mutated stays meaningful.

    Training normalises at least 3 values per channel, not all (nearly) equal.  With 2, the output is +-x_hat with
    x_hat^2 = var / (var + eps) whatever x is, so the input gradient is the cancellation 1 - x_hat^2 ~ eps / var:
    noise at float32 precision in every implementation.  Found by the CI profile ((2, 1) input [0, 1]): the
    float64 value 1.031278e-5, PyTorch's float32 1.031140e-5 (1.3e-4 off), tapegrad's 1.032710e-5 (1.4e-3 off).
    """
    n, c = draw(st.integers(2, 3)), draw(st.integers(1, 3))
    shape = (n, c, *draw(hnp.array_shapes(min_dims=0, max_dims=2, min_side=1, max_side=3)))
    training = draw(st.booleans())
    if training and n * int(np.prod(shape[2:])) < 3:
        shape = (3, *shape[1:])
    stats = (None, None) if training else (
        _normal(draw, (c,), dtype), draw(values((c,), dtype, Arg(low=0.5, high=2.0))))
    affine = draw(st.booleans())
    weight = draw(values((c,), dtype, Arg(low=0.5, high=2.0))) if affine else None
    bias = _normal(draw, (c,), dtype) if affine else None
    x = _normal(draw, shape, dtype)
    if training:  # a (near-)constant channel normalises rounding noise: (x - mean) ~ 1e-8, times 1/sqrt(eps)
        spread = np.moveaxis(x, 1, 0).reshape(c, -1).astype(np.float64).std(axis=1)
        assume(bool((spread > 1e-2).all()))
    return Case((x, *stats, weight, bias), (True, False, False, affine, affine), {"training": training}, dtype)


@family("dropout")
@st.composite
def _dropout(draw: st.DrawFn, dtype: str) -> Case:
    """The deterministic corners: evaluation, p=0 (identity) and p=1 (zeros); random masks cannot match torch."""
    shape = draw(hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=4))
    kwargs = {"p": draw(st.sampled_from([0.0, 0.5, 1.0])), "training": draw(st.booleans())}
    assume(not (kwargs["training"] and kwargs["p"] == 0.5))
    return Case((_normal(draw, shape, dtype),), (True,), kwargs, dtype)


@family("conv2d_chunked")
@st.composite
def _conv2d_chunked(draw: st.DrawFn, dtype: str) -> Case:
    """A batch whose im2col columns span several 1 MiB chunks (conv's CHUNK_BYTES): the chunked backward."""
    n, c, o = 3, 4, draw(st.integers(1, 2))
    h, w = draw(st.integers(52, 56)), draw(st.integers(52, 56))
    stride = draw(st.sampled_from([1, 2]))
    weight = _normal(draw, (o, c, 3, 3), dtype)
    x = np.random.default_rng(draw(st.integers(0, 2**16))).uniform(-2, 2, (n, c, h, w)).astype(dtype)
    return Case((x, weight, None), (True, True, False), {"stride": stride, "padding": 1}, dtype)
