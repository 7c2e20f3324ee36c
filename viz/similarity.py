"""Similarity of two maps in NumPy only: Spearman rank correlation and SSIM (no SciPy / scikit-image at
runtime)."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view


def rank(values: Any) -> np.ndarray:
    """Ranks 1..n of a flat array, ties sharing their mean rank (as ``scipy.stats.rankdata``)."""
    a = np.asarray(values, dtype=np.float64).ravel()
    order = np.argsort(a, kind="mergesort")
    ranks = np.empty(a.size)
    ranks[order] = np.arange(1, a.size + 1)
    _, inverse, counts = np.unique(a, return_inverse=True, return_counts=True)
    sums = np.bincount(inverse.ravel(), weights=ranks)
    return sums[inverse.ravel()] / counts[inverse.ravel()]


def spearman(a: Any, b: Any) -> float:
    """Spearman's rank correlation in [-1, 1]: the Pearson correlation of the ranks.

    A constant map has no ranking: the correlation is 1 when both are constant and 0 otherwise.
    """
    ra, rb = rank(a), rank(b)
    if ra.size != rb.size:
        raise ValueError(f"spearman: maps of different sizes {np.asarray(a).shape} and {np.asarray(b).shape}")
    da, db = ra - ra.mean(), rb - rb.mean()
    na, nb = np.sqrt((da * da).sum()), np.sqrt((db * db).sum())
    if na == 0 or nb == 0:
        return 1.0 if na == nb else 0.0
    return float(np.clip((da * db).sum() / (na * nb), -1.0, 1.0))


def _window(size: int, sigma: float | None) -> np.ndarray:
    if sigma is None:
        return np.full(size, 1.0 / size)
    x = np.arange(size) - (size - 1) / 2
    w = np.exp(-(x * x) / (2 * sigma * sigma))
    return w / w.sum()


def _filter(image: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """Separable 'valid' filtering of a 2-D image with a 1-D kernel along both axes."""
    rows = sliding_window_view(image, kernel.size, axis=0) @ kernel
    return sliding_window_view(rows, kernel.size, axis=1) @ kernel


def ssim(
    a: Any,
    b: Any,
    data_range: float | None = None,
    window: int = 7,
    sigma: float | None = 1.5,
    k1: float = 0.01,
    k2: float = 0.03,
) -> float:
    """Structural similarity (Wang et al., 2004) of two 2-D maps, the mean over local windows.

    Gaussian window (``sigma``; ``None`` for a uniform one) of ``window`` pixels, shrunk to fit small maps.
    ``data_range`` defaults to the spread of both maps together.  In [-1, 1]; 1 for identical maps.
    """
    x, y = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if x.shape != y.shape or x.ndim != 2:
        raise ValueError(f"ssim: expected two 2-D maps of one shape, got {x.shape} and {y.shape}")
    if data_range is None:
        data_range = float(max(x.max(), y.max()) - min(x.min(), y.min())) or 1.0
    size = min(window, *x.shape)
    kernel = _window(size, sigma)
    c1, c2 = (k1 * data_range) ** 2, (k2 * data_range) ** 2
    mx, my = _filter(x, kernel), _filter(y, kernel)
    vx = _filter(x * x, kernel) - mx * mx
    vy = _filter(y * y, kernel) - my * my
    cxy = _filter(x * y, kernel) - mx * my
    s = ((2 * mx * my + c1) * (2 * cxy + c2)) / ((mx * mx + my * my + c1) * (vx + vy + c2))
    return float(np.clip(s.mean(), -1.0, 1.0))
