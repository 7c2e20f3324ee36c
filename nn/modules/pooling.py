"""Pooling modules: ``MaxPool2d``, ``MaxUnpool2d``, ``AvgPool2d``, ``AdaptiveAvgPool2d``."""

from __future__ import annotations

from typing import Any

from tapegrad.autograd import Tensor
from tapegrad.autograd.errors import ShapeError, describe

from .. import functional as F
from ..functional.geometry import default_stride, named_errors, pair
from .module import Module


def _check_ndim(layer: Module, x: Tensor) -> None:
    if x.ndim not in (3, 4):
        raise ShapeError(f"{layer!r}: expected a 3-D (C, H, W) or 4-D (N, C, H, W) input, got {describe(x)}")


class MaxPool2d(Module):
    """Max over windows; ``return_indices=True`` also returns PyTorch-compatible flat indices ("switches")."""

    def __init__(
        self,
        kernel_size: Any,
        stride: Any = None,
        padding: Any = 0,
        dilation: Any = 1,
        return_indices: bool = False,
        ceil_mode: bool = False,
    ) -> None:
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding, self.dilation = padding, dilation
        self.return_indices, self.ceil_mode = return_indices, ceil_mode

    def forward(self, x: Tensor) -> Any:
        _check_ndim(self, x)
        with named_errors(self):
            return F.max_pool2d(
                x,
                self.kernel_size,
                self.stride,
                self.padding,
                self.dilation,
                ceil_mode=self.ceil_mode,
                return_indices=self.return_indices,
            )

    def extra_repr(self) -> str:
        return (
            f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
            f"dilation={self.dilation}, ceil_mode={self.ceil_mode}"
        )


class MaxUnpool2d(Module):
    """Scatter pooled values back to the positions the indices (switches) name; zeros elsewhere."""

    def __init__(self, kernel_size: Any, stride: Any = None, padding: Any = 0) -> None:
        super().__init__()
        self.kernel_size = pair(kernel_size, "kernel_size", "MaxUnpool2d", 1)
        self.stride = pair(default_stride(stride, kernel_size), "stride", "MaxUnpool2d", 1)
        self.padding = pair(padding, "padding", "MaxUnpool2d", 0)

    def forward(self, x: Tensor, indices: Any, output_size: Any = None) -> Tensor:
        if tuple(getattr(indices, "shape", ())) != x.shape:
            raise ShapeError(
                f"{self!r}: indices {describe(indices)} must have the shape of the input {describe(x)}"
            )
        with named_errors(self):
            return F.max_unpool2d(x, indices, self.kernel_size, self.stride, self.padding, output_size)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AvgPool2d(Module):
    def __init__(
        self,
        kernel_size: Any,
        stride: Any = None,
        padding: Any = 0,
        ceil_mode: bool = False,
        count_include_pad: bool = True,
        divisor_override: int | None = None,
    ) -> None:
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding, self.ceil_mode = padding, ceil_mode
        self.count_include_pad, self.divisor_override = count_include_pad, divisor_override

    def forward(self, x: Tensor) -> Tensor:
        _check_ndim(self, x)
        extra: dict[str, Any] = {}
        if self.ceil_mode:
            extra["ceil_mode"] = True
        if not self.count_include_pad:
            extra["count_include_pad"] = False
        if self.divisor_override is not None:
            extra["divisor_override"] = self.divisor_override
        with named_errors(self):
            return F.avg_pool2d(x, self.kernel_size, self.stride, self.padding, **extra)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AdaptiveAvgPool2d(Module):
    def __init__(self, output_size: Any) -> None:
        super().__init__()
        self.output_size = output_size

    def forward(self, x: Tensor) -> Tensor:
        if x.ndim not in (3, 4):
            raise ShapeError(f"{self!r}: expected a 3-D or 4-D input, got {describe(x)}")
        return F.adaptive_avg_pool2d(x, self.output_size)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"
