"""``Conv2d`` and ``ConvTranspose2d``: parameters, PyTorch's initialisation and shape checks around
``tapegrad.nn.functional.conv2d`` / ``conv_transpose2d``."""

from __future__ import annotations

import math
from typing import Any

from tapegrad.autograd import Tensor
from tapegrad.autograd.errors import ShapeError, describe

from .. import functional as F
from .. import init
from ..functional.geometry import named_errors, pair
from .linear import empty
from .module import Module


class _ConvNd(Module):
    transposed = False

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: Any,
        stride: Any,
        padding: Any,
        dilation: Any,
        groups: int,
        bias: bool,
        output_padding: Any = 0,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__()
        name = type(self).__name__
        if in_channels <= 0 or out_channels <= 0 or groups <= 0:
            raise ValueError(
                f"{name}: channels and groups must be positive, got in={in_channels}, "
                f"out={out_channels}, groups={groups}"
            )
        if in_channels % groups or out_channels % groups:
            raise ValueError(
                f"{name}: in_channels ({in_channels}) and out_channels ({out_channels}) must both be "
                f"divisible by groups ({groups})"
            )
        self.in_channels, self.out_channels, self.groups = in_channels, out_channels, groups
        self.kernel_size = pair(kernel_size, "kernel_size", name, minimum=None)
        self.stride = pair(stride, "stride", name, minimum=None)
        self.padding = pair(padding, "padding", name, minimum=None)
        self.dilation = pair(dilation, "dilation", name, minimum=None)
        self.output_padding = pair(output_padding, "output_padding", name, minimum=None)
        if (
            min(self.kernel_size) <= 0
            or min(self.stride) <= 0
            or min(self.dilation) <= 0
            or min(self.padding) < 0
        ):
            raise ValueError(
                f"{name}: kernel_size, stride and dilation must be positive and padding non-negative, "
                f"got kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
                f"dilation={self.dilation}"
            )
        if self.transposed:
            shape = (in_channels, out_channels // groups) + self.kernel_size
        else:
            shape = (out_channels, in_channels // groups) + self.kernel_size
        self.weight = empty(shape, dtype, device)
        if bias:
            self.bias = empty((out_channels,), dtype, device)
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        # PyTorch's default: kaiming_uniform(a=sqrt(5)) == U(+-1/sqrt(fan_in)), the same bound for the bias
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in, _ = init._calculate_fan_in_and_fan_out(self.weight)
            if fan_in:
                bound = 1 / math.sqrt(fan_in)
                init.uniform_(self.bias, -bound, bound)

    def _check_input(self, x: Tensor) -> None:
        if x.ndim != 4 or x.shape[1] != self.in_channels:
            raise ShapeError(
                f"{self!r}: expected a 4-D input (N, C, H, W) with C={self.in_channels} channels, "
                f"got {describe(x)}"
            )

    def extra_repr(self) -> str:
        s = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        if self.padding != (0, 0):
            s += f", padding={self.padding}"
        if self.dilation != (1, 1):
            s += f", dilation={self.dilation}"
        if self.output_padding != (0, 0):
            s += f", output_padding={self.output_padding}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        return s


class Conv2d(_ConvNd):
    """2-D cross-correlation ``Conv2d(in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1,
    groups=1, bias=True)``; weight (out, in/groups, kH, kW)."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: Any,
        stride: Any = 1,
        padding: Any = 0,
        dilation: Any = 1,
        groups: int = 1,
        bias: bool = True,
        padding_mode: str = "zeros",
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        if padding_mode != "zeros":
            raise NotImplementedError(f"Conv2d: padding_mode={padding_mode!r} is not supported, only 'zeros'")
        if padding not in ("same", "valid") and isinstance(padding, str):
            raise ValueError(f"Conv2d: padding must be an int, a pair, 'same' or 'valid', got {padding!r}")
        name = padding if isinstance(padding, str) else None
        super().__init__(
            in_channels,
            out_channels,
            kernel_size,
            stride,
            0 if isinstance(padding, str) else padding,
            dilation,
            groups,
            bias,
            device=device,
            dtype=dtype,
        )
        self.padding_name = name
        if name == "same" and self.stride != (1, 1):
            raise ValueError("Conv2d: padding='same' is not supported for strided convolutions (as in torch)")

    def extra_repr(self) -> str:
        s = super().extra_repr()
        if self.padding_name is not None:
            s = s.replace(f"stride={self.stride}", f"stride={self.stride}, padding={self.padding_name}", 1)
        return s

    def forward(self, x: Tensor) -> Tensor:
        self._check_input(x)
        padding = self.padding if self.padding_name is None else self.padding_name
        with named_errors(self):
            return F.conv2d(x, self.weight, self.bias, self.stride, padding, self.dilation, self.groups)


class ConvTranspose2d(_ConvNd):
    """The transposed convolution (the adjoint of Conv2d with the same settings);
    weight (in, out/groups, kH, kW)."""

    transposed = True

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: Any,
        stride: Any = 1,
        padding: Any = 0,
        output_padding: Any = 0,
        groups: int = 1,
        bias: bool = True,
        dilation: Any = 1,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__(
            in_channels,
            out_channels,
            kernel_size,
            stride,
            padding,
            dilation,
            groups,
            bias,
            output_padding,
            device=device,
            dtype=dtype,
        )
        for axis in (0, 1):
            if self.output_padding[axis] >= max(self.stride[axis], self.dilation[axis]):
                raise ValueError(
                    f"ConvTranspose2d: output_padding {self.output_padding} must be smaller than "
                    f"stride {self.stride} or dilation {self.dilation}"
                )

    def _output_padding(self, x: Tensor, output_size: Any) -> tuple[int, int]:
        if output_size is None:
            return self.output_padding
        size = tuple(output_size)[-2:]
        result = []
        for axis in (0, 1):
            smallest = (
                (x.shape[2 + axis] - 1) * self.stride[axis]
                - 2 * self.padding[axis]
                + self.dilation[axis] * (self.kernel_size[axis] - 1)
                + 1
            )
            extra = size[axis] - smallest
            if not 0 <= extra < max(self.stride[axis], self.dilation[axis]):
                raise ShapeError(
                    f"{self!r}: requested output size {tuple(size)} is not reachable from input "
                    f"{describe(x)} (the smallest is {smallest} on axis {2 + axis})"
                )
            result.append(extra)
        return (result[0], result[1])

    def forward(self, x: Tensor, output_size: Any = None) -> Tensor:
        self._check_input(x)
        output_padding = self._output_padding(x, output_size)
        with named_errors(self):
            return F.conv_transpose2d(
                x, self.weight, self.bias, self.stride, self.padding, output_padding, self.groups, self.dilation
            )
