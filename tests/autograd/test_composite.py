"""Random programs: Hypothesis composes ops into a DAG (values reused, so the tape has diamonds and fan-out)
and the whole program is compared with the same program in torch, first and second order."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import tapegrad.autograd as ag
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from tapegrad.autograd.testing import arrays

from tests.autograd.torchcheck import DTYPES, check_op, check_second_order

# each op: (name, ours, torch's); all keep the shape (3, 4) and stay smooth and bounded
UNARY: list[tuple[str, Callable[[Any], Any], Callable[[Any], Any]]] = [
    ("tanh", ag.tanh, torch.tanh),
    ("sigmoid", ag.sigmoid, torch.sigmoid),
    ("softplus", ag.softplus, torch.nn.functional.softplus),
    ("softmax0", lambda v: v.softmax(0), lambda v: v.softmax(0)),
    ("log_softmax1", lambda v: v.log_softmax(1), lambda v: v.log_softmax(1)),
    ("center", lambda v: v - v.mean(axis=1, keepdims=True), lambda v: v - v.mean(dim=1, keepdim=True)),
    ("scale", lambda v: v * 0.5 + 1.0, lambda v: v * 0.5 + 1.0),
    ("square", lambda v: v * v, lambda v: v * v),
    ("gram", lambda v: (v @ v.T) @ v * 0.1, lambda v: (v @ v.T) @ v * 0.1),
    ("lse_bcast", lambda v: v - v.logsumexp(axis=0, keepdims=True),
     lambda v: v - v.logsumexp(dim=0, keepdim=True)),
    ("flip", lambda v: v[::-1].reshape(3, 4), lambda v: v.flip(0).reshape(3, 4)),
    ("roll_cat", lambda v: ag.cat([v[:, 1:], v[:, :1]], 1), lambda v: torch.cat([v[:, 1:], v[:, :1]], 1)),
]
BINARY: list[tuple[str, Callable[[Any, Any], Any], Callable[[Any, Any], Any]]] = [
    ("add", lambda a, b: a + b, lambda a, b: a + b),
    ("mul", lambda a, b: a * b, lambda a, b: a * b),
    ("sub", lambda a, b: a - b, lambda a, b: a - b),
    ("safe_div", lambda a, b: a / (1.0 + b * b), lambda a, b: a / (1.0 + b * b)),
    ("where", lambda a, b: ag.where(a.detach() > b.detach(), a * b, b),
     lambda a, b: torch.where(a > b, a * b, b)),
    ("stack_sum", lambda a, b: ag.stack([a, b], 0).sum(0), lambda a, b: torch.stack([a, b], 0).sum(0)),
]


@st.composite
def programs(draw: st.DrawFn) -> list[tuple[str, tuple[int, ...]]]:
    """Steps naming an op and the earlier values (0 = the input) it reads."""
    steps = []
    for n in range(draw(st.integers(2, 6))):
        if draw(st.booleans()):
            name = draw(st.sampled_from([u[0] for u in UNARY]))
            steps.append((name, (draw(st.integers(0, n)),)))
        else:
            name = draw(st.sampled_from([b[0] for b in BINARY]))
            steps.append((name, (draw(st.integers(0, n)), draw(st.integers(0, n)))))
    return steps


def run(program: list[tuple[str, tuple[int, ...]]], which: int) -> Callable[..., Any]:
    table = {name: fns for name, *fns in UNARY + BINARY}

    def fn(x: Any) -> Any:
        values = [x]
        for name, reads in program:
            values.append(table[name][which](*(values[i] for i in reads)))
        return values[-1] + values[len(values) // 2]  # the last value and an earlier one: more fan-out

    return fn


@pytest.mark.parametrize("dtype", DTYPES)
@settings(max_examples=20)
@given(program=programs(), data=st.data())
def test_random_programs_match_torch(dtype: type, program, data: st.DataObject) -> None:
    x = data.draw(arrays(dtype, (3, 4), min_value=-2, max_value=2))
    check_op(run(program, 0), run(program, 1), [x])


@settings(max_examples=10)
@given(program=programs(), data=st.data())
def test_random_programs_second_order(program, data: st.DataObject) -> None:
    x = data.draw(arrays(np.float64, (3, 4), min_value=-2, max_value=2))
    check_second_order(run(program, 0), run(program, 1), [x])
