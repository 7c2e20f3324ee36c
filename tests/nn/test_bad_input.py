"""Bad input is a clear error that names the layer (or function), the shapes/dtypes it got and what it
expected — never a raw NumPy traceback, never a silent wrong answer."""

from __future__ import annotations

import numpy as np
import pytest
from tapegrad.autograd import Tensor
from tapegrad.autograd.errors import DTypeError, ShapeError
from tapegrad.nn import functional as F

from tapegrad import nn


def _x(*shape, dtype=np.float32):
    return Tensor(np.random.default_rng(0).standard_normal(shape).astype(dtype))


def test_wrong_channel_count_names_the_layer_and_shapes():
    with pytest.raises(ShapeError, match=r"Conv2d\(3, 8, .*C=3 channels, got float32\[2, 1, 28, 28\]"):
        nn.Conv2d(3, 8, 3)(_x(2, 1, 28, 28))
    with pytest.raises(ShapeError, match=r"ConvTranspose2d\(4, 2, .*C=4 channels, got float32\[1, 3, 5, 5\]"):
        nn.ConvTranspose2d(4, 2, 3)(_x(1, 3, 5, 5))
    with pytest.raises(
        ShapeError, match=r"BatchNorm2d\(6, .*6 channels on axis 1, got float32\[2, 5, 4, 4\]"
    ):
        nn.BatchNorm2d(6)(_x(2, 5, 4, 4))
    with pytest.raises(ShapeError, match=r"BatchNorm1d\(6, .*2-D or 3-D input.*got float32\[2, 6, 4, 4\]"):
        nn.BatchNorm1d(6)(_x(2, 6, 4, 4))
    with pytest.raises(ShapeError, match=r"Linear\(in_features=10, .*10 features.*got float32\[4, 12\]"):
        nn.Linear(10, 3)(_x(4, 12))
    with pytest.raises(ShapeError, match=r"Conv2d.*4-D input.*got float32\[3, 8, 8\]"):
        nn.Conv2d(3, 4, 3)(_x(3, 8, 8))


def test_inside_a_sequential_the_error_says_which_layer():
    model = nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.Flatten(), nn.Linear(50, 2))
    with pytest.raises(
        ShapeError, match=r"Sequential layer \(3\): Linear\(in_features=50.*got float32\[2, 144\]"
    ):
        model(_x(2, 1, 8, 8))


def test_kernel_or_window_larger_than_the_padded_input():
    with pytest.raises(ShapeError, match=r"Conv2d\(1, 1, kernel_size=\(5, 5\).*spans 5 pixels.*only 3"):
        nn.Conv2d(1, 1, 5)(_x(1, 1, 3, 3))
    with pytest.raises(ShapeError, match=r"Conv2d.*dilated.*spans 5 pixels.*only 4"):
        nn.Conv2d(1, 1, 3, dilation=2)(_x(1, 1, 4, 9))
    nn.Conv2d(1, 1, 5, padding=1)(_x(1, 1, 3, 3))  # 3 + 2 * 1 = 5: fits exactly
    with pytest.raises(
        ShapeError, match=r"MaxPool2d\(kernel_size=4.*spans 4 pixels.*only 3.*float32\[1, 2, 3, 3\]"
    ):
        nn.MaxPool2d(4)(_x(1, 2, 3, 3))
    with pytest.raises(ShapeError, match=r"AvgPool2d.*spans 3 pixels.*only 2"):
        nn.AvgPool2d(3)(_x(1, 1, 2, 5))


def test_bad_layer_configurations():
    with pytest.raises(ValueError, match=r"Conv2d: in_channels \(3\) and out_channels \(4\).*groups \(2\)"):
        nn.Conv2d(3, 4, 3, groups=2)
    with pytest.raises(ValueError, match="kernel_size, stride and dilation must be positive"):
        nn.Conv2d(1, 1, 0)
    with pytest.raises(ValueError, match="output_padding"):
        nn.ConvTranspose2d(1, 1, 3, stride=1, output_padding=1)
    with pytest.raises(TypeError, match="kernel_size must be an int or a pair"):
        nn.Conv2d(1, 1, (1, 2, 3))
    with pytest.raises(ValueError, match="Linear: features must be positive"):
        nn.Linear(0, 3)


def test_non_integer_targets():
    logits = _x(4, 3)
    with pytest.raises(
        DTypeError, match=r"cross_entropy: target must hold integer class indices.*float32\[4\]"
    ):
        F.cross_entropy(logits, Tensor(np.array([0.0, 1.0, 2.0, 1.0], np.float32)))
    with pytest.raises(DTypeError, match=r"nll_loss: target must hold integer.*float64\[4\]"):
        nn.NLLLoss()(logits, np.array([0.0, 1.0, 2.0, 1.0]))
    with pytest.raises(DTypeError, match="cross_entropy: input must be floating point"):
        F.cross_entropy(Tensor(np.zeros((2, 3), np.int64)), np.array([0, 1]))


