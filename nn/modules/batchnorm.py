"""``BatchNorm1d`` / ``BatchNorm2d``: per-channel normalisation with running statistics kept as buffers."""

from __future__ import annotations

from typing import Any

import numpy as np
from tapegrad.autograd import Tensor
from tapegrad.autograd.errors import ShapeError, describe

from ..functional.normalization import batch_norm
from .module import Module
from .parameter import Parameter


class _BatchNorm(Module):
    _dims: tuple[int, ...] = ()

    def __init__(
        self,
        num_features: int,
        eps: float = 1e-5,
        momentum: float | None = 0.1,
        affine: bool = True,
        track_running_stats: bool = True,
        device: Any = None,
        dtype: Any = None,
        *,
        bias: bool = True,
    ) -> None:
        super().__init__()
        if eps <= 0:
            raise ValueError(f"{type(self).__name__}: eps must be positive, got {eps}")
        dt = np.dtype(dtype) if dtype is not None else np.dtype(np.float32)
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        self.has_bias = affine and bias
        if affine:
            self.weight = Parameter(Tensor(np.ones(num_features, dtype=dt), device=device))
            if bias:
                self.bias = Parameter(Tensor(np.zeros(num_features, dtype=dt), device=device))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if track_running_stats:
            self.register_buffer("running_mean", Tensor(np.zeros(num_features, dtype=dt), device=device))
            self.register_buffer("running_var", Tensor(np.ones(num_features, dtype=dt), device=device))
            self.register_buffer("num_batches_tracked", Tensor(np.array(0, dtype=np.int64)))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)

    def reset_running_stats(self) -> None:
        if self.track_running_stats:
            self.running_mean.data[...] = 0
            self.running_var.data[...] = 1
            self.num_batches_tracked.data[...] = 0

    def forward(self, x: Tensor) -> Tensor:
        if x.ndim not in self._dims or x.shape[1] != self.num_features:
            dims = " or ".join(f"{d}-D" for d in self._dims)
            raise ShapeError(
                f"{self!r}: expected {dims} input with {self.num_features} channels on axis 1, "
                f"got {describe(x)}"
            )
        momentum = 0.0 if self.momentum is None else self.momentum
        counting = self.training and self.track_running_stats
        if counting and self.momentum is None:  # cumulative moving average, as in PyTorch
            momentum = 1.0 / (float(self.num_batches_tracked.data) + 1)
        use_batch = self.training or not self.track_running_stats
        track = not self.training or self.track_running_stats
        try:
            out = batch_norm(
                x,
                self.running_mean if track else None,
                self.running_var if track else None,
                self.weight,
                self.bias,
                use_batch,
                momentum,
                self.eps,
            )
        except (ShapeError, ValueError) as exc:
            raise type(exc)(f"{self!r}: {exc}") from exc
        if counting:
            self.num_batches_tracked.data[...] += 1
        return out

    def extra_repr(self) -> str:
        bias = f"bias={self.has_bias}, "
        return (
            f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, {bias}"
            f"track_running_stats={self.track_running_stats}"
        )


class BatchNorm1d(_BatchNorm):
    """Over (N, C) or (N, C, L) inputs."""

    _dims = (2, 3)


class BatchNorm2d(_BatchNorm):
    """Over (N, C, H, W) inputs."""

    _dims = (4,)
