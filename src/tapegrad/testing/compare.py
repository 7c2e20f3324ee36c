"""Two-sided, relative comparison of an op's result with its reference, and the record of a disagreement.

The absolute part of the tolerance is scaled by the reference's largest magnitude (no floor of 1): an outside
port of an older framework's suite let a 1 % pooling-gradient error pass because its absolute tolerance (1e-4)
was larger than the gradients themselves (~2e-5).  Here a gradient of 2e-5 is compared to ~1e-9 in float32.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

# Central differences in float64 (step 1e-6) agree with the exact derivative to ~1e-9 relative; a wrong
# gradient (1 % off, a dropped term) is far outside these.
NUMERIC_TOLERANCE = (1e-6, 1e-7)


@dataclass
class Mismatch(Exception):
    """One disagreement: what (forward, gradient, second-order gradient, dtype, mutation, graph), where, how much."""

    kind: str
    where: str
    detail: str = ""
    max_abs: float | None = None
    max_rel: float | None = None
    tolerance: str = ""
    ours: Any = None
    reference: Any = None

    def __str__(self) -> str:
        return f"{self.kind} of {self.where}: {self.detail}"


def to_numpy(x: Any) -> np.ndarray | None:
    """A NumPy copy of a tapegrad Tensor, torch tensor, CuPy or NumPy array (None stays None)."""
    if x is None:
        return None
    if type(x).__module__.startswith("torch"):
        return x.detach().cpu().numpy(force=True)
    data = getattr(x, "data", x)
    if hasattr(data, "get") and not isinstance(data, np.ndarray):  # CuPy
        data = data.get()
    return np.asarray(data)


def compare(ours: Any, reference: Any, rtol: float, atol: float, kind: str, where: str) -> None:
    """Raise :class:`Mismatch` unless ``|ours - ref| <= atol * max|ref| + rtol * |ref|`` everywhere.

    NaN must sit where the reference has NaN, infinities must match exactly; integers must be equal.
    """
    a, b = to_numpy(ours), to_numpy(reference)
    if a.shape != b.shape:
        raise Mismatch(kind, where, f"shape {a.shape}, reference shape {b.shape}")
    if a.dtype.kind not in "fc" or b.dtype.kind not in "fc":
        if not np.array_equal(a, b):
            raise Mismatch(kind, where, "integer values differ", ours=a, reference=b, tolerance="exact")
        return
    a64, b64 = a.astype(np.float64), b.astype(np.float64)
    nan_a, nan_b = np.isnan(a64), np.isnan(b64)
    if not np.array_equal(nan_a, nan_b):
        raise Mismatch(kind, where, "NaN where the reference has none (or the other way)", ours=a, reference=b)
    inf_b = np.isinf(b64)
    if not np.array_equal(np.where(inf_b, a64, 0), np.where(inf_b, b64, 0)) or np.any(np.isinf(a64) & ~inf_b):
        raise Mismatch(kind, where, "infinities differ", ours=a, reference=b)
    finite = ~(nan_b | inf_b)
    if not finite.any():
        return
    diff = np.abs(a64 - b64)[finite]
    ref = np.abs(b64)[finite]
    scale = float(ref.max()) or 1.0
    allowed = atol * scale + rtol * ref
    bad = diff > allowed
    if bad.any():
        rel = diff / np.maximum(ref, np.finfo(np.float64).tiny)
        worst = int(np.argmax(diff - allowed))
        index = tuple(int(i) for i in np.argwhere(finite)[worst])
        raise Mismatch(
            kind, where,
            f"{int(bad.sum())} of {diff.size} elements differ; worst at {index}: "
            f"ours {float(a64[index])!r}, reference {float(b64[index])!r}",
            max_abs=float(diff.max()), max_rel=float(rel.max()),
            tolerance=f"|ours - ref| <= {atol:g} * max|ref| ({scale:.3g}) + {rtol:g} * |ref|",
            ours=a, reference=b,
        )
