"""The Tensor itself: construction and dtypes (like torch), conversions, detach, repr, Python protocols."""

from __future__ import annotations

import numpy as np
import pytest
import tapegrad.autograd as ag
import torch
from tapegrad.autograd import Tensor, tensor


@pytest.mark.parametrize(
    "data",
    [[1.0, 2.0], [[1, 2], [3, 4]], [True, False], 3.5, 7, [[1.5], [2]]],
    ids=["floats", "ints", "bools", "float", "int", "mixed"],
)
def test_default_dtypes_follow_torch(data) -> None:
    assert Tensor(data).dtype == torch.tensor(data).numpy().dtype
    assert tensor(data).shape == tuple(torch.tensor(data).shape)


def test_numpy_dtypes_are_kept_and_dtype_argument_wins() -> None:
    assert Tensor(np.zeros(2, np.float64)).dtype == np.float64
    assert Tensor(np.zeros(2, np.int32)).dtype == np.int32
    assert Tensor([1, 2], dtype=np.float64).dtype == np.float64
    assert Tensor(Tensor([1.0])).dtype == np.float32


@pytest.mark.host_only  # NumPy operands / CPU defaults: the device pass deselects it
def test_properties() -> None:
    x = Tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    assert (x.shape, x.ndim, x.size, x.numel(), x.dim(), len(x)) == ((2, 3), 2, 6, 6, 2, 2)
    assert x.device == "cpu" and x.is_leaf and x.grad is None and x.requires_grad
    assert not (x * 2.0).is_leaf
    np.testing.assert_array_equal(x.T.numpy(), x.numpy().T)
    assert x.tolist() == [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]]
    assert Tensor([2.5]).item() == 2.5 and float(Tensor(1.5)) == 1.5 and int(Tensor(3)) == 3
    assert [10, 20, 30][Tensor(2)] == 30


@pytest.mark.host_only  # NumPy operands / CPU defaults: the device pass deselects it
def test_numpy_and_array_protocol() -> None:
    data = np.arange(3.0)
    x = Tensor(data)
    assert x.numpy() is x.data
    np.testing.assert_array_equal(np.asarray(x), data)
    assert np.asarray(x, dtype=np.float32).dtype == np.float32


@pytest.mark.host_only  # NumPy operands / CPU defaults: the device pass deselects it
def test_ndarray_on_the_left_gives_a_tensor() -> None:
    x = Tensor(np.ones(2), requires_grad=True)
    y = np.array([2.0, 3.0]) * x
    assert isinstance(y, Tensor) and y.requires_grad
    np.testing.assert_array_equal((np.array([1.0, 1.0]) - x).numpy(), [0.0, 0.0])


def test_detach_shares_data_and_cuts_the_graph() -> None:
    x = Tensor(np.ones(2), requires_grad=True)
    y = x * 2.0
    d = y.detach()
    assert d.data is y.data and d.grad_fn is None and not d.requires_grad


@pytest.mark.host_only  # NumPy operands / CPU defaults: the device pass deselects it
def test_to_cpu_is_a_no_op_and_dtype_change_is_differentiable() -> None:
    x = Tensor(np.ones(2, np.float32), requires_grad=True)
    assert x.to("cpu") is x and x.cpu() is x
    y = x.to(dtype=np.float64)
    assert y.dtype == np.float64 and y.requires_grad
    (y * 2.0).sum().backward()
    assert x.grad.dtype == np.float32


@pytest.mark.host_only  # NumPy operands / CPU defaults: the device pass deselects it
def test_repr_shows_dtype_and_grad_fn() -> None:
    assert repr(Tensor([1.0, 2.0])) == "tensor([1., 2.])"
    assert "dtype=float64" in repr(Tensor(np.zeros(1)))
    assert "requires_grad=True" in repr(Tensor([1.0], requires_grad=True))
    assert "grad_fn=<MulBackward>" in repr(Tensor([1.0], requires_grad=True) * 2.0)


def test_bool_of_one_element_and_comparisons_give_tensors() -> None:
    assert bool(Tensor([3.0]) > 2.0)
    assert not bool(Tensor(0.0))
    eq = Tensor([1.0, 2.0]) == Tensor([1.0, 3.0])
    assert isinstance(eq, Tensor) and eq.tolist() == [True, False]
    assert len({Tensor([1.0]), Tensor([1.0])}) == 2  # hashed by identity, like torch


def test_creation_functions() -> None:
    assert ag.zeros(2, 3).shape == (2, 3) and ag.zeros(2, 3).dtype == np.float32
    assert ag.ones((2,), dtype=np.float64).dtype == np.float64
    assert ag.full((2, 2), 7.0).tolist() == [[7.0, 7.0], [7.0, 7.0]]
    assert ag.arange(3).dtype == np.int64 and ag.arange(0.0, 1.0, 0.5).dtype == np.float32
    np.testing.assert_array_equal(ag.eye(2).numpy(), np.eye(2))
    assert ag.randn(3, 4, requires_grad=True).requires_grad
    ag.manual_seed(5)
    a = ag.rand(3)
    ag.manual_seed(5)
    np.testing.assert_array_equal(a.numpy(), ag.rand(3).numpy())
    z = ag.zeros_like(Tensor(np.ones((2, 2))))
    assert z.dtype == np.float64 and not z.numpy().any()
    assert ag.ones_like(Tensor(np.ones(2)), dtype=np.int64).tolist() == [1, 1]
