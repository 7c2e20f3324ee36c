"""``SyncBatchNorm``: ``BatchNorm`` whose training statistics are taken over the global batch of all ranks.

Why: with plain batch norm, N ranks at batch b normalise with N different batch-b statistics, so data-parallel
training is not the single-process run at batch N * b; with SyncBatchNorm it is (tests/distributed check the
parameters after K steps).  Outside a multi-rank job it is exactly ``BatchNorm``.
"""

from __future__ import annotations

from typing import Any

from tapegrad.autograd import Tensor
from tapegrad.autograd.errors import ShapeError, describe

from ..functional.sync_batchnorm import sync_batch_norm
from .batchnorm import _BatchNorm
from .module import Module


class SyncBatchNorm(_BatchNorm):
    """Over (N, C, ...) inputs of any rank >= 2, as torch's ``SyncBatchNorm``."""

    _dims = (2, 3, 4, 5)

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1, affine: bool = True,
                 track_running_stats: bool = True, process_group: Any = None, device: Any = None,
                 dtype: Any = None) -> None:
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device, dtype)
        self.process_group = process_group

    def forward(self, x: Tensor) -> Tensor:
        if x.ndim < 2 or x.shape[1] != self.num_features:
            raise ShapeError(f"{self!r}: expected input with {self.num_features} channels on axis 1, got "
                             f"{describe(x)}")
        momentum = 0.0 if self.momentum is None else self.momentum
        counting = self.training and self.track_running_stats
        if counting and self.momentum is None:
            momentum = 1.0 / (float(self.num_batches_tracked.data) + 1)
        use_batch = self.training or not self.track_running_stats
        track = not self.training or self.track_running_stats
        out = sync_batch_norm(x, self.running_mean if track else None, self.running_var if track else None,
                              self.weight, self.bias, use_batch, momentum, self.eps)
        if counting:
            self.num_batches_tracked.data[...] += 1
        return out

    @classmethod
    def convert_sync_batchnorm(cls, module: Module, process_group: Any = None) -> Module:
        """Replace every ``BatchNorm*`` in ``module`` by a ``SyncBatchNorm`` holding the same parameters and
        running statistics (the module itself when it is one); returns the converted module."""
        if isinstance(module, _BatchNorm) and not isinstance(module, SyncBatchNorm):
            new = cls(module.num_features, module.eps, module.momentum, module.affine, module.track_running_stats,
                      process_group)
            for name in ("weight", "bias"):
                if name in module._parameters:
                    new._parameters[name] = module._parameters[name]
            for name in ("running_mean", "running_var", "num_batches_tracked"):
                new._buffers[name] = module._buffers[name]
            new.has_bias = module.has_bias
            new.train(module.training)
            return new
        for name, child in list(module._modules.items()):
            if child is not None:
                module._modules[name] = cls.convert_sync_batchnorm(child, process_group)
        return module
