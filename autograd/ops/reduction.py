"""Reductions: sum, mean, var, max/min (ties split like ``torch.amax``), argmax, logsumexp, (log-)softmax.

Every reduction takes PyTorch's ``dim``/``keepdim`` and NumPy's ``axis``/``keepdims`` (one of each pair).
"""

from __future__ import annotations

import builtins
from typing import Any, NamedTuple

from .. import kernels
from ..backend import array_module
from ..errors import ShapeError
from ..function import Context, Function, public
from ..opspec import Arg, OpSpec
from ..tensor import Tensor
from ._args import UNSET, dims, either


def normalize_axis(axis: Any, ndim: int, op: str) -> tuple[int, ...]:
    """``None`` -> all axes; ints and tuples -> sorted non-negative axes; out of range -> a clear error."""
    if axis is None:
        return tuple(range(ndim))
    axes = (axis,) if isinstance(axis, int) else tuple(axis)
    result = []
    bound = ndim if ndim else 1  # a 0-d tensor accepts axis 0 and -1, like torch
    for a in axes:
        if not -bound <= a < bound:
            raise ShapeError(f"{op}: axis {a} is out of range for a tensor with {ndim} dimensions")
        result.append(a % bound if ndim else 0)
    if len(set(result)) != len(result):
        raise ShapeError(f"{op}: repeated axis in {axis}")
    return tuple(sorted(result)) if ndim else ()


def reduced_count(shape: tuple[int, ...], axes: tuple[int, ...]) -> int:
    """How many elements each result of a reduction over ``axes`` combines."""
    count = 1
    for a in axes:
        count *= shape[a]
    return count


