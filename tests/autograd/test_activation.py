"""The activations PyTorch users expect (sign, erf, relu6, hardsigmoid, hardswish, silu, mish, gelu exact and
tanh, elu, selu, softsign, leaky_relu) against torch: values, gradients and second-order gradients, as
functions, Tensor methods, ``nn.functional`` functions and ``nn`` modules."""

from __future__ import annotations

import numpy as np
import pytest
import tapegrad.autograd as ag
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from tapegrad.autograd import Tensor
from tapegrad.autograd.testing import arrays

from tapegrad import nn
from tests.autograd.torchcheck import DTYPES, check_op, check_second_order

# name: (ours, torch's, value range, kinks to keep away from; None = smooth)
OPS = {
    "sign": (ag.sign, torch.sign, (-3, 3), (0.0,)),
    "erf": (ag.erf, torch.erf, (-3, 3), ()),
    "relu6": (ag.relu6, F.relu6, (-2, 8), (0.0, 6.0)),
    "hardsigmoid": (ag.hardsigmoid, F.hardsigmoid, (-5, 5), (-3.0, 3.0)),
    "hardswish": (ag.hardswish, F.hardswish, (-5, 5), (-3.0, 3.0)),
    "silu": (ag.silu, F.silu, (-6, 6), ()),
    "mish": (ag.mish, F.mish, (-6, 6), ()),
    "gelu": (ag.gelu, F.gelu, (-4, 4), ()),
    "gelu_tanh": (lambda x: ag.gelu(x, approximate="tanh"), lambda x: F.gelu(x, approximate="tanh"), (-4, 4), ()),
    "elu": (lambda x: ag.elu(x, 0.7), lambda x: F.elu(x, 0.7), (-4, 4), (0.0,)),
    "selu": (ag.selu, F.selu, (-4, 4), (0.0,)),
    "softsign": (ag.softsign, F.softsign, (-4, 4), (0.0,)),
    "leaky_relu": (lambda x: ag.leaky_relu(x, 0.2), lambda x: F.leaky_relu(x, 0.2), (-4, 4), (0.0,)),
}


# torch's CPU backward of hardsigmoid/hardswish multiplies by float32 constants (1/6, 1/3) even in float64, so
# its float64 gradients are off by ~3e-8 relative; ours use float64 constants.  Float32 is compared as usual.
LOOSE_FLOAT64 = {"hardsigmoid", "hardswish"}


def _tolerance(name: str, dtype: type) -> dict[str, float]:
    return {"rtol": 1e-7, "atol": 1e-9} if name in LOOSE_FLOAT64 and dtype == np.float64 else {}


def _away(x: np.ndarray, kinks: tuple[float, ...]) -> np.ndarray:
    """Move values within 0.05 of a kink 0.1 past it, so both sides of the comparison take the same branch."""
    for k in kinks:
        x = np.where(np.abs(x - k) < 0.05, k + 0.1, x).astype(x.dtype)
    return x


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", sorted(OPS))
@given(data=st.data())
def test_activation_matches_torch(name: str, dtype: type, data: st.DataObject) -> None:
    ours, theirs, (low, high), kinks = OPS[name]
    x = _away(data.draw(arrays(dtype, min_value=low, max_value=high)), kinks)
    check_op(ours, theirs, [x], **_tolerance(name, dtype))


# torch has no double backward for these two: its reference is the same function composed of twice-differentiable ops
SECOND_ORDER_REFERENCE = {
    "hardsigmoid": lambda x: F.relu6(x + 3) / 6,
    "hardswish": lambda x: x * F.relu6(x + 3) / 6,
}


@pytest.mark.parametrize("name", sorted(OPS))
@settings(max_examples=15)
@given(data=st.data())
def test_activation_second_order_matches_torch(name: str, data: st.DataObject) -> None:
    ours, theirs, (low, high), kinks = OPS[name]
    x = _away(data.draw(arrays(np.float64, (2, 3), min_value=low, max_value=high)), kinks)
    reference = SECOND_ORDER_REFERENCE.get(name, theirs)
    # times x, so that a piecewise-linear op (whose own second derivative is 0) still leaves a connected graph
    check_second_order(lambda t: ours(t) * t, lambda t: reference(t) * t, [x])


METHODS = ["sign", "erf", "relu6", "hardsigmoid", "hardswish", "silu", "mish", "gelu", "elu", "selu", "softsign",
           "leaky_relu"]


@pytest.mark.parametrize("name", METHODS)
def test_tensor_method_functional_and_module_are_the_op(name: str) -> None:
    x = np.random.default_rng(1).uniform(-2.5, 2.5, size=(3, 4))
    expected = getattr(ag, name)(Tensor(x)).numpy()
    np.testing.assert_array_equal(getattr(Tensor(x), name)().numpy(), expected)
    if name not in ("sign", "erf"):
        np.testing.assert_array_equal(getattr(nn.functional, name)(Tensor(x)).numpy(), expected)
    module = {"relu6": "ReLU6", "hardsigmoid": "Hardsigmoid", "hardswish": "Hardswish", "silu": "SiLU",
              "mish": "Mish", "gelu": "GELU", "elu": "ELU", "selu": "SELU", "softsign": "Softsign",
              "leaky_relu": "LeakyReLU"}.get(name)
    if module:
        ours = getattr(nn, module)()(Tensor(x)).numpy()
        theirs = getattr(torch.nn, module)()(torch.from_numpy(x)).numpy()
        np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-12)


def test_gelu_rejects_an_unknown_approximation() -> None:
    with pytest.raises(ValueError, match="approximate must be 'none' or 'tanh'"):
        ag.gelu(Tensor([1.0]), approximate="fast")


def test_integer_input_becomes_float32_like_torch() -> None:
    x = np.array([-2, 0, 3])
    for name in ("silu", "mish", "gelu", "elu", "selu", "erf"):
        assert getattr(ag, name)(Tensor(x)).dtype == np.float32, name  # torch: "not implemented for Long"
