"""The original Tinyml approach, written here as the reference point: fancy-index im2col and ``np.add.at``.

Columns are gathered with one advanced index (the textbook (C*k*k, N*Ho*Wo) layout) and the input gradient is
scattered back with ``np.add.at``; max pooling takes the argmax of the same columns.  This is plain NumPy with
hand-written backward passes (no tape at all), so it measures the *array* strategy, not an autodiff framework.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def _indices(c: int, h: int, w: int, k: int, stride: int, padding: int) -> tuple[Any, Any, Any, int, int]:
    ho = (h + 2 * padding - k) // stride + 1
    wo = (w + 2 * padding - k) // stride + 1
    i0 = np.tile(np.repeat(np.arange(k), k), c)
    i1 = stride * np.repeat(np.arange(ho), wo)
    j0 = np.tile(np.arange(k), k * c)
    j1 = stride * np.tile(np.arange(wo), ho)
    i = i0.reshape(-1, 1) + i1.reshape(1, -1)
    j = j0.reshape(-1, 1) + j1.reshape(1, -1)
    ch = np.repeat(np.arange(c), k * k).reshape(-1, 1)
    return ch, i, j, ho, wo


class Conv:
    """Conv2d forward/backward the Tinyml way (square kernels, equal stride/padding on both axes)."""

    def __init__(self, x_shape: tuple[int, ...], k: int, stride: int, padding: int) -> None:
        n, c, h, w = x_shape
        self.shape, self.k, self.stride, self.padding = x_shape, k, stride, padding
        self.ch, self.i, self.j, self.ho, self.wo = _indices(c, h, w, k, stride, padding)

    def _cols(self, x: np.ndarray) -> np.ndarray:
        p = self.padding
        xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p))) if p else x
        cols = xp[:, self.ch, self.i, self.j]  # (N, C*k*k, Ho*Wo)
        return cols.transpose(1, 2, 0).reshape(cols.shape[1], -1)  # (C*k*k, Ho*Wo*N)

    def forward(self, x: np.ndarray, w: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        n = x.shape[0]
        cols = self._cols(x)
        out = w.reshape(w.shape[0], -1) @ cols + b.reshape(-1, 1)
        out = out.reshape(w.shape[0], self.ho, self.wo, n).transpose(3, 0, 1, 2)
        return out, cols

    def backward(self, g: np.ndarray, cols: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, ...]:
        n, c, h, wd = self.shape
        p = self.padding
        g2 = g.transpose(1, 2, 3, 0).reshape(w.shape[0], -1)
        db = g.sum(axis=(0, 2, 3))
        dw = (g2 @ cols.T).reshape(w.shape)
        dcols = (w.reshape(w.shape[0], -1).T @ g2).reshape(-1, self.ho * self.wo, n).transpose(2, 0, 1)
        dxp = np.zeros((n, c, h + 2 * p, wd + 2 * p), dtype=g.dtype)
        np.add.at(dxp, (slice(None), self.ch, self.i, self.j), dcols)
        dx = dxp[:, :, p:-p, p:-p] if p else dxp
        return dx, dw, db


class MaxPool:
    """Max pooling forward/backward the Tinyml way: argmax over gathered columns, ``np.add.at`` scatter."""

    def __init__(self, x_shape: tuple[int, ...], k: int, stride: int) -> None:
        n, c, h, w = x_shape
        self.shape, self.k = x_shape, k
        self.ch, self.i, self.j, self.ho, self.wo = _indices(1, h, w, k, stride, 0)

    def forward(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        n, c, h, w = x.shape
        cols = x.reshape(n * c, 1, h, w)[:, self.ch, self.i, self.j]  # (N*C, k*k, Ho*Wo)
        arg = cols.argmax(axis=1)
        out = np.take_along_axis(cols, arg[:, None, :], axis=1)[:, 0]
        return out.reshape(n, c, self.ho, self.wo), arg

    def backward(self, g: np.ndarray, arg: np.ndarray) -> np.ndarray:
        n, c, h, w = self.shape
        dcols = np.zeros((n * c, self.k * self.k, self.ho * self.wo), dtype=g.dtype)
        np.put_along_axis(dcols, arg[:, None, :], g.reshape(n * c, 1, -1), axis=1)
        dx = np.zeros((n * c, 1, h, w), dtype=g.dtype)
        np.add.at(dx, (slice(None), self.ch, self.i, self.j), dcols)
        return dx.reshape(n, c, h, w)
