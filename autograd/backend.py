"""Which array library holds a tensor's data: NumPy on the CPU, CuPy on a GPU.

Decided per array, like Chainer's ``get_array_module``: there is no global switch read at import time, and
``import tapegrad`` never imports CuPy unless a GPU array or device is asked for.

With ``TAPEGRAD_EMULATE_CUDA=1`` in the environment (the test run sets it) the device ``'cuda'`` is an emulated
CuPy built on NumPy (:mod:`tapegrad.autograd.emulated_cupy`), strict where CuPy is strict, so the GPU code path
runs in CI without a GPU.  It is imported only then; a user never needs it.
"""

from __future__ import annotations

import os
import sys
from types import ModuleType
from typing import Any

import numpy as np

EMULATE_ENV = "TAPEGRAD_EMULATE_CUDA"

_default_device = "cpu"
_cupy: ModuleType | None = None
_cupyx: ModuleType | None = None
_cupy_checked = False


def emulated() -> bool:
    """Whether ``'cuda'`` means the emulated CuPy (``TAPEGRAD_EMULATE_CUDA=1``), read when CuPy is first asked for."""
    return os.environ.get(EMULATE_ENV) == "1"


def cupy_module() -> ModuleType | None:
    """CuPy if it is installed and sees a GPU (or the emulated CuPy when asked for), else None; looked up once."""
    global _cupy, _cupyx, _cupy_checked
    if not _cupy_checked:
        _cupy_checked = True
        if emulated():
            from .emulated_cupy import cupy, cupyx

            _cupy, _cupyx = cupy, cupyx
            return _cupy
        try:
            import cupy

            cupy.cuda.runtime.getDeviceCount()
            _cupy = cupy
        except Exception:  # not installed, or no usable GPU/driver
            _cupy = None
    return _cupy


def cupyx_module() -> ModuleType:
    """``cupyx`` (scatter_add...) of the GPU backend in use."""
    if _cupyx is None:
        import cupyx

        return cupyx
    return _cupyx


def gpu_available() -> bool:
    """Whether CuPy is installed and sees a GPU, so that ``device='cuda'`` works (``torch.cuda.is_available``).

    True on the emulated device too (``TAPEGRAD_EMULATE_CUDA=1``): there, ``'cuda'`` works.
    """
    return cupy_module() is not None


def _gpu() -> Any:
    """The GPU module whose arrays are device arrays, without importing CuPy when it was never imported."""
    return _cupy if _cupy is not None else sys.modules.get("cupy")


def is_gpu_array(array: Any) -> bool:
    """True for a CuPy (or emulated CuPy) array."""
    gpu = _gpu()
    return gpu is not None and isinstance(array, gpu.ndarray)


def array_module(*arrays: Any) -> ModuleType:
    """NumPy, or CuPy when any argument is a CuPy array."""
    gpu = _gpu()
    if gpu is None:  # the common case, and the cheapest test: no GPU module was ever loaded
        return np
    for array in arrays:
        if isinstance(array, gpu.ndarray):
            return gpu
    return np


def device_of(array: Any) -> str:
    """``'cuda'`` for a CuPy array, ``'cpu'`` for anything else."""
    return "cuda" if is_gpu_array(array) else "cpu"


def normalize_device(device: Any) -> str:
    """Accept 'cpu', 'cuda', 'cuda:0', 'gpu' (and None for cpu); return 'cpu' or 'cuda'."""
    if device is None:
        return "cpu"
    name = str(device).lower()
    if name == "cpu":
        return "cpu"
    if name in ("cuda", "gpu") or name.startswith("cuda:"):
        return "cuda"
    raise ValueError(f"unknown device {device!r}: expected 'cpu' or 'cuda'")


def set_default_device(device: Any) -> None:
    """Where ``Tensor(host_data)`` and the creation functions put new tensors (``torch.set_default_device``).

    ``set_default_device('cuda')`` makes ``Tensor(numpy_array)``, ``zeros(...)``, ``randn(...)`` and the
    parameters of new modules live on the GPU; an op's output stays with its inputs whatever the default.
    """
    global _default_device
    device = normalize_device(device)
    if device != "cpu" and cupy_module() is None:
        to_device(np.zeros(0), device)  # raises the error that says how to get a GPU
    _default_device = device


def get_default_device() -> str:
    """``'cpu'`` unless :func:`set_default_device` said otherwise (``torch.get_default_device``)."""
    return _default_device


def to_device(array: Any, device: str) -> Any:
    """Move an array to 'cpu' (NumPy) or 'cuda' (CuPy); a no-op when it is already there."""
    device = normalize_device(device)
    if device == "cpu":
        return array.get() if is_gpu_array(array) else array
    cupy = cupy_module()
    if cupy is None:
        raise RuntimeError(
            "device 'cuda' was asked for, but CuPy is not installed or sees no GPU "
            "(install it with `pip install tapegrad[gpu]`)"
        )
    return cupy.asarray(array)
