"""One window geometry and one argument parser for every window op."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from tapegrad.autograd import Tensor
from tapegrad.autograd.errors import ArgumentError, ShapeError
from tapegrad.nn.functional.geometry import Geometry, pair

from tapegrad import nn


@pytest.mark.parametrize(
    "value, expected", [(3, (3, 3)), ((2, 3), (2, 3)), ([4], (4, 4)), (np.int64(2), (2, 2))]
)
def test_pair_accepts_an_int_or_a_pair(value, expected) -> None:
    assert pair(value, "stride", "op", 1) == expected


@pytest.mark.parametrize("value", [(1, 2, 3), 1.5, "2", (1, None), True, 0, (1, 0)])
def test_pair_refuses_anything_else_with_one_error_type(value) -> None:
    with pytest.raises(ArgumentError, match=r"op: stride must be") as info:
        pair(value, "stride", "op", 1)
    assert isinstance(info.value, TypeError) and isinstance(info.value, ValueError)


@pytest.mark.parametrize("stride, padding, dilation, output_padding", [(1, 0, 1, 0), (2, 1, 1, 1), (3, 2, 2, 1)])
def test_transposed_geometry_names_the_image_and_the_grid_like_the_forward_one(
    stride, padding, dilation, output_padding
) -> None:
    x = torch.zeros(1, 2, 5, 4)
    out = TF.conv_transpose2d(x, torch.zeros(2, 1, 3, 2), None, stride, padding, output_padding, 1, dilation)
    geo = Geometry.make("t", (5, 4), (3, 2), stride, padding, dilation, transposed=True,
                        output_padding=output_padding)
    assert geo.in_hw == (5, 4) and geo.out_hw == tuple(out.shape[2:])
    assert (geo.h, geo.w) == geo.out_hw and (geo.grid_h, geo.grid_w) == geo.in_hw
    forward = Geometry.make("c", geo.out_hw, (3, 2), stride, padding, dilation)
    assert (forward.h, forward.w) == (geo.h, geo.w) and forward.grid_h >= geo.grid_h


def test_pooling_rules_and_ceil_mode_match_torch() -> None:
    for size, kernel, stride, padding in [(7, 3, 2, 1), (8, 2, 3, 0), (5, 4, 4, 2)]:
        ref = TF.max_pool2d(torch.zeros(1, 1, size, size), kernel, stride, padding, ceil_mode=True)
        geo = Geometry.make("max_pool2d", (size, size), kernel, stride, padding, ceil_mode=True)
        assert geo.out_hw == tuple(ref.shape[2:])
    with pytest.raises(ArgumentError, match=r"max_pool2d: padding \(2, 2\) must be at most half"):
        Geometry.make("max_pool2d", (8, 8), 3, None, 2)
    with pytest.raises(ShapeError, match=r"spans 5 pixels vertically but the padded input has only 4"):
        Geometry.make("conv2d", (4, 9), 3, 1, 0, 2)


def test_a_module_delegates_its_window_checks_and_its_name_stays_in_the_error() -> None:
    x = Tensor(np.zeros((1, 1, 3, 3), np.float32))
    with pytest.raises(ShapeError, match=r"^MaxPool2d\(kernel_size=4.*max_pool2d: the window \(4x4"):
        nn.MaxPool2d(4)(x)
    with pytest.raises(ArgumentError, match=r"^AvgPool2d\(.*avg_pool2d: stride must be positive"):
        nn.AvgPool2d(2, stride=0)(x)
