"""Tensors made from nothing: zeros, ones, full, arange, eye, and random draws."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..backend import to_device
from ..random import default_generator
from ..tensor import DEFAULT_DTYPE, Tensor, _shape_args


def _new(array: Any, dtype: Any, device: Any, requires_grad: bool) -> Tensor:
    array = array.astype(dtype if dtype is not None else DEFAULT_DTYPE, copy=False)
    if device is not None:
        array = to_device(array, device)
    return Tensor(array, requires_grad=requires_grad)


def zeros(*shape: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    return _new(np.zeros(_shape_args(shape)), dtype, device, requires_grad)


def ones(*shape: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    return _new(np.ones(_shape_args(shape)), dtype, device, requires_grad)


def full(shape: Any, value: float, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    return _new(np.full(tuple(shape), value), dtype, device, requires_grad)


def zeros_like(t: Tensor, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    xp_array = t.data * 0 if dtype is None else (t.data * 0).astype(dtype)
    return Tensor(xp_array, requires_grad=requires_grad)


def ones_like(t: Tensor, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    xp_array = t.data * 0 + 1 if dtype is None else (t.data * 0 + 1).astype(dtype)
    return Tensor(xp_array, requires_grad=requires_grad)


def arange(*args: Any, dtype: Any = None, device: Any = None) -> Tensor:
    array = np.arange(*args)
    if dtype is None and array.dtype.kind == "f":
        dtype = DEFAULT_DTYPE
    return _new(array, dtype or array.dtype, device, False)


def eye(n: int, m: int | None = None, dtype: Any = None, device: Any = None) -> Tensor:
    return _new(np.eye(n, m), dtype, device, False)


def randn(*shape: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    return _new(default_generator().standard_normal(_shape_args(shape)), dtype, device, requires_grad)


def rand(*shape: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    return _new(default_generator().random(_shape_args(shape)), dtype, device, requires_grad)
