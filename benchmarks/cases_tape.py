"""Tape overhead: a chain of 10,000 small elementwise ops, forward+backward, microseconds per op.

The tensors have 16 elements, so the arithmetic is nothing and what is timed is the framework: recording a
node per op, then the engine's walk back.  "numpy" does the same chain on raw arrays with its backward written
by hand (no tape at all): tapegrad minus numpy is the tape's own cost per op.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .common import close, randn, rng, tg, th
from .harness import Case, Impl

OPS = 10_000
PER_STEP = 4  # y = tanh(y * a + b) * 0.5: a multiply, an add, a tanh and a scale
SIZE = 16


def make(device: str) -> dict[str, Impl]:
    gen = rng(4)
    x0 = randn(gen, SIZE)
    a0 = randn(gen, SIZE, scale=0.5)
    b0 = randn(gen, SIZE, scale=0.5)
    steps = OPS // PER_STEP

    def chain(x: Any, a: Any, b: Any) -> Any:
        y = x
        for _ in range(steps):
            y = (y * a + b).tanh() * 0.5
        return y

    tx, ta, tb = tg(x0, device, True), tg(a0, device), tg(b0, device)
    px, pa, pb = th(x0, device, True), th(a0, device), th(b0, device)

    def ours() -> Any:
        tx.grad = None
        chain(tx, ta, tb).sum().backward()
        return tx.grad

    def torch_side() -> Any:
        px.grad = None
        chain(px, pa, pb).sum().backward()
        return px.grad

    impls: dict[str, Impl] = {"tapegrad": ours, "torch": torch_side}
    problem = close("grad x", ours(), torch_side())
    if problem:
        print(f"    WARNING: tapegrad and torch disagree: {problem}")
    if device == "cpu":
        impls["numpy"] = lambda: _by_hand(x0, a0, b0, steps)
    return impls


def _by_hand(x: np.ndarray, a: np.ndarray, b: np.ndarray, steps: int) -> np.ndarray:
    """The same chain and its gradient on raw arrays: the floor for a framework written in Python."""
    saved = []
    y = x
    for _ in range(steps):
        t = np.tanh(y * a + b)
        saved.append(t)
        y = t * 0.5
    g = np.ones_like(y)
    for t in reversed(saved):
        g = g * 0.5
        g = g * (1 - t * t)
        g = g * a
    return g


def cases() -> list[Case]:
    return [
        Case(
            "tape overhead (10,000 ops)",
            "tape",
            make,
            None,
            target=2.0,
            unit="us/op",
            per=OPS,
            note=f"{SIZE}-element tensors: mul, add, tanh, scale; fwd+bwd",
        )
    ]
