"""ReLU forward/backward and the bias(+ReLU) epilogue: compiled == NumPy reference."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from tapegrad.autograd import kernels
from tapegrad.autograd.kernels import activation

from .strategies import DTYPES, assert_same, float_arrays

shapes = st.lists(st.integers(1, 7), min_size=1, max_size=4).map(tuple)


@given(st.data(), shapes, st.sampled_from(DTYPES))
def test_relu_forward(data, shape, dtype) -> None:  # noqa: ANN001
    x = data.draw(float_arrays(shape, dtype))
    assert_same(activation.relu_forward_compiled(x), activation.relu_forward_numpy(x))
    assert_same(kernels.relu_forward(x), activation.relu_forward_numpy(x))


@given(st.data(), shapes, st.sampled_from(DTYPES))
def test_relu_backward(data, shape, dtype) -> None:  # noqa: ANN001
    g = data.draw(float_arrays(shape, dtype))
    out = activation.relu_forward_numpy(data.draw(float_arrays(shape, dtype, ties=True)))
    assert_same(activation.relu_backward_compiled(g, out), activation.relu_backward_numpy(g, out))
    assert_same(kernels.relu_backward(g, out), activation.relu_backward_numpy(g, out))


@given(st.data(), st.integers(1, 4), st.integers(1, 6), st.integers(1, 9), st.sampled_from(DTYPES), st.booleans(),
       st.booleans())
def test_bias_act(data, n, o, s, dtype, relu, with_bias) -> None:  # noqa: ANN001
    y = data.draw(float_arrays((n, o, s, 1), dtype))
    bias = data.draw(float_arrays((o,), dtype)) if with_bias else None
    expected = activation.bias_act_numpy(y.copy(), bias, relu)
    assert_same(activation.bias_act_compiled(np.array(y, order="C"), bias, relu), expected)
    assert_same(kernels.bias_act(y.copy(), bias, relu), expected)
