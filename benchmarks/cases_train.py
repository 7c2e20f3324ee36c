"""A full training step (forward, backward, SGD with momentum) of the benchmark CNN, tapegrad vs PyTorch."""

from __future__ import annotations

from typing import Any

from . import model as ref
from .common import close, tg, th
from .harness import Case, Impl

SIZES = [(64, 32, 1.3), (16, 224, 1.0)]  # batch, image size, target ratio (issue 11, 2 threads)
LR, MOMENTUM = 0.01, 0.9


def count_nodes(loss: Any) -> int:
    """Nodes on the tape behind ``loss`` (before backward): what the tape's per-op cost is paid for."""
    seen, stack = set(), [loss.grad_fn]
    while stack:
        node = stack.pop()
        if node is None or node in seen:
            continue
        seen.add(node)
        stack.extend(p.grad_fn for p in node.parents if p is not None)
    return len(seen)


def make_step(batch: int, size: int) -> Any:
    def make(device: str) -> dict[str, Impl]:
        import torch
        from tapegrad.nn import optim

        tm = ref.torch_model(size).to(device)
        weights = [p.detach().cpu().numpy() for p in tm.parameters()]
        m = ref.tapegrad_model(size, weights)
        if device != "cpu":
            m.to(device)
        x, y = ref.batch(batch, size)
        tx, ty = tg(x, device), tg(y, device)
        px, py = th(x, device), torch.tensor(y, device=device)
        opt = optim.SGD(m.parameters(), lr=LR, momentum=MOMENTUM)
        topt = torch.optim.SGD(tm.parameters(), lr=LR, momentum=MOMENTUM)
        problem = close("first loss", ref.tapegrad_step(m, opt, tx, ty), ref.torch_step(tm, topt, px, py))
        if problem:
            print(f"    WARNING: tapegrad and torch disagree: {problem}")
        make.nodes = count_nodes(_loss(m, tx, ty))  # type: ignore[attr-defined]
        return {
            "tapegrad": lambda: ref.tapegrad_step(m, opt, tx, ty),
            "torch": lambda: ref.torch_step(tm, topt, px, py),
        }

    return make


def _loss(model: Any, x: Any, y: Any) -> Any:
    from tapegrad.nn import functional as F  # noqa: N812

    return F.cross_entropy(model(x), y)


def cases() -> list[Case]:
    return [
        Case(
            f"training step {b}x3x{s}x{s}",
            "train",
            make_step(b, s),
            ref.flops_per_step(b, s),
            target=t,
            note="conv-relu-pool-conv-relu-pool-linear, SGD momentum 0.9",
        )
        for b, s, t in SIZES
    ]
