"""``nn.init``: PyTorch's gain and fan rules, and the distributions the initialisers draw from."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from tapegrad.autograd import Tensor, manual_seed
from tapegrad.nn import init

from tapegrad import nn

SHAPES = [(30, 20), (16, 8, 3, 3), (8, 4, 5, 1)]


@pytest.mark.parametrize("shape", SHAPES)
def test_fans_match_torch(shape):
    assert init._calculate_fan_in_and_fan_out(
        Tensor(np.zeros(shape))
    ) == torch.nn.init._calculate_fan_in_and_fan_out(torch.zeros(shape))
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        init._calculate_fan_in_and_fan_out(Tensor(np.zeros(5)))


@pytest.mark.parametrize(
    "args",
    [
        ("linear",),
        ("conv2d",),
        ("sigmoid",),
        ("tanh",),
        ("relu",),
        ("leaky_relu",),
        ("leaky_relu", 0.2),
        ("leaky_relu", math.sqrt(5)),
        ("selu",),
    ],
)
def test_gains_match_torch(args):
    assert init.calculate_gain(*args) == pytest.approx(torch.nn.init.calculate_gain(*args), rel=1e-12)


def _std_of_uniform(bound):
    return bound / math.sqrt(3)


CASES = {
    "kaiming_uniform_": (
        dict(a=0.0, mode="fan_in", nonlinearity="relu"),
        lambda fi, fo: _std_of_uniform(math.sqrt(6 / fi)),
    ),
    "kaiming_uniform_fan_out": (
        dict(mode="fan_out"),
        lambda fi, fo: _std_of_uniform(math.sqrt(3 * 2 / (1 + 0.0**2)) / math.sqrt(fo)),
    ),
    "kaiming_normal_": (dict(nonlinearity="relu"), lambda fi, fo: math.sqrt(2 / fi)),
    "xavier_uniform_": (dict(gain=2.0), lambda fi, fo: _std_of_uniform(2.0 * math.sqrt(6 / (fi + fo)))),
    "xavier_normal_": (dict(), lambda fi, fo: math.sqrt(2 / (fi + fo))),
}


@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_initialisers_draw_with_pytorchs_spread(case, dtype):
    kwargs, expected_std = CASES[case]
    name = case.replace("_fan_out", "_")
    t = Tensor(np.zeros((256, 64, 3, 3), dtype=dtype))
    fan_in, fan_out = 64 * 9, 256 * 9
    manual_seed(0)
    result = getattr(init, name)(t, **kwargs)
    assert result is t and t.dtype == dtype
    values = t.numpy()
    std = expected_std(fan_in, fan_out)
    # 147,456 draws: the sample std is within 1% and the mean within 4 standard errors
    np.testing.assert_allclose(values.std(), std, rtol=0.01)
    assert abs(values.mean()) < 4 * std / math.sqrt(values.size)
    # the torch twin, for the same spread
    twin = torch.zeros(values.shape, dtype=torch.float64)
    getattr(torch.nn.init, name)(twin, **kwargs)
    np.testing.assert_allclose(values.std(), twin.std().item(), rtol=0.02)
    if "uniform" in name:
        assert np.abs(values).max() <= std * math.sqrt(3) * (1 + 1e-6)


def test_constant_initialisers_and_plain_distributions():
    t = Tensor(np.zeros((100, 100)))
    assert np.all(init.ones_(t).numpy() == 1) and np.all(init.zeros_(t).numpy() == 0)
    assert np.all(init.constant_(t, 0.25).numpy() == 0.25)
    init.uniform_(t, -2.0, 3.0)
    assert t.numpy().min() >= -2.0 and t.numpy().max() < 3.0
    np.testing.assert_allclose(t.numpy().mean(), 0.5, atol=0.05)
    init.normal_(t, 1.0, 0.5)
    np.testing.assert_allclose([t.numpy().mean(), t.numpy().std()], [1.0, 0.5], rtol=0.02)


def test_manual_seed_makes_layer_initialisation_repeatable():
    manual_seed(3)
    a = nn.Conv2d(3, 4, 3).state_dict()
    manual_seed(3)
    b = nn.Conv2d(3, 4, 3).state_dict()
    for key in a:
        np.testing.assert_array_equal(a[key], b[key])


@pytest.mark.parametrize(
    "make,fan_in",
    [
        (lambda: nn.Conv2d(6, 8, (3, 2), groups=2), 3 * 3 * 2),
        (lambda: nn.ConvTranspose2d(4, 6, 3, groups=2), 3 * 9),
        (lambda: nn.Linear(50, 10), 50),
    ],
)
def test_layer_default_initialisation_bound_is_1_over_sqrt_fan_in(make, fan_in):
    """PyTorch's default: kaiming_uniform(a=sqrt(5)) == U(+-1/sqrt(fan_in)); the bias uses the same bound."""
    manual_seed(0)
    bound = 1 / math.sqrt(fan_in)
    weights = np.concatenate([make().weight.numpy().ravel() for _ in range(40)])
    biases = np.concatenate([make().bias.numpy().ravel() for _ in range(40)])
    assert np.abs(weights).max() <= bound and np.abs(weights).max() > 0.97 * bound
    assert np.abs(biases).max() <= bound and np.abs(biases).max() > 0.9 * bound
    np.testing.assert_allclose(weights.std(), bound / math.sqrt(3), rtol=0.05)
