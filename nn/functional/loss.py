"""Losses: cross_entropy (fused log-softmax + NLL), nll_loss, mse_loss — PyTorch's semantics and defaults.

``cross_entropy`` is one Function: forward is ``kernels.cross_entropy`` (the log-softmax with the max shifted
out, so logits of +-1e4 give the exact finite loss; each row's loss and softmax in one fused pass) and backward
is ``(softmax * sum(A) - A) * g / D`` written with tensor ops, where ``A`` holds each sample's (weighted,
smoothed) target distribution and ``D`` the mean's denominator.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from tapegrad.autograd import Function, Tensor, kernels
from tapegrad.autograd.backend import array_module, is_gpu_array
from tapegrad.autograd.errors import DTypeError, ShapeError, describe
from tapegrad.autograd.function import Context
from tapegrad.autograd.opspec import OpSpec

_REDUCTIONS = ("mean", "sum", "none")


def _to_rows(x: Tensor, target: Any, op: str) -> tuple[Any, Any, tuple[int, ...]]:
    """Check shapes/dtypes and return (rows of logits (M, C) as array, flat targets (M,), target shape)."""
    tdata = target.data if isinstance(target, Tensor) else target
    if not hasattr(tdata, "dtype"):
        tdata = np.asarray(tdata)
    if tdata.dtype.kind not in "iu":
        raise DTypeError(
            f"{op}: target must hold integer class indices (int64), got {describe(tdata)}; "
            "convert it with .long() if it holds whole numbers"
        )
    if x.ndim == 1:
        expected: tuple[int, ...] = ()
    elif x.ndim >= 2:
        expected = (x.shape[0],) + x.shape[2:]
    else:
        raise ShapeError(f"{op}: input must have a class axis, got {describe(x)}")
    if tuple(tdata.shape) != expected:
        raise ShapeError(
            f"{op}: input {describe(x)} needs a target of shape {expected} "
            f"(batch size {x.shape[0] if x.ndim > 1 else 1}), got target {describe(tdata)}"
        )
    return x.data, tdata, expected


def _check_targets(flat: Any, classes: int, ignore_index: int, op: str, x: Tensor) -> Any:
    xp = array_module(flat)
    valid = flat != ignore_index
    bad = valid & ((flat < 0) | (flat >= classes))
    if bool(bad.any()):
        value = int(flat[bad][0])
        raise ValueError(
            f"{op}: target {value} is out of range for input {describe(x)} with {classes} classes "
            f"(targets must be in [0, {classes - 1}] or equal ignore_index={ignore_index})"
        )
    return xp.asarray(valid)


def _coefficients(
    flat: Any, valid: Any, classes: int, weight: Any, label_smoothing: float, dtype: Any
) -> tuple[Any, Any]:
    """A (M, C): each row's target distribution times the class weights; and each row's weight."""
    xp = array_module(flat)
    m = flat.shape[0]
    safe = xp.where(valid, flat, 0)
    w = xp.ones(classes, dtype=dtype) if weight is None else weight.astype(dtype, copy=False)
    target_w = w[safe] * valid
    a = xp.zeros((m, classes), dtype=dtype)
    a[xp.arange(m), safe] = (1.0 - label_smoothing) * target_w
    if label_smoothing:
        a += (label_smoothing / classes) * w[None, :] * valid[:, None]
    return a, target_w


def _reduce(losses: Any, denominator: Any, reduction: str) -> Any:
    """The per-sample losses as they are ('none'), summed ('sum'), or summed over ``denominator`` ('mean')."""
    if reduction == "none":
        return losses
    total = losses.sum()
    return _mean(total, denominator) if reduction == "mean" else total


def _weighted_sum(a: Any, values: Any) -> Any:
    """sum(a * values) over each row, where a weight of 0 contributes 0 even against an infinite value.

    Without this, a -inf logit (a class masked out) or a float16 log-probability that overflowed to -inf
    gives 0 * -inf = NaN, and one such row (even an ignored one) makes the whole mean NaN; PyTorch gathers
    the target entries instead and gets the finite loss (1.3133 for logits [0, 1, -inf], target 0).
    """
    xp = array_module(values)
    return xp.where(a != 0, a * values, 0).sum(axis=1)


def _mean(total: Any, denominator: Any) -> Any:
    """total / denominator; 0/0 (every target ignored) is NaN as in PyTorch, without NumPy's warning."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return total / denominator


