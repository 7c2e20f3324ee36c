"""Errors that name the op, the shapes and dtypes it got, and what it expected."""

from __future__ import annotations

from typing import Any


class TapegradError(Exception):
    """Base class of tapegrad's own errors."""


class ShapeError(TapegradError, ValueError):
    """An op got shapes it cannot work with."""


class ArgumentError(TapegradError, TypeError, ValueError):
    """An op or layer got an argument of the wrong kind or value (a kernel size that is not an int or a pair,
    a zero stride); both a TypeError and a ValueError, so one type covers every such mistake."""


class DTypeError(TapegradError, TypeError):
    """An op got a dtype it cannot work with."""


class DeviceError(TapegradError, RuntimeError):
    """An op got tensors on different devices."""


class GraphError(TapegradError, RuntimeError):
    """Backward was asked of a graph that cannot give it (freed, nothing requires grad, ...)."""


def describe(value: Any) -> str:
    """'float32[2, 3]' for an array or tensor, repr for anything else (used in every error message)."""
    shape = getattr(value, "shape", None)
    dtype = getattr(value, "dtype", None)
    if shape is None or dtype is None:
        return repr(value)
    return f"{dtype}[{', '.join(str(s) for s in shape)}]"
