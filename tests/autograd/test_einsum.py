"""``einsum`` against ``torch.einsum``: values, gradients and second order, for products, traces (a repeated
letter), letters summed away, ``...`` and the implicit output."""

from __future__ import annotations

import numpy as np
import pytest
import tapegrad.autograd as ag
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from tapegrad.autograd import ShapeError, Tensor
from tapegrad.autograd.testing import arrays

from tests.autograd.torchcheck import DTYPES, check_op, check_second_order

# equation: shapes of its operands
CASES = {
    "ij,jk->ik": ((2, 3), (3, 4)),
    "bij,bjk->bik": ((2, 2, 3), (2, 3, 2)),
    "ii->i": ((3, 3),),
    "ii": ((3, 3),),
    "ij->i": ((2, 3),),
    "i,j->ij": ((2,), (3,)),
    "iij,j": ((2, 2, 3), (3,)),
    "...ij,...jk": ((2, 2, 3), (2, 3, 2)),
    "ij,ij,ij->": ((2, 3), (2, 3), (2, 3)),
    "ji": ((2, 3),),
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("equation", sorted(CASES))
@settings(max_examples=10)
@given(data=st.data())
def test_einsum_matches_torch(equation: str, dtype: type, data: st.DataObject) -> None:
    xs = [data.draw(arrays(dtype, s, min_value=-2, max_value=2)) for s in CASES[equation]]
    check_op(lambda *t: ag.einsum(equation, *t), lambda *t: torch.einsum(equation, *t), xs)


@pytest.mark.parametrize("equation", sorted(CASES))
@settings(max_examples=5)
@given(data=st.data())
def test_einsum_second_order_matches_torch(equation: str, data: st.DataObject) -> None:
    xs = [data.draw(arrays(np.float64, s, min_value=-2, max_value=2)) for s in CASES[equation]]
    check_second_order(
        lambda *t: ag.einsum(equation, *t).tanh(), lambda *t: torch.einsum(equation, *t).tanh(), xs
    )


def test_operands_as_one_list_and_clear_errors() -> None:
    a, b = Tensor(np.ones((2, 3))), Tensor(np.ones((3, 4)))
    np.testing.assert_array_equal(ag.einsum("ij,jk", [a, b]).numpy(), np.full((2, 4), 3.0))
    with pytest.raises(ShapeError, match="size 2 in one operand and 3"):
        ag.einsum("ij,ij->i", a, Tensor(np.ones((3, 2))))
    with pytest.raises(ShapeError, match="2 operands but 1"):
        ag.einsum("ij,jk", a)
    with pytest.raises(ShapeError, match="do not fit"):
        ag.einsum("ijk", a)
