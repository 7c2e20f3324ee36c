"""``batch_norm``, written as a composition of autograd ops (not one fused Function).

Why composite: in eval mode the layer is exactly the affine map ``x * scale + shift`` with constant
per-channel ``scale`` and ``shift``, recorded as two elementwise ops the deconvnet walks like any other
linear op; in training mode the chain of mean/sub/mul/div ops gives correct first- and second-order
gradients for free.
"""

from __future__ import annotations

from typing import Any

from tapegrad.autograd import Tensor, no_grad
from tapegrad.autograd.errors import ShapeError, describe
from tapegrad.autograd.opspec import OpSpec


def _data(t: Any) -> Any:
    return t.data if isinstance(t, Tensor) else t


def batch_norm(
    x: Tensor,
    running_mean: Tensor | None,
    running_var: Tensor | None,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    training: bool = False,
    momentum: float = 0.1,
    eps: float = 1e-5,
) -> Tensor:
    """Normalise over every axis but the channel axis 1, like ``torch.nn.functional.batch_norm``.

    In training the batch statistics are used (biased variance) and the running statistics, when given, are
    updated in place with the unbiased variance: ``running = (1 - momentum) * running + momentum * batch``.
    """
    if x.ndim < 2:
        raise ShapeError(f"batch_norm: input must have a batch and a channel axis, got {describe(x)}")
    channels = x.shape[1]
    for name, t in (
        ("running_mean", running_mean),
        ("running_var", running_var),
        ("weight", weight),
        ("bias", bias),
    ):
        if t is not None and tuple(t.shape) != (channels,):
            raise ShapeError(
                f"batch_norm: {name} must have shape ({channels},) for input {describe(x)}, got {describe(t)}"
            )
    if eps <= 0:
        raise ValueError(f"batch_norm: eps must be positive (it keeps 1/sqrt(var + eps) finite), got {eps}")
    axes = (0,) + tuple(range(2, x.ndim))
    shape = (1, channels) + (1,) * (x.ndim - 2)
    if x.size == 0:  # an empty batch: an empty output, running statistics untouched (as in PyTorch)
        out = x * 1.0
        out = out if weight is None else out * weight.reshape(shape)
        return out if bias is None else out + bias.reshape(shape)
    if training or running_mean is None or running_var is None:
        count = x.size // channels
        if training and count <= 1:
            raise ValueError(
                f"batch_norm: expected more than 1 value per channel when training, got input {describe(x)} "
                "(the batch variance would be 0 and the output meaningless)"
            )
        mean = x.mean(axis=axes, keepdims=True)
        centered = x - mean
        var = (centered * centered).mean(axis=axes, keepdims=True)
        out = centered / (var + eps).sqrt()
        if training and running_mean is not None and running_var is not None:
            with no_grad():
                batch_mean = mean.data.reshape(channels)
                batch_var = var.data.reshape(channels) * (count / max(count - 1, 1))
                rm, rv = _data(running_mean), _data(running_var)
                rm *= 1 - momentum
                rm += momentum * batch_mean.astype(rm.dtype, copy=False)
                rv *= 1 - momentum
                rv += momentum * batch_var.astype(rv.dtype, copy=False)
        if weight is not None:
            out = out * weight.reshape(shape)
        if bias is not None:
            out = out + bias.reshape(shape)
        return out
    # eval: one affine map with per-channel constants folded from the running statistics
    xp_mean = _data(running_mean).reshape(shape).astype(x.dtype, copy=False)
    inv_std = 1.0 / (_data(running_var).reshape(shape).astype(x.dtype, copy=False) + eps) ** 0.5
    if weight is None:
        scale: Any = Tensor._make(inv_std, None, 0)
        shift: Any = Tensor._make(-xp_mean * inv_std, None, 0)
    else:
        scale = weight.reshape(shape) * Tensor._make(inv_std, None, 0)
        shift = -(scale * Tensor._make(xp_mean, None, 0))
    if bias is not None:
        shift = shift + bias.reshape(shape)
    return x * scale + shift


# How the op is checked (tapegrad.testing turns this into tests and the coverage table).
SPECS = (
    OpSpec("batch_norm", lambda x, m, v, w, b, **kw: batch_norm(x, m, v, w, b, **kw), "torch.nn.functional.batch_norm",
           inputs="batch_norm", notes="training (batch statistics, no running ones) or evaluation, affine or not"),
)
