"""``Linear``, ``Identity`` and ``Flatten``."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from tapegrad.autograd import Tensor
from tapegrad.autograd.errors import ShapeError, describe

from .. import init
from ..functional.linear import linear
from .module import Module
from .parameter import Parameter


def empty(shape: tuple[int, ...], dtype: Any = None, device: Any = None) -> Parameter:
    """An uninitialised parameter of ``shape`` (float32 unless ``dtype``), filled by ``reset_parameters``."""
    p = Parameter(np.zeros(shape, dtype=np.dtype(dtype) if dtype is not None else np.float32))
    if device is not None:
        p.data = Tensor(p.data, device=device).data
    return p


class Identity(Module):
    """Returns its input (a placeholder, e.g. to remove a layer from a Sequential)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__()

    def forward(self, x: Any) -> Any:
        return x


class Linear(Module):
    """``y = x @ weight.T + bias``; PyTorch's init (kaiming_uniform, a=sqrt(5); bias +-1/sqrt(in))."""

    def __init__(
        self, in_features: int, out_features: int, bias: bool = True, device: Any = None, dtype: Any = None
    ) -> None:
        super().__init__()
        if in_features <= 0 or out_features <= 0:
            raise ValueError(f"Linear: features must be positive, got in={in_features}, out={out_features}")
        self.in_features = in_features
        self.out_features = out_features
        self.weight = empty((out_features, in_features), dtype, device)
        if bias:
            self.bias = empty((out_features,), dtype, device)
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            bound = 1 / math.sqrt(self.in_features)
            init.uniform_(self.bias, -bound, bound)

    def forward(self, x: Tensor) -> Tensor:
        if x.ndim == 0 or x.shape[-1] != self.in_features:
            raise ShapeError(
                f"{self!r}: expected input with {self.in_features} features in its last dimension, "
                f"got {describe(x)}"
            )
        return linear(x, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (
            f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"
        )


class Flatten(Module):
    """Flatten dims ``start_dim..end_dim`` (by default all but the batch axis)."""

    def __init__(self, start_dim: int = 1, end_dim: int = -1) -> None:
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, x: Tensor) -> Tensor:
        return x.flatten(self.start_dim, self.end_dim)

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"
