"""One drawn example of an op's inputs, and how it is printed: small arrays in full, big ones summarised."""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from typing import Any

import numpy as np

SMALL = 24  # arrays with at most this many elements are printed in full in reports


@dataclass
class Case:
    """Inputs of one check: arrays (None for an absent optional tensor), which are differentiated, options.

    ``seed`` picks the random upstream gradients (shrunk to 0 first by Hypothesis, so reports use small seeds).
    """

    arrays: tuple[np.ndarray | None, ...]
    grads: tuple[bool, ...]
    kwargs: dict[str, Any] = field(default_factory=dict)
    dtype: str = "float64"
    seed: int = 0

    def __repr__(self) -> str:
        parts = ", ".join(summary(a) for a in self.arrays)
        return f"Case([{parts}], grads={self.grads}, kwargs={self.kwargs!r}, dtype={self.dtype!r}, seed={self.seed})"


def summary(a: np.ndarray | None) -> str:
    """A small array as its values, a big one as shape, dtype and range."""
    if a is None:
        return "None"
    if a.size <= SMALL:
        return literal(a)
    if a.dtype.kind in "iub":
        return f"<{a.dtype} array {a.shape}, values {a.min()}..{a.max()}>"
    return f"<{a.dtype} array {a.shape}, min {a.min():.4g}, max {a.max():.4g}, mean {a.mean():.4g}>"


def literal(a: np.ndarray | None) -> str:
    """Python source that rebuilds ``a`` exactly: a list literal when small, base64 bytes when big."""
    if a is None:
        return "None"
    if a.size <= SMALL:
        digits = {4: 9, 8: 17}.get(a.dtype.itemsize, 17) if a.dtype.kind == "f" else None
        body = np.array2string(
            a, separator=", ", threshold=SMALL + 1, precision=digits, floatmode="unique", max_line_width=10**6
        )
        return f"np.array({' '.join(body.split())}, dtype=np.{a.dtype.name})"
    payload = base64.b64encode(np.ascontiguousarray(a).tobytes()).decode("ascii")
    return f'np.frombuffer(base64.b64decode("{payload}"), dtype=np.{a.dtype.name}).reshape({a.shape})'
