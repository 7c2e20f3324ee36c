"""``sync_batch_norm``: batch normalisation whose statistics are those of the global batch, over all ranks.

Written like ``batch_norm`` (a composition of autograd ops), with one extra op: a differentiable all-reduce sum.
Its backward is again an all-reduce sum, because every rank's output depends on every rank's input: the
gradient that reaches rank q's partial sum is the sum over ranks of the gradients of their outputs (what torch's
SyncBatchNorm reduces as ``sum_dy`` and ``sum_dy_xmu``).  Two reductions per layer (the sums, then the sums of
squared deviations) keep the variance as exact as the single-process two-pass formula.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from tapegrad.autograd import Function, Tensor, no_grad
from tapegrad.autograd.errors import ShapeError, describe

from .normalization import batch_norm


class _AllReduceSum(Function):
    """y = sum over ranks of x (every rank gets y); dx = sum over ranks of dy.  Not a public op."""

    projection = "linear"  # for tapegrad.viz: its backward is its adjoint

    @staticmethod
    def forward(ctx: Any, x: Any) -> Any:
        import tapegrad.distributed as dist

        out = x.copy()
        dist.all_reduce(out, "sum")
        return out

    @staticmethod
    def backward(ctx: Any, g: Tensor) -> Any:
        import tapegrad.distributed as dist

        out = g.data.copy()
        dist.all_reduce(out, "sum")
        return Tensor._make(out, None, 0)


def _world_size() -> int:
    import tapegrad.distributed as dist

    return dist.get_world_size() if dist.is_initialized() else 1


def sync_batch_norm(x: Tensor, running_mean: Tensor | None, running_var: Tensor | None,
                    weight: Tensor | None = None, bias: Tensor | None = None, training: bool = False,
                    momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    """``batch_norm`` with the batch statistics of all ranks' batches together (a world of 1: ``batch_norm``)."""
    if not training or _world_size() == 1:
        return batch_norm(x, running_mean, running_var, weight, bias, training, momentum, eps)
    import tapegrad.distributed as dist

    if x.ndim < 2:
        raise ShapeError(f"sync_batch_norm: input must have a batch and a channel axis, got {describe(x)}")
    channels = x.shape[1]
    axes = (0,) + tuple(range(2, x.ndim))
    shape = (1, channels) + (1,) * (x.ndim - 2)
    count_array = np.array([x.size // channels], dtype=np.int64)
    dist.all_reduce(count_array, "sum")
    count = int(count_array[0])
    if count <= 1:
        raise ValueError(f"sync_batch_norm: expected more than 1 value per channel over all ranks when "
                         f"training, got {count} (this rank's input {describe(x)})")
    mean = _AllReduceSum.apply(x.sum(axis=axes)) / count
    centered = x - mean.reshape(shape)
    var = _AllReduceSum.apply((centered * centered).sum(axis=axes)) / count
    out = centered / (var.reshape(shape) + eps).sqrt()
    if running_mean is not None and running_var is not None:
        with no_grad():
            rm, rv = running_mean.data, running_var.data
            rm *= 1 - momentum
            rm += momentum * mean.data.astype(rm.dtype, copy=False)
            rv *= 1 - momentum
            rv += momentum * (var.data * (count / (count - 1))).astype(rv.dtype, copy=False)
    if weight is not None:
        out = out * weight.reshape(shape)
    if bias is not None:
        out = out + bias.reshape(shape)
    return out
