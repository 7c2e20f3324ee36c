"""Argument parsing for the convolution and pooling ops: ints or pairs, checked, errors naming the op."""

from __future__ import annotations

from typing import Any

from tapegrad.autograd import Tensor
from tapegrad.autograd.errors import DTypeError, ShapeError, describe


def pair(value: Any, name: str, op: str, minimum: int = 0) -> tuple[int, int]:
    """``3`` -> ``(3, 3)``; ``(2, 3)`` stays; anything else, or a value below ``minimum``, is an error.

    ``minimum`` is 1 for kernel sizes, strides and dilations and 0 for paddings, so that a zero stride or a
    negative padding is reported here, naming the op and the argument, rather than failing later inside NumPy.
    """
    if isinstance(value, Tensor):
        value = value.tolist()
    if isinstance(value, (list, tuple)):
        if len(value) == 1:
            value = (value[0], value[0])
        if len(value) != 2:
            raise ValueError(f"{op}: {name} must be an int or a pair of ints, got {value!r}")
        items = tuple(value)
    else:
        items = (value, value)
    try:
        result = tuple(int(v) for v in items)
    except (TypeError, ValueError):
        raise TypeError(f"{op}: {name} must be an int or a pair of ints, got {value!r}") from None
    if any(r != v for r, v in zip(result, items, strict=True)):
        raise TypeError(f"{op}: {name} must be an int or a pair of ints, got {value!r}")
    if min(result) < minimum:
        what = "positive" if minimum == 1 else f"at least {minimum}"
        raise ValueError(f"{op}: {name} must be {what}, got {value!r}")
    return result  # type: ignore[return-value]


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


def output_size(
    size: int, kernel: int, stride: int, padding: int, dilation: int, ceil_mode: bool = False
) -> int:
    """The number of window positions along one axis, with PyTorch's ceil_mode rule.

    With ``ceil_mode`` a last, partial window is kept only when it starts inside the input or its left padding
    (a window lying entirely in the right padding is dropped), exactly as ``torch.nn.functional.max_pool2d``.
    """
    span = size + 2 * padding - dilation * (kernel - 1) - 1
    if span < 0:
        return 0
    if ceil_mode:
        out = -(-span // stride) + 1
        if (out - 1) * stride >= size + padding:
            out -= 1
        return out
    return span // stride + 1
