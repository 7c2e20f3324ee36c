"""Linear + cross-entropy forward+backward: a classifier head (the GEMMs plus the loss's reductions)."""

from __future__ import annotations

from typing import Any

import numpy as np

from .common import close, randn, rng, tg, th
from .harness import Case, Impl

BATCH, FEATURES, CLASSES = 256, 1024, 1000


def make(device: str) -> dict[str, Impl]:
    import torch
    import torch.nn.functional as TF  # noqa: N812
    from tapegrad.nn import functional as F  # noqa: N812

    gen = rng(3)
    x = randn(gen, BATCH, FEATURES)
    w = randn(gen, CLASSES, FEATURES, scale=FEATURES**-0.5)
    b = randn(gen, CLASSES, scale=0.1)
    target = gen.integers(0, CLASSES, BATCH).astype(np.int64)
    tx, tw, tb = tg(x, device, True), tg(w, device, True), tg(b, device, True)
    ty = tg(target, device)
    px, pw, pb = th(x, device, True), th(w, device, True), th(b, device, True)
    py = torch.tensor(target, device=device)

    def ours() -> Any:
        tx.grad = tw.grad = tb.grad = None
        loss = F.cross_entropy(F.linear(tx, tw, tb), ty)
        loss.backward()
        return loss

    def torch_side() -> Any:
        px.grad = pw.grad = pb.grad = None
        loss = TF.cross_entropy(TF.linear(px, pw, pb), py)
        loss.backward()
        return loss

    for problem in (
        close("loss", ours(), torch_side()),
        close("grad w", tw.grad, pw.grad),
        close("grad x", tx.grad, px.grad),
    ):
        if problem:
            print(f"    WARNING: tapegrad and torch disagree: {problem}")
    return {"tapegrad": ours, "torch": torch_side}


def cases() -> list[Case]:
    flops = 3 * 2.0 * BATCH * FEATURES * CLASSES
    return [
        Case(
            "linear + cross_entropy fwd+bwd",
            "linear",
            make,
            flops,
            target=None,
            note=f"{BATCH}x{FEATURES} -> {CLASSES} classes",
        )
    ]
