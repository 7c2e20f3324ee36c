"""max_pool2d forward+backward: 2x2 stride 2, and overlapping 3x3 stride 2, on a conv-sized feature map."""

from __future__ import annotations

from typing import Any

from .common import close, randn, rng, tg, th
from .harness import Case, Impl

SHAPE = (16, 32, 64, 64)  # the output of conv case (b): what a pool layer sees in a small CNN
POOLS = [("2x2/2", 2, 2), ("3x3/2", 3, 2)]


def _pool_fn() -> Any:
    from tapegrad.nn import functional as F  # noqa: N812

    if hasattr(F, "max_pool2d"):
        return F.max_pool2d
    from tapegrad.nn.functional.pooling import max_pool2d  # before the nn helper exports it

    return max_pool2d


def make_pool(k: int, s: int) -> Any:
    def make(device: str) -> dict[str, Impl]:
        import torch.nn.functional as TF  # noqa: N812

        max_pool2d = _pool_fn()
        gen = rng(2)
        n, c, h, w = SHAPE
        ho, wo = (h - k) // s + 1, (w - k) // s + 1
        x = randn(gen, *SHAPE)
        gout = randn(gen, n, c, ho, wo)
        tx, tgo = tg(x, device, True), tg(gout, device)
        px, pgo = th(x, device, True), th(gout, device)

        def ours() -> Any:
            tx.grad = None
            out = max_pool2d(tx, k, s)
            out.backward(tgo)
            return out

        def torch_side() -> Any:
            px.grad = None
            out = TF.max_pool2d(px, k, s)
            out.backward(pgo)
            return out

        impls: dict[str, Impl] = {"tapegrad": ours, "torch": torch_side}
        for problem in (close("output", ours(), torch_side()), close("grad x", tx.grad, px.grad)):
            if problem:
                print(f"    WARNING: tapegrad and torch disagree: {problem}")
        if device == "cpu":
            impls.update(_peers(x, gout, k, s))
        return impls

    return make


def _peers(x: Any, gout: Any, k: int, s: int) -> dict[str, Impl]:
    from . import tinyml

    ref = tinyml.MaxPool(x.shape, k, s)

    def tiny() -> Any:
        out, arg = ref.forward(x)
        ref.backward(gout, arg)
        return out

    peers: dict[str, Impl] = {"tinyml": tiny}
    try:
        import mygrad as mg
        from mygrad.nnet.layers import max_pool
    except ImportError:
        return peers
    h, w = x.shape[2:]
    x = x[:, :, : h - (h - k) % s, : w - (w - k) % s].copy()  # MyGrad wants windows that tile the input
    mx = mg.tensor(x)

    def mygrad_side() -> Any:
        out = max_pool(mx, (k, k), s)
        out.backward(gout)
        return out

    peers["mygrad"] = mygrad_side
    return peers


def cases() -> list[Case]:
    n, c, h, w = SHAPE
    return [
        Case(
            f"max_pool2d {name} fwd+bwd",
            "pool",
            make_pool(k, s),
            None,
            target=0.6 if k == 2 else 1.0,  # issue 11
            note=f"{n}x{c}x{h}x{w}",
        )
        for name, k, s in POOLS
    ]
