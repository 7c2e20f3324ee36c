"""Optimizer updates in one pass over each parameter: SGD (momentum, dampening, Nesterov, weight decay,
maximize) and Adam/AdamW (AMSGrad).  PyTorch's update rules; the NumPy versions are the ones the optimizers
ran before (each a chain of whole-array expressions: 4-8 memory passes per parameter).

Scalars are cast to the parameter's dtype first, so a float32 update is computed in float32 as NumPy does.
All updates are in place on ``p`` and the state buffers.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ._compile import jit
from ._dispatch import kernel

prange = range  # numba.prange once compiled (see _compile.jit)


def sgd_numpy(
    p: Any, grad: Any, buf: Any, lr: float, momentum: float, dampening: float, wd: float,
    nesterov: bool, maximize: bool, first: bool,
) -> None:
    """One SGD step; ``buf`` is the momentum buffer (ignored when momentum is 0), ``first``: it is empty."""
    d_p = -grad if maximize else grad
    if wd != 0:
        d_p = d_p + wd * p
    if momentum != 0:
        if first:
            buf[...] = d_p
        else:
            buf *= momentum
            buf += (1 - dampening) * d_p
        d_p = d_p + momentum * buf if nesterov else buf
    p -= lr * d_p


def adam_numpy(
    p: Any, grad: Any, m: Any, v: Any, vmax: Any, lr: float, beta1: float, beta2: float, eps: float,
    wd: float, decoupled: bool, amsgrad: bool, maximize: bool, step: float,
) -> None:
    """One Adam (``decoupled``: AdamW) step at ``step`` (1 for the first); ``vmax`` only with ``amsgrad``."""
    from ..backend import array_module

    xp = array_module(p)
    if maximize:
        grad = -grad
    if wd != 0:
        if decoupled:
            p *= 1 - lr * wd
        else:
            grad = grad + wd * p
    m += (grad - m) * (1 - beta1)
    v *= beta2
    v += (1 - beta2) * grad * grad
    bias_correction1 = 1 - beta1**step
    bias_correction2_sqrt = math.sqrt(1 - beta2**step)
    if amsgrad:
        xp.maximum(vmax, v, out=vmax)
        second = vmax
    else:
        second = v
    denom = xp.sqrt(second) / bias_correction2_sqrt + eps
    p -= (lr / bias_correction1) * (m / denom)


@jit()
def _sgd(p, grad, buf, lr, momentum, damp1, wd, nesterov, sign, first, use_momentum, use_wd):  # noqa: ANN001, ANN202
    for k in prange(p.size):
        d = grad[k] * sign
        if use_wd:
            d = d + wd * p[k]
        if use_momentum:
            if first:
                b = d
            else:
                b = buf[k] * momentum
                b = b + damp1 * d
            buf[k] = b
            d = d + momentum * b if nesterov else b
        p[k] = p[k] - lr * d


@jit()
def _adam(p, grad, m, v, vmax, lr, one_b1, beta2, one_b2, eps, wd, shrink, bc2, step_size,  # noqa: ANN001, ANN202
          sign, decoupled, use_wd, amsgrad):
    for k in prange(p.size):
        g = grad[k] * sign
        q = p[k]
        if use_wd:
            if decoupled:
                q = q * shrink
            else:
                g = g + wd * q
        mk = m[k] + (g - m[k]) * one_b1
        vk = v[k] * beta2
        vk = vk + one_b2 * g * g
        m[k] = mk
        v[k] = vk
        if amsgrad:
            if vk > vmax[k] or vk != vk:
                vmax[k] = vk
            vk = vmax[k]
        denom = np.sqrt(vk) / bc2 + eps
        p[k] = q - step_size * (mk / denom)


def _flat_views(*arrays: Any) -> bool:
    return all(a is None or (a.flags.c_contiguous and a.dtype == arrays[0].dtype) for a in arrays)


def sgd_compiled(
    p: Any, grad: Any, buf: Any, lr: float, momentum: float, dampening: float, wd: float,
    nesterov: bool, maximize: bool, first: bool,
) -> None:
    if not _flat_views(p, grad, buf):
        return sgd_numpy(p, grad, buf, lr, momentum, dampening, wd, nesterov, maximize, first)
    t = p.dtype.type
    flat_buf = p.reshape(-1) if buf is None else buf.reshape(-1)
    _sgd(p.reshape(-1), grad.reshape(-1), flat_buf, t(lr), t(momentum), t(1 - dampening), t(wd),
         bool(nesterov), t(-1 if maximize else 1), bool(first), momentum != 0, wd != 0)


def adam_compiled(
    p: Any, grad: Any, m: Any, v: Any, vmax: Any, lr: float, beta1: float, beta2: float, eps: float,
    wd: float, decoupled: bool, amsgrad: bool, maximize: bool, step: float,
) -> None:
    if not _flat_views(p, grad, m, v, vmax):
        return adam_numpy(p, grad, m, v, vmax, lr, beta1, beta2, eps, wd, decoupled, amsgrad, maximize, step)
    t = p.dtype.type
    flat_vmax = v.reshape(-1) if vmax is None else vmax.reshape(-1)
    _adam(p.reshape(-1), grad.reshape(-1), m.reshape(-1), v.reshape(-1), flat_vmax, t(lr), t(1 - beta1),
          t(beta2), t(1 - beta2), t(eps), t(wd), t(1 - lr * wd), t(math.sqrt(1 - beta2**step)),
          t(lr / (1 - beta1**step)), t(-1 if maximize else 1), bool(decoupled), wd != 0, bool(amsgrad))


sgd_step = kernel("sgd_step", sgd_numpy, sgd_compiled, arrays=2)
adam_step = kernel("adam_step", adam_numpy, adam_compiled, arrays=4)