def _mean_scale(g: Tensor, d: Any) -> Tensor:
    """The upstream gradient of a mean over D targets: g / D, and zero when none counts (N = 0, or all ignored),
    as in PyTorch."""
    if is_gpu_array(d):  # bool(d) would wait for the GPU: the same choice made on the device
        xp = array_module(d)
        return g * xp.where(d != 0, 1 / xp.where(d != 0, d, 1), 0).astype(g.dtype)
    return g / d if d else g * 0


class CrossEntropy(Function):
    projection = None  # for tapegrad.viz's deconvnet / guided backprop

    @staticmethod
    def forward(ctx: Context, rows: Any, a: Any, denominator: Any, reduction: str) -> Any:
        # float16 is computed in float32 like PyTorch's (logits of +-4e4 differ by 8e4 > float16's max)
        work = rows.astype(np.float32) if rows.dtype == np.float16 else rows
        # one fused pass per row: -sum(a * log_softmax(rows)) with 0 * -inf = 0 (see _weighted_sum), and the softmax
        with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
            losses, prob = kernels.cross_entropy(work, a.astype(work.dtype, copy=False))
        losses = losses.astype(rows.dtype, copy=False)
        ctx.save_for_backward(rows)
        ctx.prob = prob.astype(rows.dtype, copy=False)
        ctx.a, ctx.denominator, ctx.reduction = a, denominator, reduction
        return _reduce(losses, denominator, reduction)

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> tuple[Any, ...]:
        (rows,) = ctx.saved_tensors
        a = ctx.a
        prob = SoftmaxRows.apply(rows, ctx.prob)
        local = prob * a.sum(axis=1, keepdims=True) - a
        if ctx.reduction == "none":
            return local * g.reshape((-1, 1) if g.ndim else (1, 1)), None, None, None
        if ctx.reduction == "mean":
            g = _mean_scale(g, ctx.denominator)
        return local * g, None, None, None


class SoftmaxRows(Function):
    """softmax(rows) over axis 1, as already computed by the cross-entropy forward: the array forward returns it
    and the backward is the softmax's vjp, so a recorded backward differentiates it without computing it twice."""

    projection = None  # for tapegrad.viz's deconvnet / guided backprop
    retain_outputs = (0,)

    @staticmethod
    def forward(ctx: Context, rows: Any, prob: Any) -> Any:
        return prob

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> tuple[Any, ...]:
        (prob,) = ctx.saved_tensors
        return prob * (grad - (grad * prob).sum(axis=1, keepdims=True)), None


class NllLoss(Function):
    """-sum(A * input) / D: linear in the input, so its backward is the constant -A / D times the upstream."""

    projection = None  # for tapegrad.viz's deconvnet / guided backprop

    @staticmethod
    def forward(ctx: Context, rows: Any, a: Any, denominator: Any, reduction: str) -> Any:
        ctx.a, ctx.denominator, ctx.reduction = a, denominator, reduction
        with np.errstate(invalid="ignore", over="ignore"):
            losses = -_weighted_sum(a, rows)
        return _reduce(losses, denominator, reduction)

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> tuple[Any, ...]:
        if ctx.reduction == "none":
            return g.reshape((-1, 1)) * (-ctx.a), None, None, None
        if ctx.reduction == "mean":
            g = _mean_scale(g, ctx.denominator)
        return g * (-ctx.a), None, None, None