def test_targets_out_of_range():
    logits = _x(4, 3)
    with pytest.raises(
        ValueError, match=r"cross_entropy: target 3 is out of range for input float32\[4, 3\] with 3"
    ):
        nn.CrossEntropyLoss()(logits, np.array([0, 3, 1, 2]))
    with pytest.raises(ValueError, match="target -1 is out of range"):
        F.cross_entropy(logits, np.array([0, -1, 1, 2]))
    F.cross_entropy(logits, np.array([0, -100, 1, 2]))  # the ignore_index is not out of range
    with pytest.raises(ValueError, match="target -100 is out of range"):
        F.cross_entropy(logits, np.array([0, -100, 1, 2]), ignore_index=0)


def test_mismatched_batch_sizes_and_shapes():
    with pytest.raises(
        ShapeError,
        match=r"cross_entropy: input float32\[4, 3\] needs a target of shape \(4,\).*"
        r"batch size 4.*int64\[5\]",
    ):
        F.cross_entropy(_x(4, 3), np.zeros(5, np.int64))
    with pytest.raises(ShapeError, match=r"needs a target of shape \(2, 5\)"):
        F.cross_entropy(_x(2, 3, 5), np.zeros((2, 4), np.int64))
    with pytest.raises(ShapeError, match=r"weight must have shape \(3,\)"):
        F.cross_entropy(_x(4, 3), np.zeros(4, np.int64), weight=np.ones(4, np.float32))
    with pytest.raises(ShapeError, match=r"mse_loss: input float32\[4, 3\] and target float32\[4, 1\]"):
        nn.MSELoss()(_x(4, 3), _x(4, 1))
    with pytest.raises(ValueError, match="reduction must be one of"):
        F.cross_entropy(_x(4, 3), np.zeros(4, np.int64), reduction="avg")
    with pytest.raises(ShapeError, match=r"linear: input float32\[2, 5\] must have 4 features"):
        F.linear(_x(2, 5), _x(3, 4))
    with pytest.raises(ShapeError, match=r"MaxUnpool2d.*indices int64\[1, 1, 2, 2\].*float32\[1, 1, 3, 3\]"):
        nn.MaxUnpool2d(2)(_x(1, 1, 3, 3), Tensor(np.zeros((1, 1, 2, 2), np.int64)))


def test_nan_producing_configurations_are_refused():
    # the batch variance of a single value per channel is 0: PyTorch refuses it too
    with pytest.raises(ValueError, match=r"BatchNorm1d\(4, .*more than 1 value per channel.*float32\[1, 4\]"):
        nn.BatchNorm1d(4)(_x(1, 4))
    with pytest.raises(
        ValueError, match=r"BatchNorm2d\(2, .*more than 1 value per channel.*float32\[1, 2, 1, 1\]"
    ):
        nn.BatchNorm2d(2)(_x(1, 2, 1, 1))
    layer = nn.BatchNorm1d(4)
    layer(_x(1, 4, 3))  # one sample but 3 values per channel is fine
    assert int(layer.num_batches_tracked.item()) == 1
    with pytest.raises(ValueError, match="eps must be positive"):
        nn.BatchNorm2d(3, eps=0.0)
    with pytest.raises(ValueError, match="eps must be positive"):
        F.batch_norm(_x(2, 3), None, None, eps=-1e-5, training=True)
    with pytest.raises(ValueError, match="probability p must be between 0 and 1"):
        F.dropout(_x(3), p=1.5)
    with pytest.raises(ValueError, match="label_smoothing must be in"):
        F.cross_entropy(_x(2, 3), np.array([0, 1]), label_smoothing=1.5)
    params = [nn.Parameter(np.ones(3))]
    with pytest.raises(ValueError, match="invalid learning rate nan"):
        nn.optim.SGD(params, lr=float("nan"))
    with pytest.raises(ValueError, match="betas"):
        nn.optim.Adam(params, betas=(1.0, 0.999))


def test_load_state_dict_from_the_wrong_model_is_refused_and_changes_nothing():
    model = nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.Linear(8, 2))
    before = model.state_dict()
    other = nn.Sequential(nn.Conv2d(1, 6, 3), nn.ReLU(), nn.Linear(8, 2)).state_dict()
    with pytest.raises(
        nn.StateDictError, match=r"size mismatch for 0.weight.*\(6, 1, 3, 3\).*\(4, 1, 3, 3\)"
    ):
        model.load_state_dict(other)
    for key, value in model.state_dict().items():
        np.testing.assert_array_equal(value, before[key])
