"""Check an op's tape gradient against central finite differences: ``gradcheck`` and ``gradgradcheck``.

Both compare vector-Jacobian products, not Jacobians summed with ones: each output gets a *random* upstream
gradient ``v``, the tape gives ``d<v, f(x)>/dx`` in one backward, and finite differences of the scalar
``<v, f(x)>`` give the same quantity numerically.  Random ``v`` catches transposed or mis-broadcast gradients
that an all-ones upstream gradient hides.  Everything is done in float64: in float32 the finite-difference
error alone exceeds any useful tolerance.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .backend import array_module, to_device
from .engine import grad
from .errors import DTypeError, TapegradError
from .tensor import Tensor


class GradcheckError(TapegradError, AssertionError):
    """The tape's gradient and the finite-difference gradient disagree (the message says where)."""


def _as_list(values: Any) -> list[Any]:
    if isinstance(values, Tensor):
        return [values]
    if isinstance(values, (list, tuple)):
        return list(values)
    return [values]


def _differentiable_inputs(inputs: list[Any], where: str) -> list[int]:
    positions = []
    for i, t in enumerate(inputs):
        if not isinstance(t, Tensor) or not t.requires_grad:
            continue
        if t.dtype != np.float64:
            raise DTypeError(
                f"{where}: input {i} is {t.dtype}; finite differences need float64 to be meaningful. "
                "Pass inputs converted with .double() (and requires_grad=True)"
            )
        if not t.is_leaf:
            raise DTypeError(
                f"{where}: input {i} is not a leaf tensor; pass leaves, e.g. x.detach().requires_grad_()"
            )
        positions.append(i)
    if not positions:
        raise TapegradError(f"{where}: no input is a Tensor with requires_grad=True: nothing to check")
    return positions


def _zeros_like(t: Tensor) -> Tensor:
    return Tensor(array_module(t.data).zeros_like(t.data))


def _float_outputs(result: Any) -> list[Tensor | None]:
    """The function's outputs; non-Tensor and non-float outputs become None (nothing to differentiate)."""
    outs = _as_list(result)
    return [o if isinstance(o, Tensor) and o.dtype.kind == "f" else None for o in outs]


def _weighted_sum(outputs: list[Tensor | None], upstream: list[Any]) -> float:
    """<v, f(x)> summed over all outputs, as a Python float."""
    total = 0.0
    for out, v in zip(outputs, upstream, strict=True):
        if out is not None and v is not None:
            total += float((out.numpy().astype(np.float64) * v).sum())
    return total


def _numerical(
    fn: Callable[..., Any], inputs: list[Any], index: int, upstream: list[Any], eps: float
) -> np.ndarray:
    """Central differences of <v, f(x)> for every element of input ``index`` (restored afterwards)."""
    t = inputs[index]
    original = t.data
    work = original.copy()
    flat = work.reshape(-1)
    result = np.zeros(work.size, dtype=np.float64)
    t.data = work
    try:
        for k in range(work.size):
            value = flat[k].item()
            flat[k] = value + eps
            plus = _weighted_sum(_float_outputs(fn(*inputs)), upstream)
            flat[k] = value - eps
            minus = _weighted_sum(_float_outputs(fn(*inputs)), upstream)
            flat[k] = value
            result[k] = (plus - minus) / (2 * eps)
    finally:
        t.data = original
    return result.reshape(original.shape)


def _report(
    where: str, position: int, t: Tensor, analytical: np.ndarray, numerical: np.ndarray, atol: float,
    rtol: float,
) -> str | None:
    """None when the two agree within ``atol + rtol * |numerical|`` everywhere, else a readable report."""
    if analytical.size == 0:
        return None
    diff = np.abs(analytical - numerical)
    bad = ~(diff <= atol + rtol * np.abs(numerical))  # NaN anywhere counts as a failure
    if not bad.any():
        return None
    with np.errstate(divide="ignore", invalid="ignore"):  # a nonzero error where the reference is 0: inf
        relative = np.where(diff == 0, 0.0, diff / np.abs(numerical))
    excess = np.where(np.isnan(diff), np.inf, diff - (atol + rtol * np.abs(numerical)))
    worst = np.unravel_index(int(np.argmax(excess)), diff.shape)
    worst_index = tuple(int(i) for i in worst)
    return (
        f"{where}: the gradient of input {position} ({t.dtype}{list(t.shape)}) is wrong at "
        f"{int(bad.sum())} of {bad.size} elements\n"
        f"  max abs error {np.nanmax(diff):.3e}, max rel error {np.nanmax(relative):.3e} "
        f"(atol={atol:g}, rtol={rtol:g})\n"
        f"  worst at index {worst_index}: analytical (tape) {float(analytical[worst]):.8g}, "
        f"numerical (finite differences) {float(numerical[worst]):.8g}"
    )


