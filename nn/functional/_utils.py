"""The input check shared by the convolution and pooling ops (their window arguments: ``geometry.py``)."""

from __future__ import annotations

from typing import Any

from tapegrad.autograd import Tensor
from tapegrad.autograd.errors import DTypeError, ShapeError, describe


def check_input(x: Any, op: str) -> tuple[Tensor, bool]:
    """Accept an (N, C, H, W) batch or one (C, H, W) image; returns the 4-D tensor and whether it was batched.

    Like PyTorch, an unbatched 3-D input gives an unbatched output.
    """
    if not isinstance(x, Tensor):
        x = Tensor(x)
    if x.ndim not in (3, 4):
        raise ShapeError(f"{op}: expected a 4-D (N, C, H, W) or 3-D (C, H, W) input, got {describe(x)}")
    if x.dtype.kind != "f":
        raise DTypeError(f"{op}: expected a floating point input, got {describe(x)}")
    if x.ndim == 3:
        return x.reshape((1,) + x.shape), False
    return x, True
