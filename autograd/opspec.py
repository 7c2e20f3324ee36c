"""How an op is checked, declared beside the op itself: pure data, so the core imports neither torch nor Hypothesis.

PyTorch's OpInfo, made public.  Each differentiable op carries one or more :class:`OpSpec` (on its ``Function``
subclass as ``spec``, or beside a composite functional); :mod:`tapegrad.testing` turns every spec into property
tests (values, first- and second-order gradients against torch with random upstream gradients), the op coverage
table of the docs and the mutation check.  Adding an op is adding one spec.

The fields are data a reader can check at a glance:

* ``reference`` names the torch function by dotted path (``"torch.tanh"``, ``"torch.nn.functional.conv2d"``),
  resolved only when a test runs; a callable on torch tensors for the odd op that needs glue; or ``"numeric"`` for
  central finite differences in float64 when there is no torch twin.
* ``inputs`` has one entry per tensor argument: an :class:`Arg` (shape family, value range, points to keep away
  from), or, in user code, a Hypothesis strategy.  Ops whose inputs depend on each other (conv: the channels of
  the weight match the image's) name a *family* instead (``inputs="conv2d"``): the strategy of that name in
  :mod:`tapegrad.testing.strategies` draws all inputs and keyword arguments together.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

# Two-sided (rtol, atol) per dtype; atol is scaled by the reference's largest magnitude when compared, so a
# gradient of size 2e-5 is checked relatively and cannot hide under an absolute tolerance of 1e-4.
DEFAULT_TOLERANCES: Mapping[str, tuple[float, float]] = {
    "float32": (1e-4, 1e-5),
    "float64": (1e-9, 1e-11),
}


@dataclass(frozen=True)
class Arg:
    """One tensor input of an op, described so a strategy can draw it.

    ``shape`` is a fixed shape or a family: ``"any"`` (0–4 axes, sizes 0–5), ``"nonempty"``, ``"matrix"``,
    ``"vector"``, ``"image"`` (N, C, H, W) or ``"broadcast"`` (broadcastable against the op's other ``"broadcast"``
    inputs).  Values are drawn in ``[low, high]`` and at least ``gap`` away from each point of ``away_from``
    (the kinks of relu/abs, the poles of division) so finite differences and torch agree on which side they are.
    ``grad=False`` marks an input the op does not differentiate (an index, a target); ``dtype`` fixes its dtype
    (``"int64"``) instead of the dtype under test.
    """

    shape: tuple[int, ...] | str = "any"
    low: float = -3.0
    high: float = 3.0
    away_from: tuple[float, ...] = ()
    gap: float = 1e-2
    grad: bool = True
    dtype: str | None = None
    distinct: bool = False  # no two values equal (max/min/sort-like ops whose gradient at a tie is a convention)


@dataclass(frozen=True)
class OpSpec:
    """One way to check one op: which callable, against what, on which inputs, to which tolerance."""

    name: str
    ours: Callable[..., Any]
    reference: str | Callable[..., Any]
    inputs: tuple[Any, ...] | str = (Arg(),)
    kwargs: Mapping[str, Any] = field(default_factory=dict)
    tolerances: Mapping[str, tuple[float, float]] = field(default_factory=lambda: dict(DEFAULT_TOLERANCES))
    dtypes: tuple[str, ...] = ("float32", "float64")
    second_order: bool = True
    notes: str = ""

    def tolerance(self, dtype: Any) -> tuple[float, float]:
        """``(rtol, atol)`` for ``dtype`` (a name or a NumPy dtype)."""
        name = str(getattr(dtype, "name", dtype))
        return self.tolerances.get(name, DEFAULT_TOLERANCES[name])