def _class_loss(
    fn: type[Function],
    op: str,
    x: Tensor,
    target: Any,
    weight: Any,
    ignore_index: int,
    reduction: str,
    label_smoothing: float,
) -> Tensor:
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{op}: reduction must be one of {_REDUCTIONS}, got {reduction!r}")
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"{op}: label_smoothing must be in [0, 1], got {label_smoothing}")
    if x.dtype.kind != "f":
        raise DTypeError(f"{op}: input must be floating point, got {describe(x)}")
    _, tdata, tshape = _to_rows(x, target, op)
    classes = x.shape[0] if x.ndim == 1 else x.shape[1]
    if x.ndim == 1:
        rows = x.reshape(1, classes)
    elif x.ndim == 2:
        rows = x
    else:  # (N, C, d1, ...) -> (N * d1 * ..., C)
        rows = x.permute((0,) + tuple(range(2, x.ndim)) + (1,)).reshape(-1, classes)
    xp = array_module(x.data)
    flat = xp.asarray(tdata).reshape(-1).astype(np.int64, copy=False)
    valid = _check_targets(flat, classes, ignore_index, op, x)
    w = weight.data if isinstance(weight, Tensor) else weight
    if w is not None:
        w = xp.asarray(w)  # a NumPy weight for logits on the GPU, or a list
    if w is not None and tuple(w.shape) != (classes,):
        raise ShapeError(
            f"{op}: weight must have shape ({classes},) for input {describe(x)}, got {describe(w)}"
        )
    a, target_w = _coefficients(flat, valid, classes, w, label_smoothing, x.dtype)
    denominator = target_w.sum()
    out = fn.apply(rows, a, denominator, reduction)
    if reduction == "none":
        out = out.reshape(tshape)
    return out


def cross_entropy(
    input: Tensor,  # noqa: A002 - torch's name
    target: Any,
    weight: Any = None,
    *,
    ignore_index: int = -100,
    reduction: str = "mean",
    label_smoothing: float = 0.0,
) -> Tensor:
    """Like ``torch.nn.functional.cross_entropy`` with class-index targets (any integer dtype,
    any batch size).

    ``input`` is (C,), (N, C) or (N, C, d1, ...); ``target`` is (), (N,) or (N, d1, ...).  Options after
    ``weight`` are keyword-only (PyTorch's positional slots there are deprecated ones).  The mean is
    the weighted mean over non-ignored targets (NaN when every target is ignored), as in PyTorch.
    """
    return _class_loss(
        CrossEntropy, "cross_entropy", input, target, weight, ignore_index, reduction, float(label_smoothing)
    )


def nll_loss(
    input: Tensor,  # noqa: A002 - torch's name
    target: Any,
    weight: Any = None,
    *,
    ignore_index: int = -100,
    reduction: str = "mean",
) -> Tensor:
    """Negative log-likelihood of log-probabilities ``input`` (e.g. from ``log_softmax``), like PyTorch's."""
    return _class_loss(NllLoss, "nll_loss", input, target, weight, ignore_index, reduction, 0.0)


def mse_loss(input: Tensor, target: Any, reduction: str = "mean") -> Tensor:  # noqa: A002 - torch's name
    """Mean squared error; the shapes must match (PyTorch only warns and broadcasts, which hides bugs)."""
    if reduction not in _REDUCTIONS:
        raise ValueError(f"mse_loss: reduction must be one of {_REDUCTIONS}, got {reduction!r}")
    target = target if isinstance(target, Tensor) else Tensor(target, dtype=input.dtype)
    if input.shape != target.shape:
        raise ShapeError(
            f"mse_loss: input {describe(input)} and target {describe(target)} must have the same shape"
        )
    diff = input - target
    sq = diff * diff
    if reduction == "none":
        return sq
    return sq.mean() if reduction == "mean" else sq.sum()


# How the ops are checked (tapegrad.testing turns these into tests, the coverage table and the mutation check).
CrossEntropy.spec = OpSpec(
    "cross_entropy", lambda x, t, w, **kw: cross_entropy(x, t, w, **kw), "torch.nn.functional.cross_entropy",
    inputs="cross_entropy", notes="(C,), (N, C), (N, C, d) logits; weights, ignore_index, label smoothing",
)
NllLoss.spec = OpSpec(
    "nll_loss", lambda x, t, w, **kw: nll_loss(x, t, w, **kw), "torch.nn.functional.nll_loss", inputs="nll_loss",
)
SPECS = (OpSpec("mse_loss", lambda x, t, **kw: mse_loss(x, t, **kw), "torch.nn.functional.mse_loss",
                inputs="same_shape"),)
