"""Every bad input raises an error that names the op, what it got and what it expected."""

from __future__ import annotations

import numpy as np
import pytest
import tapegrad.autograd as ag
from tapegrad.autograd import DeviceError, DTypeError, GraphError, ShapeError, TapegradError, Tensor
from tapegrad.autograd.backend import gpu_available
from tapegrad.autograd.errors import describe


def test_describe_formats_dtype_and_shape() -> None:
    assert describe(np.zeros((2, 3), np.float32)) == "float32[2, 3]"
    assert describe(Tensor(np.zeros(()))) == "float64[]"
    assert describe(3) == "3"


def test_matmul_shape_mismatch_names_the_op_and_both_shapes() -> None:
    a, b = Tensor(np.zeros((2, 3), np.float32)), Tensor(np.zeros((4, 5), np.float32))
    with pytest.raises(ShapeError, match=r"matmul: .*float32\[2, 3\].*float32\[4, 5\]"):
        a @ b
    with pytest.raises(ShapeError, match=r"matmul: .*at least one dimension"):
        ag.matmul(Tensor(np.zeros(())), a)
    with pytest.raises(ShapeError, match="matmul"):
        Tensor(np.zeros(3)) @ Tensor(np.zeros(4))


def test_broadcasting_failure_names_the_op_and_the_shapes() -> None:
    a, b = Tensor(np.zeros((2, 3))), Tensor(np.zeros(4))
    for op, name in ((lambda: a + b, "Add"), (lambda: a * b, "Mul"), (lambda: ag.maximum(a, b), "Maximum")):
        with pytest.raises(ShapeError, match=rf"{name}: .*broadcast.*float64\[2, 3\], float64\[4\]"):
            op()
    with pytest.raises(ShapeError, match=r"broadcast_to: cannot broadcast shape \(2, 3\) to \(4, 3\)"):
        a.broadcast_to((4, 3))
    with pytest.raises(ShapeError, match="expand"):
        a.expand(3)


def test_reshape_and_permutation_errors() -> None:
    x = Tensor(np.zeros((2, 3)))
    with pytest.raises(ShapeError, match=r"reshape: cannot reshape \(2, 3\) \(6 elements\) into \(4, 2\)"):
        x.reshape(4, 2)
    with pytest.raises(ShapeError, match=r"permute: \(0, 0\) is not a permutation"):
        x.permute(0, 0)
    with pytest.raises(ShapeError, match="transpose: axis 5 is out of range"):
        x.transpose(0, 5)
    with pytest.raises(ShapeError, match="unsqueeze: axis 4"):
        x.unsqueeze(4)
    with pytest.raises(ShapeError, match="flatten: start_dim 1 comes after end_dim 0"):
        x.flatten(1, 0)


def test_cat_error_lists_the_shapes() -> None:
    with pytest.raises(ShapeError, match=r"cat: tensor 1 has shape \(2, 4\).*\(2, 3\), \(2, 4\)"):
        ag.cat([Tensor(np.zeros((2, 3))), Tensor(np.zeros((2, 4)))])


def test_indexing_out_of_bounds_names_getitem() -> None:
    with pytest.raises(IndexError, match=r"GetItem: .*float64\[3\]"):
        Tensor(np.zeros(3))[5]


def test_backward_on_a_non_scalar_needs_a_gradient() -> None:
    y = Tensor(np.zeros(3), requires_grad=True) * 2.0
    with pytest.raises(GraphError, match=r"only for a scalar output, got shape \(3,\).*upstream gradient"):
        y.backward()


def test_requires_grad_needs_a_floating_tensor() -> None:
    with pytest.raises(DTypeError, match="only floating tensors can require gradients, got int64"):
        Tensor([1, 2], requires_grad=True)
    with pytest.raises(DTypeError, match="got bool"):
        Tensor(np.array([True])).requires_grad_()
    y = Tensor(np.zeros(2), requires_grad=True) * 2.0
    with pytest.raises(GraphError, match="non-leaf.*detach"):
        y.requires_grad_(False)


def test_unsupported_dtypes_name_the_op() -> None:
    with pytest.raises(DTypeError, match=r"Add: .*<U1\[1\]"):
        Tensor(np.array(["a"])) + Tensor(np.array([1]))
    with pytest.raises(TypeError, match="Sub: .*bool"):
        Tensor(np.array([True])) - Tensor(np.array([True]))


def test_grad_errors() -> None:
    x = Tensor(np.ones(2), requires_grad=True)
    with pytest.raises(GraphError, match="grad: input 0 does not require grad"):
        ag.grad((x * 2.0).sum(), Tensor(np.ones(2)))
    with pytest.raises(TypeError, match="backward: output 0 is a ndarray"):
        ag.backward([np.ones(2)])


def test_scalar_conversions_of_big_tensors_are_errors() -> None:
    x = Tensor(np.zeros(3))
    with pytest.raises(ValueError, match="item"):
        x.item()
    with pytest.raises(ValueError, match="ambiguous"):
        bool(x)
    with pytest.raises(TypeError, match="len"):
        len(Tensor(np.zeros(())))
    with pytest.raises(TypeError, match="index"):
        [0, 1][Tensor(np.array(1.0))]


def test_all_errors_are_tapegrad_errors_and_builtin_kinds() -> None:
    assert issubclass(ShapeError, TapegradError) and issubclass(ShapeError, ValueError)
    assert issubclass(DTypeError, TapegradError) and issubclass(DTypeError, TypeError)
    assert issubclass(GraphError, TapegradError) and issubclass(DeviceError, TapegradError)


def test_unknown_device_is_an_error() -> None:
    with pytest.raises(ValueError, match="unknown device 'tpu'"):
        Tensor(np.zeros(2), device="tpu")


@pytest.mark.skipif(not gpu_available(), reason="needs a GPU (CuPy)")
def test_mixing_cpu_and_gpu_tensors_is_a_device_error() -> None:
    a, b = Tensor(np.zeros(2), device="cpu"), Tensor(np.zeros(2), device="cuda")
    with pytest.raises(DeviceError, match=r"Add: all tensors must be on one device.*cpu.*cuda"):
        a + b


def test_asking_for_cuda_without_a_gpu_says_how_to_get_it(no_gpu: None) -> None:
    with pytest.raises(RuntimeError, match="CuPy"):
        Tensor(np.zeros(2), device="cuda")
