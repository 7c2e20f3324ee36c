"""The emulated ``cupy`` module: what ``array_module(x)`` returns for an emulated device array.

A name resolves only if the real ``cupy`` has it (cupy_names.txt); NumPy's function of that name then runs on
the arrays behind the device arrays.  Uploads (``asarray``/``array`` of host data) and downloads (``asnumpy``)
are counted in :mod:`.transfers`.  Public names here are all real CuPy names (tests/autograd check it).
"""

from __future__ import annotations

import types as _types
from typing import Any as _Any

import numpy as _np

from . import kernels as _kernels
from .names import public_names as _public_names
from .ndarray import _Device, ndarray
from .ndarray import unwrap as _unwrap
from .ndarray import wrap as _wrap
from .ndarray import wrap_function as _wrap_function
from .transfers import counter as _counter

__all__ = ["ndarray"]
__version__ = "14.2.0"  # the version cupy_names.txt was taken from
ElementwiseKernel = _kernels.ElementwiseKernel
fuse = _kernels.fuse
_UFUNC_METHODS = ("reduce", "accumulate", "reduceat", "outer", "at")


def _upload(a: _Any, dtype: _Any = None, copy: bool | None = None, order: _Any = None, **kwargs: _Any) -> ndarray:
    if isinstance(a, ndarray):
        data = a._a.astype(dtype, copy=bool(copy)) if dtype is not None else (a._a.copy() if copy else a._a)
        return ndarray._of(data)
    if isinstance(a, (list, tuple)) and any(isinstance(v, ndarray) for v in a):
        return ndarray._of(_np.array(_unwrap(a), dtype=dtype))
    _counter.device("asarray")
    return ndarray._of(_np.array(a, dtype=dtype, order=order or "K", copy=True))


def asarray(a: _Any, dtype: _Any = None, order: _Any = None, *, blocking: bool = False) -> ndarray:
    """``cupy.asarray``: a device array; host data is copied to the device (one counted upload)."""
    return _upload(a, dtype, copy=False, order=order)


def array(obj: _Any, dtype: _Any = None, copy: bool = True, order: str = "K", **kwargs: _Any) -> ndarray:
    """``cupy.array``: always a new device array (host data: one counted upload)."""
    return _upload(obj, dtype, copy=copy, order=order)


ascontiguousarray = asanyarray = asarray


def asnumpy(a: _Any, stream: _Any = None, order: str = "C", out: _Any = None, blocking: bool = True) -> _np.ndarray:
    """``cupy.asnumpy``: a device array copied to the host (counted); host data is returned as is."""
    if isinstance(a, ndarray):
        return a.get(order=order, out=out)
    return _np.asarray(a, order=order)


def get_array_module(*args: _Any) -> _types.ModuleType:
    """This module when any argument is an (emulated) device array, else NumPy."""
    import sys

    return sys.modules[__name__] if any(isinstance(a, ndarray) for a in args) else _np


class ufunc:  # noqa: N801 - CuPy's name
    """A CuPy ufunc: NumPy's, with its methods (``reduce``, ``at``...) on device arrays."""

    def __init__(self, np_ufunc: _np.ufunc) -> None:
        self._ufunc = np_ufunc
        self.__name__ = self.name = np_ufunc.__name__
        self.nin, self.nout, self.nargs = np_ufunc.nin, np_ufunc.nout, np_ufunc.nargs
        self._call = _wrap_function(np_ufunc, self.name)

    def __call__(self, *args: _Any, **kwargs: _Any) -> _Any:
        return self._call(*args, **kwargs)

    def __getattr__(self, name: str) -> _Any:
        if name in _UFUNC_METHODS and name in _public_names("cupy.ufunc"):
            return _wrap_function(getattr(self._ufunc, name), f"{self.name}.{name}")
        raise AttributeError(f"'cupy.ufunc' object has no attribute {name!r}")

    def __repr__(self) -> str:
        return f"<ufunc '{self.name}'>"


class _Namespace(_types.ModuleType):
    """A submodule (``cupy.random``, ``cupy.linalg``...): NumPy's of the same name, limited to CuPy's names."""

    def __init__(self, space: str, numpy_module: _Any) -> None:
        super().__init__(space)
        self._space, self._numpy = space, numpy_module

    def __getattr__(self, name: str) -> _Any:
        return _resolve(self._space, self._numpy, name)


def _resolve(space: str, numpy_module: _Any, name: str) -> _Any:
    if name.startswith("_") or name not in _public_names(space):
        raise AttributeError(f"module {space!r} has no attribute {name!r}")
    value = getattr(numpy_module, name, None)
    if value is None:
        raise AttributeError(f"emulated {space} does not implement {name!r} yet (real CuPy has it)")
    if isinstance(value, _np.ufunc):
        return ufunc(value)
    if isinstance(value, (type, _np.dtype, int, float, bool, str)) or value is _np.newaxis:
        return value  # dtypes (cupy.float32 is numpy.float32), constants
    if isinstance(value, _types.ModuleType):
        return _Namespace(f"{space}.{name}", value)
    if callable(value):
        return _wrap_function(value, name)
    return _wrap(value)


class _Runtime:
    @staticmethod
    def getDeviceCount() -> int:  # noqa: N802 - CUDA's name
        return 1


class _Stream:
    def synchronize(self) -> None:
        pass


class _Cuda(_types.ModuleType):
    """``cupy.cuda``: one device, synchronisation that returns at once."""

    Device = _Device
    runtime = _Runtime()
    Stream = _Stream

    def __init__(self) -> None:
        super().__init__("cupy.cuda")
        self.Stream.null = _Stream()

    @staticmethod
    def get_current_stream() -> _Stream:
        return _Stream.null

    @staticmethod
    def is_available() -> bool:
        return True


cuda = _Cuda()
random = _Namespace("cupy.random", _np.random)
linalg = _Namespace("cupy.linalg", _np.linalg)
fft = _Namespace("cupy.fft", _np.fft)


def is_available() -> bool:
    """The emulated GPU is always there."""
    return True


def __getattr__(name: str) -> _Any:  # module attribute fallback: any other real CuPy name
    value = _resolve("cupy", _np, name)
    globals()[name] = value  # resolved once
    return value
