"""Property-based gradient testing as a product: check your op against PyTorch (or finite differences) in one line.

>>> from tapegrad.testing import check_op
>>> check_op(lambda x: x.tanh() * x, lambda x: x.tanh() * x, shapes=[(3, 4)])

This package imports Hypothesis (and torch when a spec's reference needs it); ``tapegrad.autograd`` and
``tapegrad.nn`` never import it.  See :func:`check_op`, :func:`check_spec`, :mod:`tapegrad.testing.ops` (the
registry of every built-in op's spec) and the tutorial "Test your op in five lines".
"""

from __future__ import annotations

from tapegrad.autograd.opspec import DEFAULT_TOLERANCES, Arg, OpSpec

from . import ops
from .api import check_op, check_spec, replay
from .case import Case
from .families import FAMILIES, family
from .strategies import arrays, broadcastable_shapes, case_for, shapes, tensors

__all__ = [
    "DEFAULT_TOLERANCES", "FAMILIES", "Arg", "Case", "OpSpec", "arrays", "broadcastable_shapes", "case_for",
    "check_op", "check_spec", "family", "ops", "replay", "shapes", "tensors",
]
