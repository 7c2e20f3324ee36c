"""Property-based gradient testing as a product: check your op against PyTorch (or finite differences) in one line.

>>> from tapegrad.testing import check_op
>>> check_op(lambda x: x.tanh() * x, lambda x: x.tanh() * x, shapes=[(3, 4)])

This package imports Hypothesis (and torch when a spec's reference needs it); ``tapegrad.autograd`` and
``tapegrad.nn`` never import it.  Names are loaded on first use, so the pytest plugin
(:mod:`tapegrad.testing.plugin`, loaded by pytest in every run where tapegrad is installed) costs nothing until
a test asks for them.  See :func:`check_op`, :func:`check_spec`, :mod:`tapegrad.testing.ops` (the registry of
every built-in op's spec) and the tutorial "Test your op in five lines".
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "check_op": "api", "check_spec": "api", "replay": "api",
    "Case": "case",
    "FAMILIES": "families", "family": "families",
    "arrays": "strategies", "broadcastable_shapes": "strategies", "case_for": "strategies", "shapes": "strategies",
    "tensors": "strategies",
}
_OPSPEC = ("Arg", "OpSpec", "DEFAULT_TOLERANCES")

__all__ = sorted([*_EXPORTS, *_OPSPEC, "ops", "mutation"])


def __getattr__(name: str) -> Any:
    if name in _OPSPEC:
        from tapegrad.autograd import opspec

        return getattr(opspec, name)
    if name in ("ops", "mutation"):
        return importlib.import_module(f"{__name__}.{name}")
    if name in _EXPORTS:
        return getattr(importlib.import_module(f"{__name__}.{_EXPORTS[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return __all__
