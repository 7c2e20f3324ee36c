"""``Adam`` (optionally AMSGrad) and ``AdamW`` (decoupled weight decay) — PyTorch's update rules exactly."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from tapegrad.autograd import kernels, no_grad
from tapegrad.autograd.backend import array_module

from .optimizer import Optimizer


class Adam(Optimizer):
    """m = b1*m + (1-b1)*g; v = b2*v + (1-b2)*g^2; p -= lr/(1-b1^t) * m / (sqrt(v)/sqrt(1-b2^t) + eps).

    ``weight_decay`` adds ``wd*p`` to the gradient (L2); AdamW instead shrinks ``p *= 1 - lr*wd`` first.
    """

    decoupled = False

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        amsgrad: bool = False,
        maximize: bool = False,
    ) -> None:
        name = type(self).__name__
        if not eps >= 0.0:
            raise ValueError(f"{name}: invalid epsilon value {eps!r} (must be >= 0)")
        if not (0.0 <= betas[0] < 1.0 and 0.0 <= betas[1] < 1.0):
            raise ValueError(
                f"{name}: invalid betas {betas!r} (each must be in [0, 1); 1 divides by zero in the "
                "bias correction)"
            )
        super().__init__(
            params,
            dict(
                lr=lr,
                betas=tuple(betas),
                eps=eps,
                weight_decay=weight_decay,
                amsgrad=amsgrad,
                maximize=maximize,
            ),
        )

    @no_grad()
    def step(self) -> None:
        for group in self.param_groups:
            lr, (beta1, beta2), eps = group["lr"], group["betas"], group["eps"]
            wd, amsgrad = group["weight_decay"], group["amsgrad"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                xp = array_module(p.data)
                state = self.state.setdefault(p, {})
                if not state:
                    state["step"] = 0.0
                    state["exp_avg"] = xp.zeros_like(p.data)
                    state["exp_avg_sq"] = xp.zeros_like(p.data)
                    if amsgrad:
                        state["max_exp_avg_sq"] = xp.zeros_like(p.data)
                state["step"] += 1
                step = state["step"]
                # one pass over p, grad and the moments (see autograd/kernels/optim.py)
                kernels.adam_step(p.data, p.grad.data, state["exp_avg"], state["exp_avg_sq"],
                                  state.get("max_exp_avg_sq") if amsgrad else None, lr, beta1, beta2, eps, wd,
                                  self.decoupled, amsgrad, group["maximize"], step)


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter): default ``weight_decay=1e-2``."""

    decoupled = True

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
        amsgrad: bool = False,
        maximize: bool = False,
    ) -> None:
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize)
