"""Run the same computation in tapegrad and in torch and compare forward values and gradients.

Gradients are vector-Jacobian products with random upstream gradients (never ones), taken with
``tapegrad.autograd.grad`` / ``torch.autograd.grad`` so nothing depends on ``.grad`` bookkeeping.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch
from hypothesis import HealthCheck, settings
from tapegrad.autograd import Tensor, grad

from tests.support import assert_close, random_like

# Hypothesis complains about function-scoped fixtures; `device` only selects cpu/cuda, which is constant for
# the whole test, so it is safe to keep it across examples.
fixture_ok = settings(
    suppress_health_check=[*settings.default.suppress_health_check, HealthCheck.function_scoped_fixture]
)

DTYPES = [np.float32, np.float64]


def _tuple(x: Any) -> tuple[Any, ...]:
    return tuple(x) if isinstance(x, (tuple, list)) else (x,)


def check_op(
    ours: Callable[..., Any],
    theirs: Callable[..., Any],
    arrays: Sequence[np.ndarray],
    device: str | None = None,
    differentiable: Sequence[bool] | None = None,
    seed: int = 0,
    **tolerance: float,
) -> None:
    """Compare outputs and input gradients of ``ours(*tensors)`` with ``theirs(*torch_tensors)``.

    ``differentiable[i]`` says whether input i requires grad (default: every floating input).
    """
    if differentiable is None:
        differentiable = [np.asarray(a).dtype.kind == "f" for a in arrays]
    flags = list(zip(arrays, differentiable, strict=True))
    our_in = [Tensor(np.array(a), requires_grad=d, device=device) for a, d in flags]
    torch_in = [torch.tensor(np.array(a), requires_grad=d) for a, d in flags]
    our_out = _tuple(ours(*our_in))
    torch_out = _tuple(theirs(*torch_in))
    assert len(our_out) == len(torch_out)
    for o, t in zip(our_out, torch_out, strict=True):
        assert o.dtype == t.detach().numpy().dtype, f"dtype {o.dtype} != torch's {t.dtype}"
        if o.dtype.kind == "f":
            assert_close(o, t, o.dtype, **tolerance)
        else:
            np.testing.assert_array_equal(o.numpy(), t.numpy())
    pairs = [
        (o, t, random_like(t.shape, t.detach().numpy().dtype, seed + i))
        for i, (o, t) in enumerate(zip(our_out, torch_out, strict=True))
        if t.requires_grad
    ]
    wanted = [i for i, d in enumerate(differentiable) if d]
    if not pairs or not wanted:
        return
    assert all(o.requires_grad for o, _, _ in pairs)
    our_grads = grad(
        [o for o, _, _ in pairs], [our_in[i] for i in wanted],
        grad_outputs=[Tensor(v, device=device) for _, _, v in pairs], allow_unused=True,
    )
    torch_grads = torch.autograd.grad(
        [t for _, t, _ in pairs], [torch_in[i] for i in wanted],
        grad_outputs=[torch.from_numpy(v) for _, _, v in pairs], allow_unused=True,
    )
    for i, g, tg in zip(wanted, our_grads, torch_grads, strict=True):
        if tg is None:
            assert g is None or not np.any(g.numpy()), f"input {i}: torch has no gradient, ours is nonzero"
            continue
        assert g is not None, f"input {i}: no gradient"
        assert g.shape == our_in[i].shape and g.dtype == our_in[i].dtype, f"input {i}: {g.dtype}{g.shape}"
        assert_close(g, tg, g.dtype, **tolerance)


def check_second_order(
    ours: Callable[..., Any],
    theirs: Callable[..., Any],
    arrays: Sequence[np.ndarray],
    device: str | None = None,
    seed: int = 0,
    **tolerance: float,
) -> None:
    """Compare d/d(x, v) of <w, grad(<v, f(x)>, x)> with torch: double backward through every op in ``f``.

    The first gradient is taken with create_graph=True; the second differentiates it with respect to the
    inputs and the upstream gradient v, with another random weighting w.
    """
    dtype = np.asarray(arrays[0]).dtype
    our_x = [Tensor(np.array(a), requires_grad=True, device=device) for a in arrays]
    torch_x = [torch.tensor(np.array(a), requires_grad=True) for a in arrays]
    our_y, torch_y = ours(*our_x), theirs(*torch_x)
    v = random_like(torch_y.shape, dtype, seed)
    our_v, torch_v = Tensor(v, requires_grad=True, device=device), torch.tensor(v, requires_grad=True)
    our_g = grad(our_y, our_x, grad_outputs=our_v, create_graph=True)
    torch_g = torch.autograd.grad(torch_y, torch_x, grad_outputs=torch_v, create_graph=True)
    for a, b in zip(our_g, torch_g, strict=True):
        assert_close(a, b, dtype, **tolerance)
    ws = [random_like(b.shape, dtype, seed + 1 + i) for i, b in enumerate(torch_g)]
    our_s = sum((g * Tensor(w, device=device)).sum() for g, w in zip(our_g, ws, strict=True))
    torch_s = sum((g * torch.from_numpy(w)).sum() for g, w in zip(torch_g, ws, strict=True))
    our_gg = grad(our_s, [*our_x, our_v], allow_unused=True)
    torch_gg = torch.autograd.grad(torch_s, [*torch_x, torch_v], allow_unused=True)
    for i, (a, b) in enumerate(zip(our_gg, torch_gg, strict=True)):
        if b is None:
            assert a is None or not np.any(a.numpy()), f"second-order gradient {i}: torch has none, ours has"
            continue
        assert a is not None, f"second-order gradient {i}: torch has one, ours is None"
        assert_close(a, b, dtype, **tolerance)