def gradcheck(
    fn: Callable[..., Any],
    inputs: Any,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    seed: int = 0,
    raise_exception: bool = True,
) -> bool:
    """Compare the tape's vector-Jacobian products of ``fn`` with central finite differences.

    Parameters
    ----------
    fn
        Called as ``fn(*inputs)``; returns a Tensor or a sequence of Tensors (non-float outputs are ignored).
    inputs
        A Tensor or a sequence of arguments.  Tensors with ``requires_grad=True`` are checked and must be
        float64 leaves; everything else is passed through unchanged.
    eps, atol, rtol
        Step of the central differences and the tolerance ``|tape - numerical| <= atol + rtol * |numerical|``.
    seed
        Seed of the random upstream gradients (one standard-normal array per output).
    raise_exception
        Raise :class:`GradcheckError` with a report on failure (default); with False, return False instead.

    Returns
    -------
    bool
        True when every checked input's gradient agrees.
    """
    return _check("gradcheck", fn, _as_list(inputs), eps, atol, rtol, seed, raise_exception)


def _check(
    where: str,
    fn: Callable[..., Any],
    inputs: list[Any],
    eps: float,
    atol: float,
    rtol: float,
    seed: int,
    raise_exception: bool,
) -> bool:
    positions = _differentiable_inputs(inputs, where)
    rng = np.random.default_rng(seed)
    outputs = _float_outputs(fn(*inputs))
    upstream = [None if o is None else rng.standard_normal(o.shape) for o in outputs]
    live = [(o, v) for o, v in zip(outputs, upstream, strict=True) if o is not None and o.requires_grad]
    wanted = [inputs[p] for p in positions]
    if live:
        seeds = [Tensor(to_device(v, o.device), dtype=o.dtype) for o, v in live]
        tape = grad([o for o, _ in live], wanted, grad_outputs=seeds, allow_unused=True)
    else:  # nothing depends on the inputs on the tape: the analytical gradient is zero
        tape = (None,) * len(wanted)
    failures = []
    for p, t, g in zip(positions, wanted, tape, strict=True):
        analytical = np.zeros(t.shape) if g is None else g.numpy().astype(np.float64)
        if analytical.shape != t.shape:
            failures.append(f"{where}: input {p}: gradient of shape {analytical.shape}, expected {t.shape}")
            continue
        numerical = _numerical(fn, inputs, p, upstream, eps)
        message = _report(where, p, t, analytical, numerical, atol, rtol)
        if message is not None:
            failures.append(message)
    if failures:
        if raise_exception:
            raise GradcheckError("\n".join(failures))
        return False
    return True


def gradgradcheck(
    fn: Callable[..., Any],
    inputs: Any,
    grad_outputs: Sequence[Tensor] | None = None,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    seed: int = 0,
    raise_exception: bool = True,
) -> bool:
    """Check second derivatives: ``gradcheck`` of ``(x, v) -> grad(<v, fn(x)>, x, create_graph=True)``.

    The gradient is differentiated with respect to the inputs *and* the upstream gradient ``v`` (random
    float64 leaves unless ``grad_outputs`` are given), so both halves of a double backward are checked: how
    the first gradient depends on the inputs, and that it is linear in ``v``.
    """
    inputs = _as_list(inputs)
    positions = _differentiable_inputs(inputs, "gradgradcheck")
    outputs = _float_outputs(fn(*inputs))
    if grad_outputs is None:
        rng = np.random.default_rng(seed + 1)
        vs = [
            None if o is None
            else Tensor(to_device(rng.standard_normal(o.shape), o.device), requires_grad=True)
            for o in outputs
        ]
    else:
        vs = [v.detach().double().requires_grad_() if v is not None else None for v in _as_list(grad_outputs)]
        if len(vs) != len(outputs):
            raise TapegradError(f"gradgradcheck: got {len(vs)} grad_outputs for {len(outputs)} outputs")
    n = len(inputs)
    live_v = [i for i, (o, v) in enumerate(zip(outputs, vs, strict=True)) if o is not None and v is not None]

    def first_gradient(*args: Any) -> tuple[Tensor, ...]:
        xs = list(args[:n])
        seeds = dict(zip(live_v, args[n:], strict=True))
        outs = _float_outputs(fn(*xs))
        pairs = [(outs[i], seeds[i]) for i in live_v if outs[i] is not None and outs[i].requires_grad]
        wanted = [xs[p] for p in positions]
        if not pairs:
            return tuple(_zeros_like(w) for w in wanted)
        gs = grad([o for o, _ in pairs], wanted, grad_outputs=[s for _, s in pairs], create_graph=True,
                  allow_unused=True)
        return tuple(_zeros_like(w) if g is None else g for g, w in zip(gs, wanted, strict=True))

    extended = inputs + [vs[i] for i in live_v]
    return _check("gradgradcheck", first_gradient, extended, eps, atol, rtol, seed, raise_exception)
