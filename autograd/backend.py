"""Which array library holds a tensor's data: NumPy on the CPU, CuPy on a GPU.

Decided per array, like Chainer's ``get_array_module``: there is no global switch read at import time, and
``import tapegrad`` never imports CuPy unless a GPU array or device is asked for.
"""

from __future__ import annotations

import sys
from types import ModuleType
from typing import Any

import numpy as np

_cupy: ModuleType | None = None
_cupy_checked = False


def cupy_module() -> ModuleType | None:
    """CuPy if it is installed and sees a GPU, else None (imported lazily, once)."""
    global _cupy, _cupy_checked
    if not _cupy_checked:
        _cupy_checked = True
        try:
            import cupy

            cupy.cuda.runtime.getDeviceCount()
            _cupy = cupy
        except Exception:  # not installed, or no usable GPU/driver
            _cupy = None
    return _cupy


def gpu_available() -> bool:
    """Whether CuPy is installed and sees a GPU, so that ``device='cuda'`` works (``torch.cuda.is_available``)."""
    return cupy_module() is not None


def is_gpu_array(array: Any) -> bool:
    """True for a CuPy array, without importing CuPy when it was never imported."""
    cupy = sys.modules.get("cupy")
    return cupy is not None and isinstance(array, cupy.ndarray)


def array_module(*arrays: Any) -> ModuleType:
    """NumPy, or CuPy when any argument is a CuPy array."""
    if "cupy" not in sys.modules:  # the common case, and the cheapest test: CuPy was never imported
        return np
    for array in arrays:
        if is_gpu_array(array):
            return sys.modules["cupy"]
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
