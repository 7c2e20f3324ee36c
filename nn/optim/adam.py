"""``Adam`` (optionally AMSGrad) and ``AdamW`` (decoupled weight decay) — PyTorch's update rules exactly."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from tapegrad.autograd import no_grad
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
                grad = p.grad.data
                if group["maximize"]:
                    grad = -grad
                state = self.state.setdefault(p, {})
                if not state:
                    state["step"] = 0.0
                    state["exp_avg"] = xp.zeros_like(p.data)
                    state["exp_avg_sq"] = xp.zeros_like(p.data)
                    if amsgrad:
                        state["max_exp_avg_sq"] = xp.zeros_like(p.data)
                state["step"] += 1
                step = state["step"]
                if wd != 0:
                    if self.decoupled:
                        p.data *= 1 - lr * wd
                    else:
                        grad = grad + wd * p.data
                exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
                exp_avg += (grad - exp_avg) * (1 - beta1)
                exp_avg_sq *= beta2
                exp_avg_sq += (1 - beta2) * grad * grad
                bias_correction1 = 1 - beta1**step
                bias_correction2_sqrt = math.sqrt(1 - beta2**step)
                if amsgrad:
                    xp.maximum(state["max_exp_avg_sq"], exp_avg_sq, out=state["max_exp_avg_sq"])
                    second = state["max_exp_avg_sq"]
                else:
                    second = exp_avg_sq
                denom = xp.sqrt(second) / bias_correction2_sqrt + eps
                p.data -= (lr / bias_correction1) * (exp_avg / denom)


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
