"""Hypothesis strategies that draw an op's inputs: from :class:`Arg` descriptions, shapes, or a named family.

``tensors``, ``arrays`` and ``shapes`` are the strategies of :mod:`tapegrad.autograd.testing`; this module adds
the bridge from an :class:`~tapegrad.autograd.opspec.OpSpec` to a :class:`~tapegrad.testing.case.Case`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from tapegrad.autograd.opspec import Arg, OpSpec
from tapegrad.autograd.testing import arrays, broadcastable_shapes, shapes, tensors

from .case import Case
from .families import FAMILIES, family_case, values

__all__ = ["FAMILIES", "arrays", "broadcastable_shapes", "case_for", "inputs_strategy", "shapes", "tensors"]

_SHAPE_FAMILIES = {
    "any": dict(min_dims=0, max_dims=4, min_side=0, max_side=5),
    "nonempty": dict(min_dims=0, max_dims=4, min_side=1, max_side=5),
    "matrix": dict(min_dims=2, max_dims=2, min_side=1, max_side=5),
    "vector": dict(min_dims=1, max_dims=1, min_side=1, max_side=6),
    "image": dict(min_dims=4, max_dims=4, min_side=1, max_side=5),
}


def _shape_strategy(shape: Any) -> st.SearchStrategy[tuple[int, ...]]:
    if isinstance(shape, st.SearchStrategy):
        return shape
    if isinstance(shape, str):
        if shape not in _SHAPE_FAMILIES:
            raise ValueError(f"Arg.shape: unknown shape family {shape!r}; expected a tuple or one of "
                             f"{sorted(_SHAPE_FAMILIES) + ['broadcast']}")
        return hnp.array_shapes(**_SHAPE_FAMILIES[shape])
    if isinstance(shape, int):
        return st.just((shape,))
    return st.just(tuple(int(s) for s in shape))


def _as_arg(entry: Any) -> Any:
    """A shape tuple, an int, a shape family name or a strategy of shapes becomes an Arg (strategies stay)."""
    if isinstance(entry, (Arg, st.SearchStrategy)):
        return entry
    return Arg(shape=entry)


@st.composite
def _from_args(draw: st.DrawFn, entries: Sequence[Any], dtype: str) -> Case:
    entries = [_as_arg(e) for e in entries]
    linked = [i for i, e in enumerate(entries) if isinstance(e, Arg) and e.shape == "broadcast"]
    drawn_shapes: dict[int, tuple[int, ...]] = {}
    if linked:
        together = draw(broadcastable_shapes(len(linked), min_dims=0, max_dims=4, min_side=1, max_side=4))
        drawn_shapes.update(zip(linked, together, strict=True))
    out: list[np.ndarray | None] = []
    grads: list[bool] = []
    for i, entry in enumerate(entries):
        if isinstance(entry, st.SearchStrategy):  # a strategy of shapes or of arrays, from user code
            value = draw(entry)
            if isinstance(value, tuple):
                value = draw(values(value, dtype, Arg()))
            out.append(np.asarray(value))
            grads.append(np.asarray(value).dtype.kind == "f")
            continue
        shape = drawn_shapes[i] if i in drawn_shapes else draw(_shape_strategy(entry.shape))
        out.append(draw(values(shape, entry.dtype or dtype, entry)))
        grads.append(entry.grad and (entry.dtype is None or np.dtype(entry.dtype).kind == "f"))
    return Case(tuple(out), tuple(grads), {}, dtype)


def inputs_strategy(inputs: Any, dtype: str) -> st.SearchStrategy[Case]:
    """The Case strategy of an OpSpec's ``inputs``: a family name, a strategy of shape tuples, or entries."""
    if isinstance(inputs, str):
        return family_case(inputs, dtype)
    if isinstance(inputs, st.SearchStrategy):  # one strategy drawing all shapes together (broadcastable pairs)
        return inputs.flatmap(lambda drawn: _from_args([tuple(s) for s in drawn], dtype))
    return _from_args(list(inputs), dtype)


@st.composite
def case_for(draw: st.DrawFn, spec: OpSpec) -> Case:
    """dtype, inputs, options and the seed of the upstream gradients for one check of ``spec``."""
    dtype = draw(st.sampled_from(list(spec.dtypes)))
    case = draw(inputs_strategy(spec.inputs, dtype))
    return Case(case.arrays, case.grads, case.kwargs, dtype, draw(st.integers(0, 2**31 - 1)))
