"""Central finite differences in float64: the reference when an op has no torch twin (``reference="numeric"``).

Everything is a directional derivative of a scalar, so each check costs two evaluations per input element:
first order ``d<v, f(x)>/dx``; second order ``d<w, g(x, v)>/dx`` (``g`` the tape's first-order gradient) and
``d<w, g>/dv = J w``, itself the directional derivative of ``f`` along ``w``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

EPS = 1e-6


def partials(
    scalar: Callable[[list[np.ndarray]], float], xs: list[np.ndarray], wanted: Sequence[int]
) -> list[np.ndarray]:
    """d scalar / d xs[i] for each i in ``wanted``, by central differences (xs are float64, restored after)."""
    out = []
    for i in wanted:
        x = xs[i]
        g = np.zeros_like(x, dtype=np.float64)
        flat, gflat = x.reshape(-1), g.reshape(-1)
        for j in range(flat.size):
            keep = flat[j]
            flat[j] = keep + EPS
            up = scalar(xs)
            flat[j] = keep - EPS
            down = scalar(xs)
            flat[j] = keep
            gflat[j] = (up - down) / (2 * EPS)
        out.append(g)
    return out


def along(
    fn: Callable[[list[np.ndarray]], list[np.ndarray]], xs: list[np.ndarray], directions: dict[int, np.ndarray]
) -> list[np.ndarray]:
    """The directional derivative of every output of ``fn`` at ``xs`` along ``directions`` (input -> array)."""

    def shifted(sign: float) -> list[np.ndarray]:
        moved = [x if i not in directions else x + sign * EPS * directions[i] for i, x in enumerate(xs)]
        return fn(moved)

    up, down = shifted(1.0), shifted(-1.0)
    return [(u - d) / (2 * EPS) for u, d in zip(up, down, strict=True)]


def dot(values: Sequence[Any], weights: Sequence[Any]) -> float:
    return float(sum(np.sum(np.asarray(a, dtype=np.float64) * w) for a, w in zip(values, weights, strict=True)
                     if a is not None and w is not None))
