"""``SGD`` with momentum, dampening, Nesterov and (L2) weight decay — PyTorch's update rule exactly."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from tapegrad.autograd import no_grad

from .optimizer import Optimizer


class SGD(Optimizer):
    """``g = grad + wd*p``; ``buf = g`` at the first step, then ``buf = momentum*buf + (1-dampening)*g``;
    the step is ``g + momentum*buf`` (Nesterov) or ``buf``; ``p -= lr * step``."""

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-3,
        momentum: float = 0.0,
        dampening: float = 0.0,
        weight_decay: float = 0.0,
        nesterov: bool = False,
        maximize: bool = False,
    ) -> None:
        if not momentum >= 0.0:
            raise ValueError(f"SGD: invalid momentum value {momentum!r} (must be >= 0)")
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("SGD: Nesterov momentum requires a momentum > 0 and zero dampening")
        super().__init__(
            params,
            dict(
                lr=lr,
                momentum=momentum,
                dampening=dampening,
                weight_decay=weight_decay,
                nesterov=nesterov,
                maximize=maximize,
            ),
        )

    @no_grad()
    def step(self) -> None:
        for group in self.param_groups:
            lr, momentum, dampening = group["lr"], group["momentum"], group["dampening"]
            wd, nesterov = group["weight_decay"], group["nesterov"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                d_p = p.grad.data
                if group["maximize"]:
                    d_p = -d_p
                if wd != 0:
                    d_p = d_p + wd * p.data
                if momentum != 0:
                    state = self.state.setdefault(p, {})
                    buf = state.get("momentum_buffer")
                    if buf is None:
                        buf = state["momentum_buffer"] = d_p.copy()
                    else:
                        buf *= momentum
                        buf += (1 - dampening) * d_p
                    d_p = d_p + momentum * buf if nesterov else buf
                p.data -= lr * d_p
