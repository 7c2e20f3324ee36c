"""Helpers shared by the tests: tolerances per dtype, conversions to and from torch, comparisons."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from tapegrad.autograd import Tensor

# Two-sided tolerances per dtype: float32 results match a float64 reference to ~5e-7 relative, so these
# leave room for reordered sums while still catching a wrong formula.
TOLERANCES = {
    np.dtype(np.float32): {"rtol": 1e-4, "atol": 1e-5},
    np.dtype(np.float64): {"rtol": 1e-9, "atol": 1e-11},
}


def tol(dtype: Any) -> dict[str, float]:
    return TOLERANCES[np.dtype(dtype)]


def to_numpy(x: Any) -> np.ndarray:
    if isinstance(x, Tensor):
        return x.numpy()
    if isinstance(x, torch.Tensor):
        return x.detach().cpu().numpy()
    return np.asarray(x)


def assert_close(ours: Any, theirs: Any, dtype: Any = None, scale_atol: bool = True, **override: float) -> None:
    """``assert_allclose`` with the dtype's tolerances; atol is scaled by the reference's magnitude."""
    a, b = to_numpy(ours), to_numpy(theirs)
    assert a.shape == b.shape, f"shape {a.shape} != reference shape {b.shape}"
    kw = dict(tol(dtype if dtype is not None else b.dtype))
    if scale_atol and b.size:
        kw["atol"] *= max(1.0, float(np.max(np.abs(b))))
    kw.update(override)
    np.testing.assert_allclose(a, b, **kw)


def torch_leaf(array: np.ndarray, requires_grad: bool = True) -> torch.Tensor:
    return torch.tensor(np.array(array), requires_grad=requires_grad)


def ours_leaf(array: np.ndarray, requires_grad: bool = True, device: str = "cpu") -> Tensor:
    return Tensor(np.array(array), requires_grad=requires_grad, device=device)


def random_like(shape: tuple[int, ...], dtype: Any, seed: int = 0) -> np.ndarray:
    """A random upstream gradient (never all ones, which hides transposition and broadcasting bugs)."""
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)
