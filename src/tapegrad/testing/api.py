"""``check_op``, ``check_spec`` and ``replay``: the public entry points of the op checks."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from tapegrad.autograd.opspec import DEFAULT_TOLERANCES, Arg, OpSpec

from .case import Case
from .check import run_case
from .compare import Mismatch
from .report import report
from .strategies import case_for

_HEALTH = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much,
           HealthCheck.function_scoped_fixture]


def _tolerances(dtypes: Sequence[str], given_: dict[str, Any]) -> dict[str, tuple[float, float]]:
    """``rtol=``/``atol=`` for every dtype, or ``float32=(rtol, atol)`` per dtype; defaults otherwise."""
    unknown = set(given_) - {"rtol", "atol", *DEFAULT_TOLERANCES}
    if unknown:
        raise TypeError(f"check_op: unknown tolerance option(s) {sorted(unknown)}; use rtol=, atol= or "
                        f"float32=(rtol, atol) / float64=(rtol, atol)")
    out = {}
    for name in dtypes:
        rtol, atol = given_.get(name, DEFAULT_TOLERANCES[name])
        out[name] = (given_.get("rtol", rtol), given_.get("atol", atol))
    return out


def _registry_key(spec: OpSpec) -> str | None:
    from . import ops

    return ops.key(spec)


def check_spec(spec: OpSpec, max_examples: int | None = None, device: str = "cpu", *, shrink: bool = True) -> None:
    """Draw cases of ``spec`` with Hypothesis and run every check on each; ``AssertionError`` with a report.

    ``max_examples`` defaults to the active Hypothesis profile's (``ci``: 25, ``heavy``: 400).  ``shrink=False``
    stops at the first failure, unshrunk and unsaved (the mutation check only needs to know that it failed).
    """
    registered = _registry_key(spec)
    examples = max_examples or settings.default.max_examples
    quick = {} if shrink else {"phases": [Phase.explicit, Phase.generate], "database": None}

    @settings(settings.default, max_examples=examples, deadline=None, suppress_health_check=_HEALTH,
              print_blob=False, **quick)
    @given(case=case_for(spec))
    def check(case: Case) -> None:
        try:
            run_case(spec, case, device)
        except Mismatch as found:
            raise AssertionError(report(spec, case, found, device, registered)) from None

    check()


def check_op(
    ours: Callable[..., Any],
    reference: Any,
    shapes: Any = ((3, 4),),
    dtypes: Sequence[str] = ("float32", "float64"),
    second_order: bool = True,
    max_examples: int | None = None,
    *,
    device: str = "cpu",
    **tolerances: Any,
) -> None:
    """Check ``ours`` (a callable on tapegrad Tensors) against ``reference`` on inputs drawn by Hypothesis.

    ``reference`` is a callable on torch tensors, a dotted name (``"torch.tanh"``), or ``"numeric"`` (central
    differences in float64, no torch needed).  ``shapes`` has one entry per input: a shape, a Hypothesis
    strategy of shapes, an :class:`Arg` (value range, kinks to avoid); or it is one strategy drawing all shapes
    together (``broadcastable_shapes(2)``), or a family name (``"conv2d"``).  Checked: forward values and
    dtypes, first-order vector-Jacobian products with random upstream gradients, second order (the gradient of
    a random projection of the gradient) when ``second_order``, inputs not mutated, graph freed by backward.
    Tolerances: ``rtol=``, ``atol=`` or ``float32=(rtol, atol)``; the atol part is relative to the reference's
    largest magnitude.  Raises ``AssertionError`` with a report and a reproduction snippet.
    """
    if isinstance(shapes, (str, st.SearchStrategy)):
        inputs: Any = shapes
    else:
        inputs = tuple(s if isinstance(s, (Arg, st.SearchStrategy)) else Arg(shape=s) for s in shapes)
    spec = OpSpec(
        name=getattr(ours, "__name__", "op"), ours=ours, reference=reference, inputs=inputs,
        tolerances=_tolerances(dtypes, tolerances), dtypes=tuple(dtypes),
        second_order=second_order,
    )
    check_spec(spec, max_examples, device)


def replay(
    ours: Any,
    reference: Any = None,
    *,
    inputs: Sequence[Any],
    kwargs: dict[str, Any] | None = None,
    grads: Sequence[bool] | None = None,
    dtype: str | None = None,
    seed: int = 0,
    device: str = "cpu",
    **tolerances: Any,
) -> None:
    """Run the checks once on given arrays (what a failure report's snippet calls); raise its report."""
    arrays = tuple(None if a is None else np.asarray(a) for a in inputs)
    first = next((a for a in arrays if a is not None and a.dtype.kind == "f"), None)
    dtype = dtype or (first.dtype.name if first is not None else "float64")
    if isinstance(ours, OpSpec):
        spec = ours
    else:
        spec = OpSpec(getattr(ours, "__name__", "op"), ours, reference, tolerances=_tolerances((dtype,), tolerances),
                      dtypes=(dtype,))
    grads = tuple(grads) if grads is not None else tuple(a is not None and a.dtype.kind == "f" for a in arrays)
    case = Case(arrays, grads, dict(kwargs or {}), dtype, seed)
    try:
        run_case(spec, case, device)
    except Mismatch as found:
        raise AssertionError(report(spec, case, found, device, _registry_key(spec))) from None
