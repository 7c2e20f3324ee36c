"""ReLU forward/backward and the bias(+ReLU) epilogue: compiled == NumPy reference."""

from __future__ import annotations

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

