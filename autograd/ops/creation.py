"""Tensors made from nothing (zeros, ones, empty, full, arange, linspace, eye, random draws), their ``*_like``
forms, and the wrappers of existing arrays (``as_tensor``, ``from_numpy``).  None of them is differentiable: the
results are leaves.
"""

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
def full(shape: Any, fill_value: float, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """A tensor of ``shape`` (an int or a sequence of ints) filled with ``fill_value`` (``torch.full``).

    The dtype follows the value as in PyTorch: float32 for a float, int64 for an int, bool for a bool.
    """
    shape = (shape,) if isinstance(shape, int | np.integer) else tuple(shape)
    if dtype is None:
        dtype = np.bool_ if isinstance(fill_value, bool) else np.int64 if isinstance(fill_value, int) else None
    return _new(np.full(shape, fill_value), dtype, device, requires_grad)


@public()
def empty(*shape: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """A tensor whose values are unspecified (``torch.empty``); parameters as in :func:`zeros`.

    It is filled with zeros: NumPy's ``empty`` would hand back stale float64 bits whose cast to float32 warns
    of overflow, and zeroing costs about as much as that cast.
    """
    return _new(np.zeros(_shape_args(shape)), dtype, device, requires_grad)


def _like(t: Any, fill: Any, dtype: Any, device: Any, requires_grad: bool) -> Tensor:
    """A tensor shaped like ``t`` on its device with its dtype unless told otherwise; ``fill(shape)`` makes the
    NumPy values (drawn on the CPU, so a seed gives the same numbers on every device)."""
    if not isinstance(t, Tensor):
        raise TypeError(f"expected a Tensor to take the shape of, got {type(t).__name__}")
    return _new(fill(t.shape), dtype if dtype is not None else t.dtype, device or t.device, requires_grad)


@public()
def zeros_like(t: Tensor, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """Zeros with the shape, device and (unless ``dtype`` is given) dtype of ``t`` (``torch.zeros_like``)."""
    return _like(t, np.zeros, dtype, device, requires_grad)


@public()
def ones_like(t: Tensor, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """Ones with the shape, device and (unless ``dtype`` is given) dtype of ``t`` (``torch.ones_like``)."""
    return _like(t, np.ones, dtype, device, requires_grad)


@public()
def empty_like(t: Tensor, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """A tensor of unspecified values (zeros, see :func:`empty`) shaped like ``t`` (``torch.empty_like``)."""
    return _like(t, np.zeros, dtype, device, requires_grad)


@public()
def full_like(t: Tensor, fill_value: float, dtype: Any = None, device: Any = None,
              requires_grad: bool = False) -> Tensor:
    """``fill_value`` everywhere, shaped like ``t`` (``torch.full_like``)."""
    return _like(t, lambda shape: np.full(shape, fill_value), dtype, device, requires_grad)


@public()
def rand_like(t: Tensor, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """Uniform draws on ``[0, 1)`` shaped like ``t`` (``torch.rand_like``)."""
    return _like(t, lambda shape: default_generator().random(shape), dtype, device, requires_grad)


@public()
def randn_like(t: Tensor, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """Standard normal draws shaped like ``t`` (``torch.randn_like``)."""
    return _like(t, lambda shape: default_generator().standard_normal(shape), dtype, device, requires_grad)


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


@public()
def randint(low: int, high: int | None = None, size: Any = None, dtype: Any = None, device: Any = None) -> Tensor:
    """Integers drawn uniformly from ``[low, high)`` (``torch.randint``): ``randint(high, size)`` or
    ``randint(low, high, size)``; int64 unless ``dtype`` says otherwise."""
    if size is None and high is not None and not isinstance(high, int | np.integer):
        low, high, size = 0, low, high  # randint(high, size)
    if size is None or high is None:
        raise TypeError("randint: expected randint(high, size) or randint(low, high, size), with size a tuple")
    shape = (size,) if isinstance(size, int | np.integer) else tuple(size)
    if high <= low:
        raise ValueError(f"randint: expected low < high, got low={low}, high={high}")
    return _new(default_generator().integers(low, high, shape), dtype or np.int64, device, False)


@public()
def randint_like(t: Tensor, low: int, high: int | None = None, dtype: Any = None, device: Any = None) -> Tensor:
    """Integers from ``[low, high)`` (or ``[0, low)`` when ``high`` is omitted) shaped like ``t``."""
    if high is None:
        low, high = 0, low
    return _like(t, lambda shape: default_generator().integers(low, high, shape), dtype, device, False)


@public()
def linspace(start: float, end: float, steps: int, dtype: Any = None, device: Any = None,
             requires_grad: bool = False) -> Tensor:
    """``steps`` evenly spaced values from ``start`` to ``end``, both included (``torch.linspace``)."""
    if int(steps) < 0:
        raise ValueError(f"linspace: steps must be non-negative, got {steps}")
    return _new(np.linspace(start, end, int(steps)), dtype, device, requires_grad)


@public()
def as_tensor(data: Any, dtype: Any = None, device: Any = None) -> Tensor:
    """A Tensor sharing ``data``'s memory when it can (a Tensor or array of the asked dtype and device), a copy
    otherwise (``torch.as_tensor``)."""
    if isinstance(data, Tensor):
        if (dtype is None or np.dtype(dtype) == data.dtype) and (device is None or device == data.device):
            return data
        data = data.data
    return Tensor(data, dtype=dtype, device=device)


@public()
def from_numpy(array: np.ndarray) -> Tensor:
    """A CPU Tensor that shares memory with the NumPy ``array`` (``torch.from_numpy``): writing to one changes
    the other, and the dtype (float64 included) is kept."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy: expected a numpy.ndarray, got {type(array).__name__}")
    return Tensor(array)
