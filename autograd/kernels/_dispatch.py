"""One dispatcher: each kernel is a NumPy reference and a compiled twin; the arrays choose which runs.

The compiled twin runs only when the kernel set is ``"compiled"`` (``TAPEGRAD_KERNELS``, default compiled when
Numba imports; :func:`set_kernels` at run time), Numba imports, every array argument is a NumPy array of a
dtype the twin was written for (float32/float64), and no argument is a CuPy array (the GPU path keeps its
array-module code).  Callers never branch on Numba: they call the kernel.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import numpy as np

from . import _compile

KERNEL_SETS = ("numpy", "compiled")
_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))


def _initial() -> str:
    value = os.environ.get("TAPEGRAD_KERNELS", "compiled").strip().lower() or "compiled"
    if value not in KERNEL_SETS:
        raise ValueError(f"TAPEGRAD_KERNELS must be one of {KERNEL_SETS}, got {value!r}")
    return value


_mode = _initial()


def set_kernels(name: str) -> str:
    """Choose the kernel set, ``"numpy"`` or ``"compiled"``; returns the previous one.

    ``"compiled"`` without Numba warns once and runs the NumPy kernels.
    """
    global _mode
    name = str(name).strip().lower()
    if name not in KERNEL_SETS:
        raise ValueError(f"set_kernels: expected one of {KERNEL_SETS}, got {name!r}")
    previous, _mode = _mode, name
    return previous


def get_kernels() -> str:
    """The kernel set that runs now: ``"compiled"`` only when it was asked for and Numba imports."""
    if _mode == "compiled" and _compile.numba_module() is not None:
        return "compiled"
    return "numpy"


def _compilable(arrays: tuple[Any, ...]) -> bool:
    for a in arrays:
        if type(a) is not np.ndarray or a.dtype not in _FLOATS:
            return False
    return True


class Kernel:
    """A named kernel: ``reference`` (NumPy, also the oracle of the tests) and ``compiled`` (Numba).

    ``arrays``: how many leading arguments are the float arrays that decide the choice.
    """

    def __init__(self, name: str, reference: Callable[..., Any], compiled: Callable[..., Any], arrays: int) -> None:
        self.name, self.reference, self.compiled, self.arrays = name, reference, compiled, arrays
        self.__doc__ = reference.__doc__

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.choose(*args[: self.arrays])(*args, **kwargs)

    def choose(self, *arrays: Any) -> Callable[..., Any]:
        if _mode == "compiled" and _compilable(arrays) and _compile.numba_module() is not None:
            return self.compiled
        return self.reference

    def compiled_for(self, *arrays: Any) -> bool:
        """Whether the compiled twin would run on these arrays: for a caller whose choice of algorithm pays
        only compiled (the direct 3x3 convolution is slower than columns as NumPy loops, and on a GPU)."""
        return self.choose(*arrays) is self.compiled

    def __repr__(self) -> str:
        return f"<tapegrad kernel {self.name}>"


REGISTRY: dict[str, Kernel] = {}


def kernel(name: str, reference: Callable[..., Any], compiled: Callable[..., Any], arrays: int = 1) -> Kernel:
    """Register a kernel pair under ``name`` (tests walk ``REGISTRY`` so that none goes untested)."""
    if name in REGISTRY:
        raise ValueError(f"kernel {name!r} is registered twice")
    REGISTRY[name] = k = Kernel(name, reference, compiled, arrays)
    return k
