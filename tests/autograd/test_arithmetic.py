"""+ - * / ** @ and negation against torch: values and gradients, broadcasting, scalars, integer tensors."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from tapegrad.autograd import Tensor, matmul
from tapegrad.autograd.testing import arrays, broadcastable_shapes

from tests.autograd.torchcheck import DTYPES, check_op, fixture_ok

BINARY = {
    "add": (lambda a, b: a + b, 0.0),
    "sub": (lambda a, b: a - b, 0.0),
    "mul": (lambda a, b: a * b, 0.0),
    "div": (lambda a, b: a / b, 0.5),  # keep the denominator away from 0
}


@fixture_ok
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", sorted(BINARY))
@given(data=st.data())
def test_binary_ops_broadcast_like_torch(name: str, dtype: type, device: str, data: st.DataObject) -> None:
    fn, min_magnitude = BINARY[name]
    sa, sb = data.draw(broadcastable_shapes(2))
    a = data.draw(arrays(dtype, sa, min_value=-3, max_value=3))
    b = data.draw(arrays(dtype, sb, min_value=-3, max_value=3, min_magnitude=min_magnitude))
    check_op(fn, fn, [a, b], device)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", sorted(BINARY))
@given(data=st.data())
def test_python_scalar_on_either_side_keeps_dtype(name: str, dtype: type, data: st.DataObject) -> None:
    fn, min_magnitude = BINARY[name]
    x = data.draw(arrays(dtype, min_value=-3, max_value=3, min_magnitude=min_magnitude))
    c = data.draw(st.floats(0.5, 3.0) | st.integers(1, 3))
    check_op(lambda t: fn(t, c), lambda t: fn(t, c), [x])
    check_op(lambda t: fn(c, t), lambda t: fn(c, t), [x])


@given(data=st.data())
def test_only_one_operand_requires_grad(data: st.DataObject) -> None:
    sa, sb = data.draw(broadcastable_shapes(2))
    a = data.draw(arrays(np.float64, sa, min_value=-3, max_value=3))
    b = data.draw(arrays(np.float64, sb, min_value=-3, max_value=3, min_magnitude=0.5))
    for fn, _ in BINARY.values():
        check_op(fn, fn, [a, b], differentiable=[False, True])
        check_op(fn, fn, [a, b], differentiable=[True, False])


@fixture_ok
@pytest.mark.parametrize("dtype", DTYPES)
@given(data=st.data())
def test_pow_with_tensor_base_and_exponent(dtype: type, device: str, data: st.DataObject) -> None:
    sa, sb = data.draw(broadcastable_shapes(2))
    base = data.draw(arrays(dtype, sa, min_value=0.5, max_value=3))
    exponent = data.draw(arrays(dtype, sb, min_value=-2, max_value=2))
    check_op(lambda a, b: a**b, lambda a, b: a**b, [base, exponent], device)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("exponent", [2, 3, -1, 0.5, 1.5, -2.5, 0])
@given(data=st.data())
def test_pow_with_scalar_exponent(dtype: type, exponent: float, data: st.DataObject) -> None:
    # integer exponents also take negative bases; fractional ones need a positive base
    low = -3 if float(exponent).is_integer() else 0.5
    x = data.draw(arrays(dtype, min_value=low, max_value=3, min_magnitude=0.5))
    check_op(lambda t: t**exponent, lambda t: t**exponent, [x])


@pytest.mark.parametrize("dtype", DTYPES)
@given(data=st.data())
def test_scalar_base_power(dtype: type, data: st.DataObject) -> None:
    x = data.draw(arrays(dtype, min_value=-2, max_value=2))
    base = data.draw(st.sampled_from([2, 0.5, 3.0, np.e]))
    check_op(lambda t: base**t, lambda t: base**t, [x])


@pytest.mark.filterwarnings("ignore:divide by zero:RuntimeWarning", "ignore:invalid value:RuntimeWarning")
def test_pow_gradients_at_zero_follow_torch() -> None:
    # 0 ** 0 has gradient 0 in both arguments, x ** 0 has gradient 0 everywhere (not 0 * inf = NaN)
    base = np.array([0.0, 0.0, 1.5, 2.0])
    exponent = np.array([0.0, 2.0, 0.0, 3.0])
    check_op(lambda a, b: a**b, lambda a, b: a**b, [base, exponent])
    check_op(lambda a: a**0, lambda a: a**0, [base])
    check_op(lambda a: a**0.0, lambda a: a**0.0, [base])


@fixture_ok
@pytest.mark.parametrize("dtype", DTYPES)
@given(data=st.data())
def test_neg(dtype: type, device: str, data: st.DataObject) -> None:
    check_op(lambda t: -t, lambda t: -t, [data.draw(arrays(dtype))], device)


@st.composite
def matmul_shapes(draw: st.DrawFn) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """Operand shapes torch.matmul accepts: 1-D on either side, and broadcast batch dimensions."""
    n, k, m = draw(st.integers(0, 4)), draw(st.integers(0, 4)), draw(st.integers(0, 4))
    batch_a, batch_b = draw(broadcastable_shapes(2, max_dims=2))
    left = draw(st.sampled_from(["vector", "matrix"]))
    right = draw(st.sampled_from(["vector", "matrix"]))
    a = (k,) if left == "vector" else (*batch_a, n, k)
    b = (k,) if right == "vector" else (*batch_b, k, m)
    return a, b


@fixture_ok
@pytest.mark.parametrize("dtype", DTYPES)
@given(data=st.data())
def test_matmul_with_batch_broadcasting_and_vectors(dtype: type, device: str, data: st.DataObject) -> None:
    sa, sb = data.draw(matmul_shapes())
    a = data.draw(arrays(dtype, sa, min_value=-2, max_value=2))
    b = data.draw(arrays(dtype, sb, min_value=-2, max_value=2))
    check_op(lambda x, y: x @ y, lambda x, y: x @ y, [a, b], device)
    check_op(matmul, torch.matmul, [a, b], device)


@pytest.mark.host_only  # NumPy operands / CPU defaults: the device pass deselects it
def test_matmul_with_numpy_operand_on_the_left() -> None:
    a = np.random.default_rng(0).standard_normal((2, 3))
    b = np.random.default_rng(1).standard_normal((3, 4))
    check_op(lambda y: a @ y, lambda y: torch.from_numpy(a) @ y, [b])


INT_CASES = [
    ("int + int", lambda a, b: a + b, np.int64, np.int64),
    ("int * int", lambda a, b: a * b, np.int64, np.int64),
    ("int - int", lambda a, b: a - b, np.int64, np.int64),
    ("int / int", lambda a, b: a / b, np.int64, np.int64),
    ("int ** int", lambda a, b: a**b, np.int64, np.int64),
    ("int * float32", lambda a, b: a * b, np.int64, np.float32),
    ("float64 + int", lambda a, b: a + b, np.float64, np.int64),
    ("bool * float32", lambda a, b: a * b, np.bool_, np.float32),
    ("bool + bool", lambda a, b: a + b, np.bool_, np.bool_),
    ("float32 + float64", lambda a, b: a + b, np.float32, np.float64),
]


@pytest.mark.parametrize("name, fn, dtype_a, dtype_b", INT_CASES, ids=[c[0] for c in INT_CASES])
@given(data=st.data())
def test_integer_and_bool_tensors_promote_like_torch(name, fn, dtype_a, dtype_b, data: st.DataObject) -> None:
    # at least 1-D: torch lets a dimensioned tensor's dtype win over a 0-d one's (float32[3] + float64[] is
    # float32), a rule NumPy does not have and tapegrad does not copy
    sa, sb = data.draw(broadcastable_shapes(2, min_dims=1, min_side=1))
    a = data.draw(arrays(dtype_a, sa, min_value=1, max_value=4))
    b = data.draw(arrays(dtype_b, sb, min_value=1, max_value=4))
    check_op(fn, fn, [a, b])  # floats require grad, integers cannot


@pytest.mark.parametrize("scalar", [1.5, 2, 0.25])
def test_integer_tensor_with_python_scalar_promotes_like_torch(scalar: float) -> None:
    ints = np.array([1, 2, 3])
    for fn in (lambda t: t + scalar, lambda t: t * scalar, lambda t: scalar - t, lambda t: t / scalar):
        ours, theirs = fn(Tensor(ints)), fn(torch.from_numpy(ints))
        assert ours.dtype == theirs.numpy().dtype
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6)
        assert not ours.requires_grad


def test_integer_results_carry_no_graph() -> None:
    a = Tensor(np.array([1, 2, 3]))
    out = a * 2 + a
    assert out.grad_fn is None and not out.requires_grad
    np.testing.assert_array_equal(out.numpy(), np.array([3, 6, 9]))


@pytest.mark.parametrize("scalar", [np.float64(2.5), np.float32(0.5), np.int64(3)])
def test_numpy_scalars_act_as_python_numbers_like_torch(scalar) -> None:
    x = np.array([1.0, -2.0], dtype=np.float32)
    for fn in (lambda t: t * scalar, lambda t: scalar - t, lambda t: t**scalar, lambda t: t / scalar):
        check_op(fn, fn, [x])


def test_integer_matrix_times_float_matrix_takes_the_float_dtype() -> None:
    # torch refuses int64 @ float32 outright; tapegrad promotes as it does for * (to float32, not float64)
    ints = np.array([[1, 2], [3, 4]])
    floats = np.random.default_rng(0).standard_normal((2, 3)).astype(np.float32)
    check_op(lambda a, b: a @ b, lambda a, b: a.float() @ b, [ints, floats])
