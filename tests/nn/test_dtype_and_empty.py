"""Layers on an empty batch and on mixed dtypes, as PyTorch does (issue 14, defect 4).

BatchNorm2d on N = 0 returns an empty output (training: running statistics unchanged, the batch still counted);
Linear, like Conv2d, refuses an input whose dtype differs from its weight's instead of promoting it silently.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from tapegrad.autograd import Tensor
from tapegrad.autograd.errors import DTypeError
from tapegrad.nn import functional as F

from tapegrad import nn


@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("kind, shape", [("BatchNorm2d", (0, 3, 4, 4)), ("BatchNorm1d", (0, 3)),
                                         ("BatchNorm1d", (0, 3, 5))])
def test_batchnorm_on_an_empty_batch_returns_empty_like_torch(kind, shape, training):
    ours, theirs = getattr(nn, kind)(3).train(training), getattr(torch.nn, kind)(3).train(training)
    x = Tensor(np.zeros(shape, np.float32), requires_grad=True)
    out = ours(x)
    expected = theirs(torch.zeros(shape))
    assert out.shape == tuple(expected.shape) == shape
    out.sum().backward()
    assert x.grad.shape == shape
    np.testing.assert_array_equal(ours.running_mean.numpy(), theirs.running_mean.numpy())
    np.testing.assert_array_equal(ours.running_var.numpy(), theirs.running_var.numpy())
    assert int(ours.num_batches_tracked.numpy()) == int(theirs.num_batches_tracked)


def test_batchnorm_training_on_one_value_per_channel_still_raises_like_torch():
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        nn.BatchNorm1d(3)(Tensor(np.zeros((1, 3), np.float32)))
    with pytest.raises(ValueError):
        torch.nn.BatchNorm1d(3)(torch.zeros(1, 3))


@pytest.mark.parametrize("x_dtype", [np.float64, np.float16, np.int64, np.int32])
def test_linear_refuses_another_dtype_like_torch_and_conv2d(x_dtype):
    layer = nn.Linear(4, 2)
    x = np.ones((3, 4), dtype=x_dtype)
    with pytest.raises(DTypeError, match="same dtype"):
        layer(Tensor(x))
    with pytest.raises(DTypeError, match="same dtype"):
        F.linear(Tensor(x), layer.weight)
    with pytest.raises(RuntimeError):  # PyTorch: "mat1 and mat2 must have the same dtype"
        torch.nn.Linear(4, 2)(torch.tensor(x))
    with pytest.raises(DTypeError):  # Conv2d has always refused it
        nn.Conv2d(1, 1, 1)(Tensor(np.ones((1, 1, 2, 2), dtype=x_dtype)))


def test_linear_refuses_a_bias_of_another_dtype():
    w = Tensor(np.ones((2, 4), np.float32))
    with pytest.raises(DTypeError, match="bias"):
        F.linear(Tensor(np.ones((3, 4), np.float32)), w, Tensor(np.ones(2, np.float64)))


def test_linear_in_float64_still_works_when_the_layer_is_float64():
    layer = nn.Linear(4, 2).to(dtype=np.float64)
    assert layer(Tensor(np.ones((3, 4)))).dtype == np.float64
