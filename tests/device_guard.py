"""A guard on the compiled (Numba) kernels: none may receive a device array.

The dispatcher (autograd/kernels/_dispatch.py) picks the NumPy reference when a leading array argument is not a
NumPy array, but a device array in a later argument (an index, a mask, an output buffer) would still reach
compiled CPU code.  Installed by tests/conftest.py whenever the emulated device is on, so every device test of
both passes checks every compiled call; tests/autograd/kernels/test_device_arrays.py shows it is live.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

calls: dict[str, int] = {}


def _device_argument(value: Any, is_gpu_array: Callable[[Any], bool]) -> bool:
    if is_gpu_array(value):
        return True
    if isinstance(value, (list, tuple)):
        return any(_device_argument(v, is_gpu_array) for v in value)
    if isinstance(value, dict):
        return any(_device_argument(v, is_gpu_array) for v in value.values())
    return hasattr(value, "data") and type(value).__name__ in ("Tensor", "Parameter") and is_gpu_array(value.data)


def _guarded(name: str, compiled: Callable[..., Any]) -> Callable[..., Any]:
    from tapegrad.autograd.backend import is_gpu_array

    def guarded(*args: Any, **kwargs: Any) -> Any:
        calls[name] = calls.get(name, 0) + 1
        for where, value in [*enumerate(args), *kwargs.items()]:
            if _device_argument(value, is_gpu_array):
                raise AssertionError(f"compiled CPU kernel {name!r} received a device array (argument {where!r})")
        return compiled(*args, **kwargs)

    guarded.device_guard = True  # type: ignore[attr-defined]
    guarded.__wrapped__ = compiled  # type: ignore[attr-defined]
    return guarded


def install() -> None:
    """Wrap the ``compiled`` twin of every registered kernel (once)."""
    from tapegrad.autograd.kernels import REGISTRY

    for name, kernel in REGISTRY.items():
        if not getattr(kernel.compiled, "device_guard", False):
            kernel.compiled = _guarded(name, kernel.compiled)
