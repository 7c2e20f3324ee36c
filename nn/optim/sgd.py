"""``SGD`` with momentum, dampening, Nesterov and (L2) weight decay — PyTorch's update rule exactly."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from tapegrad.autograd import kernels, no_grad
from tapegrad.autograd.backend import array_module

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
                buf, first = None, False
                if momentum != 0:
                    state = self.state.setdefault(p, {})
                    buf = state.get("momentum_buffer")
                    if buf is None:
                        buf = state["momentum_buffer"] = array_module(p.data).empty_like(p.data)
                        first = True
                # one pass over p, grad and the buffer (see autograd/kernels/optim.py)
                kernels.sgd_step(p.data, p.grad.data, buf, lr, momentum, dampening, wd, nesterov,
                                 group["maximize"], first)
