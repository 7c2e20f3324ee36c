"""Row-wise log-softmax and the fused log-softmax + cross-entropy forward over (M, C) logits.

The max is shifted out first (logits of +-1e4 give the exact finite loss).  The compiled versions make one
read of each row for the max, one for the sum of exponentials and one write, instead of NumPy's five
whole-array passes.  exp/log may differ from NumPy's SIMD versions in the last bit (tests use tolerances).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._compile import jit
from ._dispatch import kernel

prange = range  # numba.prange once compiled (see _compile.jit)


def log_softmax_numpy(rows: Any) -> Any:
    """(M, C) -> (M, C) log-softmax along the last axis."""
    from ..backend import array_module

    xp = array_module(rows)
    shifted = rows - rows.max(axis=1, keepdims=True)
    return shifted - xp.log(xp.exp(shifted).sum(axis=1, keepdims=True))


def cross_entropy_numpy(rows: Any, a: Any) -> tuple[Any, Any]:
    """Per-row losses -sum(a * log_softmax(rows)) (M,) and the softmax (M, C) the backward needs.

    A coefficient of 0 contributes 0 even against a log-probability of -inf (a class masked out with a -inf
    logit): PyTorch gathers the target entries and gets the finite loss, where 0 * -inf would give NaN.
    """
    from ..backend import array_module

    xp = array_module(rows)
    shifted = rows - rows.max(axis=1, keepdims=True)
    exp = xp.exp(shifted)
    total = exp.sum(axis=1, keepdims=True)
    logp = shifted - xp.log(total)
    return -xp.where(a != 0, a * logp, 0).sum(axis=1), exp / total


@jit(fastmath=False)
def _log_softmax(rows, out):  # noqa: ANN001, ANN202 - Numba
    m, c = rows.shape
    for r in prange(m):
        top = rows[r, 0]
        for k in range(1, c):
            if rows[r, k] > top or rows[r, k] != rows[r, k]:
                top = rows[r, k]
        total = 0.0  # float64 accumulator (the NumPy sum is pairwise: both within rounding)
        for k in range(c):
            total += np.exp(rows[r, k] - top)
        log_total = np.log(total)
        for k in range(c):
            out[r, k] = (rows[r, k] - top) - log_total


@jit(fastmath=False)
def _cross_entropy(rows, a, losses, prob):  # noqa: ANN001, ANN202 - Numba
    m, c = rows.shape
    for r in prange(m):
        top = rows[r, 0]
        for k in range(1, c):
            if rows[r, k] > top or rows[r, k] != rows[r, k]:
                top = rows[r, k]
        total = 0.0  # float64 accumulator (the NumPy sum is pairwise: both within rounding)
        for k in range(c):
            e = np.exp(rows[r, k] - top)
            prob[r, k] = e
            total += e
        log_total = np.log(total)
        loss = 0.0
        for k in range(c):
            if a[r, k] != 0:  # 0 * -inf (a masked class) contributes 0, as in the reference
                loss -= a[r, k] * ((rows[r, k] - top) - log_total)
            prob[r, k] = prob[r, k] / total
        losses[r] = loss


def log_softmax_compiled(rows: Any) -> Any:
    out = np.empty(rows.shape, dtype=rows.dtype)
    if rows.size:
        _log_softmax(rows, out)
    return out


def cross_entropy_compiled(rows: Any, a: Any) -> tuple[Any, Any]:
    if a.dtype != rows.dtype or rows.size == 0:
        return cross_entropy_numpy(rows, a)
    losses = np.empty(rows.shape[0], dtype=rows.dtype)
    prob = np.empty(rows.shape, dtype=rows.dtype)
    _cross_entropy(rows, a, losses, prob)
    return losses, prob


log_softmax = kernel("log_softmax", log_softmax_numpy, log_softmax_compiled)
cross_entropy = kernel("cross_entropy", cross_entropy_numpy, cross_entropy_compiled, arrays=2)
