"""Shared helpers of the case modules: data on a device, tensors of each framework, synchronisation."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np


def rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


def randn(gen: np.random.Generator, *shape: int, scale: float = 1.0) -> np.ndarray:
    return (gen.standard_normal(shape, dtype=np.float32) * np.float32(scale)).astype(np.float32)


def tg(array: np.ndarray, device: str, requires_grad: bool = False) -> Any:
    from tapegrad.autograd import Tensor

    return Tensor(array.copy(), requires_grad=requires_grad, device=None if device == "cpu" else device)


def th(array: np.ndarray, device: str, requires_grad: bool = False) -> Any:
    import torch

    return torch.tensor(array, device=device).requires_grad_(requires_grad)


def to_numpy(value: Any) -> np.ndarray:
    """A NumPy copy of a tapegrad/torch/MyGrad tensor or a (CuPy) array."""
    if hasattr(value, "detach"):  # torch
        return value.detach().cpu().numpy()
    if hasattr(value, "numpy"):  # tapegrad Tensor
        return np.asarray(value.numpy())
    if hasattr(value, "data") and not isinstance(value, np.ndarray):  # MyGrad
        return np.asarray(value.data)
    return np.asarray(value.get() if hasattr(value, "get") else value)


def sync_for(device: str) -> Callable[[], None]:
    """Wait for queued GPU work (CuPy's and torch's streams); nothing to do on the CPU."""
    if device == "cpu":
        return lambda: None
    import cupy
    import torch

    def sync() -> None:
        cupy.cuda.Device().synchronize()
        torch.cuda.synchronize()

    return sync


def cuda_unavailable() -> str | None:
    """Why ``--device cuda`` cannot run here, or None when CuPy and torch both see a GPU."""
    try:
        import cupy

        cupy.cuda.runtime.getDeviceCount()
    except Exception as exc:  # not installed, no driver, no device
        return f"CuPy unavailable ({type(exc).__name__}: {exc})"
    import torch

    if not torch.cuda.is_available():
        return "torch was built without CUDA or sees no GPU"
    return None


def close(name: str, ours: Any, reference: Any, rtol: float = 2e-3, atol_scale: float = 1e-4) -> str | None:
    """A one-line complaint when two results differ (the benchmark checks every side computes the same)."""
    a, b = to_numpy(ours), to_numpy(reference)
    if a.shape != b.shape:
        return f"{name}: shape {a.shape} != {b.shape}"
    atol = atol_scale * float(np.abs(b).max() or 1.0)
    if not np.allclose(a, b, rtol=rtol, atol=atol):
        worst = float(np.abs(a - b).max())
        return f"{name}: max |diff| {worst:.3g} (atol {atol:.3g})"
    return None
