"""``x[index]`` against torch for basic and advanced indices (the gradient scatter-adds repeated indices),
boolean masks given as tensors or arrays, and constant padding."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import tapegrad.autograd as ag
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st
from tapegrad.autograd import Tensor, grad
from tapegrad.autograd.testing import advanced_indices, arrays, basic_indices, shapes

from tests.autograd.torchcheck import DTYPES, check_op, fixture_ok


def to_torch_index(index: Any) -> Any:
    if isinstance(index, tuple):
        return tuple(to_torch_index(i) for i in index)
    if isinstance(index, np.ndarray):
        return torch.from_numpy(index)
    return index


def to_our_index(index: Any, wrap: bool) -> Any:
    """Arrays inside an index, optionally wrapped in Tensors (both must work)."""
    if isinstance(index, tuple):
        return tuple(to_our_index(i, wrap) for i in index)
    if isinstance(index, np.ndarray) and wrap:
        return Tensor(index)
    return index


@fixture_ok
@pytest.mark.parametrize("dtype", DTYPES)
@given(data=st.data())
def test_basic_indexing(dtype: type, device: str, data: st.DataObject) -> None:
    shape = data.draw(shapes())
    x = data.draw(arrays(dtype, shape))
    index = data.draw(basic_indices(shape))
    check_op(lambda t: t[index], lambda t: t[index], [x], device)


@fixture_ok
@pytest.mark.parametrize("dtype", DTYPES)
@given(data=st.data())
def test_advanced_indexing_scatter_adds_repeats(dtype: type, device: str, data: st.DataObject) -> None:
    shape = data.draw(shapes(min_dims=1))
    x = data.draw(arrays(dtype, shape))
    index = data.draw(advanced_indices(shape))
    wrap = data.draw(st.booleans())
    ours, theirs = to_our_index(index, wrap), to_torch_index(index)
    check_op(lambda t: t[ours], lambda t: t[theirs], [x], device)
    check_op(lambda t: ag.getitem(t, ours) * 2.0, lambda t: t[theirs] * 2.0, [x], device)


def test_repeated_indices_accumulate() -> None:
    x = Tensor(np.arange(4.0), requires_grad=True)
    index = np.array([0, 0, 2, 0, -1])
    upstream = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    x[index].backward(upstream)
    np.testing.assert_array_equal(x.grad.numpy(), np.array([7.0, 0.0, 3.0, 5.0]))


@pytest.mark.parametrize("dtype", DTYPES)
@given(data=st.data())
def test_boolean_mask_tensor_from_a_comparison(dtype: type, data: st.DataObject) -> None:
    shape = data.draw(shapes(min_dims=1))
    x = data.draw(arrays(dtype, shape, min_value=-2, max_value=2))
    check_op(lambda t: t[t.detach() > 0.5], lambda t: t[t.detach() > 0.5], [x])
    check_op(lambda t: t[(t > 0).data], lambda t: t[t > 0], [x])


def test_index_with_integer_tensor_and_slices_mixed() -> None:
    x = np.random.default_rng(0).standard_normal((3, 4, 5))
    rows = np.array([[0, 2], [1, 1]])
    check_op(lambda t: t[Tensor(rows), 1:3], lambda t: t[torch.from_numpy(rows), 1:3], [x])
    check_op(lambda t: t[..., Tensor(rows)], lambda t: t[..., torch.from_numpy(rows)], [x])
    # NumPy and torch differ on t[1, :, [4, 0]] (NumPy counts the int as an advanced index): we are NumPy
    check_op(lambda t: t[None, 1][:, :, [4, 0, 4]], lambda t: t[None, 1][:, :, [4, 0, 4]], [x])


def test_index_gradient_supports_double_backward() -> None:
    x = Tensor(np.array([1.0, 2.0, 3.0]), requires_grad=True)
    y = (x[np.array([0, 0, 2])] ** 3).sum()
    (g,) = grad(y, x, create_graph=True)
    (gg,) = grad(g.sum(), x)
    np.testing.assert_allclose(gg.numpy(), np.array([12.0, 0.0, 18.0]))  # 2 * 6x at 0, 6x at 2


@st.composite
def pad_cases(draw: st.DrawFn) -> tuple[tuple[int, ...], tuple[tuple[int, int], ...]]:
    shape = draw(shapes(min_dims=1, min_side=1, max_dims=3))
    widths = tuple((draw(st.integers(0, 2)), draw(st.integers(0, 2))) for _ in shape)
    return shape, widths


def torch_pad(widths: tuple[tuple[int, int], ...], value: float) -> Any:
    flat = [w for pair in reversed(widths) for w in pair]  # torch lists the last dim first
    return lambda t: F.pad(t, flat, mode="constant", value=value)


@fixture_ok
@pytest.mark.parametrize("dtype", DTYPES)
@given(data=st.data())
def test_constant_pad(dtype: type, device: str, data: st.DataObject) -> None:
    shape, widths = data.draw(pad_cases())
    value = data.draw(st.sampled_from([0.0, -1.5, 2.0]))
    x = data.draw(arrays(dtype, shape))
    check_op(lambda t: t.pad(widths, value), torch_pad(widths, value), [x], device)
    check_op(lambda t: ag.pad(t, 1), torch_pad(((1, 1),) * len(shape), 0.0), [x], device)
    check_op(lambda t: ag.pad(t, (2, 0)), torch_pad(((2, 0),) * len(shape), 0.0), [x], device)


def test_pad_rejects_bad_widths() -> None:
    x = Tensor(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="pad"):
        x.pad(((1, 1),))
    with pytest.raises(ValueError, match="pad"):
        x.pad(((1, -1), (0, 0)))