def kept_shape(shape: tuple[int, ...], axes: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(1 if i in axes else s for i, s in enumerate(shape))


CHANNEL_SUM_MIN_ELEMENTS = 1 << 14
"""Below this, NumPy's own sum (a few microseconds) is as fast as the kernel's dispatch."""

_DIM_KWARGS = {"dim1": {"dim": 1}, "dims_keepdim": {"dim": (0, 1), "keepdim": True}, "all": {}}


class Sum(Function):
    """Sum over ``dim`` (``torch.sum``).

    Parameters
    ----------
    x : Tensor
        The input.
    dim : int, tuple of int or None
        The axes to reduce (NumPy's ``axis``, accepted too); None reduces all of them.  Negative axes count from
        the end.
    keepdim : bool
        Keep the reduced axes with size 1 (NumPy's ``keepdims``), so the result broadcasts against ``x``.

    Returns
    -------
    Tensor
        The sums.  The gradient is the upstream gradient broadcast back over the reduced axes.
    """

    names, method, projection = "sum", True, "linear"
    spec = tuple(
        OpSpec(f"sum_{k}", lambda x, **kw: x.sum(**kw), "torch.sum", (Arg((2, 3, 4)),), kwargs=kw)
        for k, kw in _DIM_KWARGS.items()
    )

    @staticmethod
    def call(
        x: Tensor, dim: Any = None, keepdim: bool = False, *, axis: Any = UNSET, keepdims: Any = UNSET
    ) -> Tensor:
        if axis is not UNSET or keepdims is not UNSET:  # NumPy's spelling
            dim, keepdim = dims("sum", dim, axis, keepdim, keepdims)
        return Sum.apply(x, normalize_axis(dim, x.ndim, "sum"), keepdim)

    @staticmethod
    def forward(ctx: Context, x: Any, axis: tuple[int, ...], keepdims: bool) -> Any:
        ctx.shape, ctx.axes = x.shape, axis
        kept = [i for i in range(x.ndim) if i not in axis]
        if len(kept) == 1 and 0 < len(axis) and x.size >= CHANNEL_SUM_MIN_ELEMENTS and x.flags.c_contiguous:
            # every axis but one (a convolution's bias gradient): one pass of the channel-sum kernel (contiguous
            # arrays only: the (outer, C, inner) view of another layout would be a copy)
            k = kept[0]
            outer = reduced_count(x.shape, tuple(range(k)))
            sums = kernels.channel_sum(x.reshape(outer, x.shape[k], -1))
            return sums.reshape(kept_shape(x.shape, axis) if keepdims else (x.shape[k],))
        return x.sum(axis=axis, keepdims=keepdims)

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> tuple[Any, ...]:
        return g.reshape(kept_shape(ctx.shape, ctx.axes)).broadcast_to(ctx.shape), None, None


def _extremum_forward(ctx: Context, x: Any, axis: tuple[int, ...], keepdims: bool, largest: bool) -> Any:
    if x.size == 0 and (x.ndim == 0 or any(x.shape[a] == 0 for a in axis)):
        raise ShapeError(f"{'max' if largest else 'min'}: no value to reduce: shape {x.shape}, axes {axis}")
    out = x.max(axis=axis, keepdims=True) if largest else x.min(axis=axis, keepdims=True)
    mask = (x == out).astype(x.dtype)
    ctx.weights = mask / mask.sum(axis=axis, keepdims=True)
    ctx.shape, ctx.axes = x.shape, axis
    return out if keepdims else array_module(x).squeeze(out, axis=axis)


def _extremum_backward(ctx: Context, g: Tensor) -> tuple[Any, ...]:
    return g.reshape(kept_shape(ctx.shape, ctx.axes)) * ctx.weights, None, None


class Amax(Function):
    """Largest value over ``dim`` (``torch.amax``); reducing an empty axis raises :class:`ShapeError`.

    The gradient goes to the elements equal to the maximum; when several tie, it is split evenly among them
    (each gets ``g / count``), like ``torch.amax``, so it still sums to ``g``.
    """

    names, method, projection = "amax", True, "linear"
    spec = tuple(
        OpSpec(f"amax_{k}", lambda x, **kw: x.amax(**kw), "torch.amax", (Arg((2, 3, 4), distinct=True),), kwargs=kw)
        for k, kw in _DIM_KWARGS.items()
    )

    @staticmethod
    def call(
        x: Tensor, dim: Any = None, keepdim: bool = False, *, axis: Any = UNSET, keepdims: Any = UNSET
    ) -> Tensor:
        if axis is not UNSET or keepdims is not UNSET:  # NumPy's spelling
            dim, keepdim = dims("amax", dim, axis, keepdim, keepdims)
        return Amax.apply(x, normalize_axis(dim, x.ndim, "max"), keepdim)

    @staticmethod
    def forward(ctx: Context, x: Any, axis: tuple[int, ...], keepdims: bool) -> Any:
        return _extremum_forward(ctx, x, axis, keepdims, True)

    backward = staticmethod(_extremum_backward)


class Amin(Function):
    """Smallest value over ``dim`` (``torch.amin``): the counterpart of :func:`amax`, ties split evenly."""

    names, method, projection = "amin", True, "linear"
    spec = tuple(
        OpSpec(f"amin_{k}", lambda x, **kw: x.amin(**kw), "torch.amin", (Arg((2, 3, 4), distinct=True),), kwargs=kw)
        for k, kw in _DIM_KWARGS.items()
    )

    @staticmethod
    def call(
        x: Tensor, dim: Any = None, keepdim: bool = False, *, axis: Any = UNSET, keepdims: Any = UNSET
    ) -> Tensor:
        if axis is not UNSET or keepdims is not UNSET:  # NumPy's spelling
            dim, keepdim = dims("amin", dim, axis, keepdim, keepdims)
        return Amin.apply(x, normalize_axis(dim, x.ndim, "min"), keepdim)

    @staticmethod
    def forward(ctx: Context, x: Any, axis: tuple[int, ...], keepdims: bool) -> Any:
        return _extremum_forward(ctx, x, axis, keepdims, False)

    backward = staticmethod(_extremum_backward)


class ValuesIndices(NamedTuple):
    """What ``max(x, dim=d)`` / ``min(x, dim=d)`` return, like torch's ``torch.return_types.max``."""

    values: Tensor
    indices: Tensor


def _take_along(x: Tensor, index: Any, axis: int) -> Tensor:
    """``x`` at ``index`` (kept-shape integer array) along ``axis``: differentiable, the gradient to that element."""
    xp = array_module(index)
    grid = list(xp.ogrid[tuple(slice(0, s) for s in index.shape)])
    grid[axis] = index
    return x[tuple(grid)]


def _extremum(op: str, x: Tensor, axis: Any, keepdims: bool, dim: Any, keepdim: Any) -> Any:
    if keepdim is not UNSET:
        if keepdims:
            raise TypeError(f"{op}: got both keepdim and keepdims; they are the same argument: pass only one")
        keepdims = keepdim
    if dim is UNSET:  # NumPy's spelling (or positional): the values, like amax
        return (Amax if op == "max" else Amin).public(x, axis, bool(keepdims))
    if axis is not None:
        raise TypeError(f"{op}: got both dim={dim!r} and axis={axis!r}; they are the same argument: pass only one")
    axes = normalize_axis(dim, x.ndim, op)
    if len(axes) != 1:
        raise TypeError(f"{op}: dim must be one int to get (values, indices), got {dim!r}; use amax for several")
    indices = (argmax if op == "max" else argmin)(x, axes[0], keepdim=True)
    values = _take_along(x, indices.data, axes[0])
    if not keepdims:
        values, indices = values.squeeze(axes[0]), indices.squeeze(axes[0])
    return ValuesIndices(values, indices)


@public(method=True)
def max(  # noqa: A001 - mirrors torch.max
    x: Tensor, axis: Any = None, keepdims: bool = False, *, dim: Any = UNSET, keepdim: Any = UNSET
) -> Any:
    """Largest value over an axis; ``x.max(1)`` / ``axis=`` give the values (``torch.amax``, NumPy's ``max``).

    With ``dim=`` (PyTorch's spelling) the result is torch's ``(values, indices)`` pair: one int axis, the
    gradient to the element at ``indices``.  Without ``dim``, ties split the gradient as :func:`amax` does.
    """
    return _extremum("max", x, axis, keepdims, dim, keepdim)


@public(method=True)
def min(  # noqa: A001 - mirrors torch.min
    x: Tensor, axis: Any = None, keepdims: bool = False, *, dim: Any = UNSET, keepdim: Any = UNSET
) -> Any:
    """Smallest value over an axis: the counterpart of :func:`max` (``dim=`` gives ``(values, indices)``)."""
    return _extremum("min", x, axis, keepdims, dim, keepdim)


@public(method=True)
def mean(x: Tensor, dim: Any = None, keepdim: bool = False, *, axis: Any = UNSET, keepdims: Any = UNSET) -> Tensor:
    """Arithmetic mean over ``dim`` (``torch.mean``; NumPy's ``axis``/``keepdims`` too).

    The mean over no elements is ``nan``, as in PyTorch.
    """
    if axis is not UNSET or keepdims is not UNSET:  # NumPy's spelling
        dim, keepdim = dims("mean", dim, axis, keepdim, keepdims)
    axes = normalize_axis(dim, x.ndim, "mean")
    count = reduced_count(x.shape, axes)
    total = Sum.apply(x, axes, keepdim)
    return total / count if count else total * float("nan")  # the mean of nothing is NaN, as in torch


@public(method=True)
def var(
    x: Tensor,
    dim: Any = None,
    keepdim: bool = False,
    correction: int = 1,
    *,
    axis: Any = UNSET,
    keepdims: Any = UNSET,
) -> Tensor:
    """Variance with Bessel's correction by default (``torch.var``); ``correction=0`` for the biased one.

    ``dim``/``keepdim`` as in :func:`sum`.  The sum of squared deviations is divided by ``count - correction``
    (clamped at 0, so too few elements give ``inf`` or ``nan``, as in PyTorch).
    """
    if axis is not UNSET or keepdims is not UNSET:  # NumPy's spelling
        dim, keepdim = dims("var", dim, axis, keepdim, keepdims)
    axes = normalize_axis(dim, x.ndim, "var")
    count = reduced_count(x.shape, axes)
    centered = x - mean(x, axes, keepdim=True)
    return (centered * centered).sum(axes, keepdim) / builtins.max(count - correction, 0)


@public(method=True)
def argmax(
    x: Tensor, dim: int | None = None, keepdim: bool = False, *, axis: Any = UNSET, keepdims: Any = UNSET
) -> Tensor:
    """Index of the first largest value (over the flattened tensor when ``dim`` is None); no gradient.

    ``dim`` is one int (NumPy's ``axis``); the result is int64.  An empty tensor or axis raises
    :class:`~tapegrad.autograd.ShapeError`.
    """
    axis, keepdims = dims("argmax", dim, axis, keepdim, keepdims)  # either spelling
    data = x.data if isinstance(x, Tensor) else x
    if axis is not None:
        axes = normalize_axis(axis, data.ndim, "argmax")
        if len(axes) > 1:
            raise ShapeError(f"argmax: axis must be one int or None, got {axis}")
        axis = axes[0] if axes else None
        if axis is not None and data.shape[axis] == 0:
            raise ShapeError(f"argmax: axis {axis} of shape {data.shape} is empty: there is no largest value")
    elif data.size == 0:
        raise ShapeError(f"argmax: cannot take the argmax of an empty tensor of shape {data.shape}")
    out = data.argmax(axis=axis)
    if keepdims:
        out = array_module(data).expand_dims(out, axis) if axis is not None else out.reshape((1,) * data.ndim)
    return Tensor._make(array_module(data).asarray(out).astype("int64"), None, 0)


@public(method=True)
def argmin(
    x: Tensor, dim: int | None = None, keepdim: bool = False, *, axis: Any = UNSET, keepdims: Any = UNSET
) -> Tensor:
    """Index of the first smallest value (``torch.argmin``), as int64; over the flattened tensor when ``dim`` is None.

    Not differentiable: the result never requires grad.
    """
    if axis is not UNSET or keepdims is not UNSET:  # NumPy's spelling
        dim, keepdim = dims("argmin", dim, axis, keepdim, keepdims)
    return argmax(-x.detach(), dim, keepdim)


class LogSumExp(Function):
    """log(sum(exp(x))) computed stably: exact for logits of +-1e4 where a naive version overflows.

    ``dim`` and ``keepdim`` are as in :func:`sum` (NumPy's ``axis``/``keepdims`` too).  An all ``-inf`` slice
    gives ``-inf``; an empty one gives ``-inf`` too.  The gradient is ``g * softmax(x)`` over the reduced axes.
    """

    names, method, retain_inputs, projection = "logsumexp", True, (0,), None
    spec = tuple(
        OpSpec(f"logsumexp_{k}", lambda x, **kw: x.logsumexp(**kw), "torch.logsumexp", (Arg((2, 3, 4)),), kwargs=kw)
        for k, kw in (("dim1", {"dim": 1}), ("dims_keepdim", {"dim": (0, 2), "keepdim": True}))
    )

    @staticmethod
    def call(
        x: Tensor, dim: Any = None, keepdim: bool = False, *, axis: Any = UNSET, keepdims: Any = UNSET
    ) -> Tensor:
        if axis is not UNSET or keepdims is not UNSET:  # NumPy's spelling
            dim, keepdim = dims("logsumexp", dim, axis, keepdim, keepdims)
        return LogSumExp.apply(x, normalize_axis(dim, x.ndim, "logsumexp"), keepdim)

    @staticmethod
    def forward(ctx: Context, x: Any, axis: tuple[int, ...], keepdims: bool) -> Any:
        xp = array_module(x)
        if x.size:
            m = x.max(axis=axis, keepdims=True)
            m = xp.where(xp.isfinite(m), m, 0)  # all -inf (or inf) along an axis: no shift
        else:  # the log of an empty sum is -inf, as in torch
            m = xp.zeros(kept_shape(x.shape, axis), dtype=x.dtype)
        out = xp.log(xp.exp(x - m).sum(axis=axis, keepdims=True)) + m
        ctx.kept = out
        ctx.shape, ctx.axes = x.shape, axis
        return out if keepdims else xp.squeeze(out, axis=axis)

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> tuple[Any, ...]:
        (x,) = ctx.saved_tensors
        return LogSumExpGrad.apply(g.reshape(kept_shape(ctx.shape, ctx.axes)), x, ctx.kept, ctx.axes), None, None


class LogSumExpGrad(Function):
    """The backward of logsumexp, ``g * exp(x - lse)``, as an op: arrays forward, Tensor ops backward.

    The pooling pattern: the first-order backward reuses the forward's ``lse`` array; differentiating it again
    (``create_graph``) recomputes ``softmax(x)`` with Tensor ops, so no ``is_grad_enabled()`` branch is needed.
    """

    retain_inputs, projection = (0, 1), "linear"

    @staticmethod
    def forward(ctx: Context, g: Any, x: Any, lse: Any, axes: tuple[int, ...]) -> Any:
        ctx.axes = axes
        return g * array_module(x).exp(x - lse)

    @staticmethod
    def backward(ctx: Context, u: Tensor) -> tuple[Any, ...]:
        g, x = ctx.saved_tensors
        axes = ctx.axes
        s = (x - LogSumExp.public(x, axes, keepdim=True)).exp()  # softmax over the reduced axes, differentiable
        gg = (u * s).sum(axes, keepdim=True) if ctx.needs_input_grad[0] else None
        gx = None
        if ctx.needs_input_grad[1]:
            ug = u * g
            gx = s * ug - s * (ug * s).sum(axes, keepdim=True)
        return gg, gx, None, None


class Softmax(Function):
    """``exp(x) / sum(exp(x))`` along one axis (``torch.softmax``; ``dim`` or NumPy's ``axis``).

    Shifted by the maximum before ``exp``, so large logits do not overflow.  The gradient is
    ``s * (g - sum(g * s))`` along ``dim``, with ``s`` the output.
    """

    names, method, retain_outputs, projection = "softmax", True, (0,), None
    spec = OpSpec("softmax", lambda x: x.softmax(1), lambda x: x.softmax(1), (Arg((3, 4)),))

    @staticmethod
    def call(x: Tensor, dim: int = -1, *, axis: Any = UNSET) -> Tensor:
        dim = either("softmax", "dim", dim, "axis", axis, -1)
        normalize_axis(dim, x.ndim, "softmax")
        return Softmax.apply(x, dim)

    @staticmethod
    def forward(ctx: Context, x: Any, axis: int) -> Any:
        ctx.axis = axis
        if x.size == 0:  # nothing to normalise (max over an empty axis would fail)
            return x.copy()
        e = array_module(x).exp(x - x.max(axis=axis, keepdims=True))
        return e / e.sum(axis=axis, keepdims=True)

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> tuple[Any, ...]:
        (out,) = ctx.saved_tensors
        return out * (g - (g * out).sum(ctx.axis, keepdim=True)), None


class LogSoftmax(Function):
    """``x - logsumexp(x)`` along one axis (``torch.log_softmax``; ``dim`` or NumPy's ``axis``).

    Computed stably (never the log of an underflowed softmax), which is why losses should use it rather than
    ``softmax(x).log()``.  The gradient is ``g - softmax(x) * sum(g)`` along ``dim``.
    """

    names, method, retain_outputs, projection = "log_softmax", True, (0,), None
    spec = OpSpec("log_softmax", lambda x: x.log_softmax(1), lambda x: x.log_softmax(1), (Arg((3, 4)),))

    @staticmethod
    def call(x: Tensor, dim: int = -1, *, axis: Any = UNSET) -> Tensor:
        dim = either("log_softmax", "dim", dim, "axis", axis, -1)
        normalize_axis(dim, x.ndim, "log_softmax")
        return LogSoftmax.apply(x, dim)

    @staticmethod
    def forward(ctx: Context, x: Any, axis: int) -> Any:
        ctx.axis = axis
        if x.size == 0:
            return x.copy()
        shifted = x - x.max(axis=axis, keepdims=True)
        return shifted - array_module(x).log(array_module(x).exp(shifted).sum(axis=axis, keepdims=True))

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> tuple[Any, ...]:
        (out,) = ctx.saved_tensors
        return g - out.exp() * g.sum(ctx.axis, keepdim=True), None


# the composites' specs (tapegrad.testing collects a module's SPECS)
SPECS = (
    OpSpec("mean_dim1", lambda x: x.mean(dim=1), lambda x: x.mean(dim=1), (Arg((2, 3, 4)),)),
    OpSpec("var_dims", lambda x: x.var((0, 2)), lambda x: x.var((0, 2)), (Arg((2, 3, 4)),)),
    OpSpec(
        "max_dim_values",
        lambda x: x.max(dim=1).values,
        lambda x: x.max(dim=1).values,
        (Arg((2, 3, 4), distinct=True),),
    ),
    OpSpec(
        "min_dim_values",
        lambda x: x.min(dim=0, keepdim=True).values,
        lambda x: x.min(dim=0, keepdim=True).values,
        (Arg((2, 3, 4), distinct=True),),
    ),
)
