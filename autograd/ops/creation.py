"""Tensors made from nothing: zeros, ones, full, arange, eye, and random draws."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..backend import to_device
from ..function import public
from ..random import default_generator
from ..tensor import DEFAULT_DTYPE, Tensor
from .shape import _shape_args


def _new(array: Any, dtype: Any, device: Any, requires_grad: bool) -> Tensor:
    array = array.astype(dtype if dtype is not None else DEFAULT_DTYPE, copy=False)
    if device is not None:
        array = to_device(array, device)
    return Tensor(array, requires_grad=requires_grad)


@public()
def zeros(*shape: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """A tensor of zeros (``torch.zeros``).

    Parameters
    ----------
    *shape : int
        The sizes, as separate ints ``zeros(2, 3)`` or one tuple ``zeros((2, 3))``.
    dtype : dtype, optional
        Defaults to float32, PyTorch's default.
    device : str, optional
        ``'cpu'`` (default) or ``'cuda'``.
    requires_grad : bool
        Make the result a leaf that collects ``.grad``.
    """
    return _new(np.zeros(_shape_args(shape)), dtype, device, requires_grad)


@public()
def ones(*shape: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """A tensor of ones (``torch.ones``); the parameters are those of :func:`zeros`."""
    return _new(np.ones(_shape_args(shape)), dtype, device, requires_grad)


@public()
def full(shape: Any, value: float, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """A tensor of ``shape`` (a sequence of ints) filled with ``value`` (``torch.full``); float32 by default."""
    return _new(np.full(tuple(shape), value), dtype, device, requires_grad)


@public()
def zeros_like(t: Tensor, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Zeros with the shape, device and (unless ``dtype`` is given) dtype of ``t`` (``torch.zeros_like``)."""
    xp_array = t.data * 0 if dtype is None else (t.data * 0).astype(dtype)
    return Tensor(xp_array, requires_grad=requires_grad)


@public()
def ones_like(t: Tensor, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Ones with the shape, device and (unless ``dtype`` is given) dtype of ``t`` (``torch.ones_like``)."""
    xp_array = t.data * 0 + 1 if dtype is None else (t.data * 0 + 1).astype(dtype)
    return Tensor(xp_array, requires_grad=requires_grad)


@public()
def arange(*args: Any, dtype: Any = None, device: Any = None) -> Tensor:
    """Evenly spaced values: ``arange(stop)``, ``arange(start, stop)``, ``arange(start, stop, step)`` like torch.

    Integer arguments give int64, as in PyTorch; float ones give float32 unless ``dtype`` says otherwise.  The
    result never requires grad.
    """
    array = np.arange(*args)
    if dtype is None and array.dtype.kind == "f":
        dtype = DEFAULT_DTYPE
    return _new(array, dtype or array.dtype, device, False)


@public()
def eye(n: int, m: int | None = None, dtype: Any = None, device: Any = None) -> Tensor:
    """An ``n`` by ``m`` (default ``n``) matrix with ones on the diagonal (``torch.eye``); float32 by default."""
    return _new(np.eye(n, m), dtype, device, False)


@public()
def randn(*shape: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """Draws from the standard normal distribution (``torch.randn``); the parameters are those of :func:`zeros`.

    The numbers come from tapegrad's own generator (see :func:`~tapegrad.autograd.manual_seed`), drawn on the
    CPU in float64 and then converted, so a seed gives the same values on every device.
    """
    return _new(default_generator().standard_normal(_shape_args(shape)), dtype, device, requires_grad)


@public()
def rand(*shape: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """Draws uniform on ``[0, 1)`` (``torch.rand``); parameters as in :func:`zeros`, seeding as in :func:`randn`."""
    return _new(default_generator().random(_shape_args(shape)), dtype, device, requires_grad)
