"""The emulated CuPy fails where CuPy fails on a GPU: NumPy calls on device arrays, host arrays in device
operations, functions CuPy lacks, implicit scalars; and it counts every copy to the host."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from tapegrad.autograd.emulated_cupy import counter, cupy, cupyx
from tapegrad.autograd.emulated_cupy.names import public_names

NAMES = Path(cupy.__file__).with_name("cupy_names.txt")


@pytest.fixture
def x() -> cupy.ndarray:
    return cupy.asarray(np.arange(6.0).reshape(2, 3))


@pytest.mark.parametrize("call", [
    lambda x: np.asarray(x),
    lambda x: np.array(x),
    lambda x: np.exp(x),
    lambda x: np.add.at(x, [0], 1.0),
    lambda x: np.concatenate([x, x]),
    lambda x: np.sum(x),
    lambda x: np.ones(3) + x,
    lambda x: x * np.ones(3),
    lambda x: cupy.where(x > 0, np.ones((2, 3)), x),
    lambda x: float(x),
    lambda x: int(x[0]),
], ids=["asarray", "array", "ufunc", "ufunc.at", "function", "reduction", "host+device", "device*host",
        "host argument", "float of 6", "int of 3"])
def test_implicit_host_conversions_raise_type_error(x: cupy.ndarray, call: object) -> None:
    with pytest.raises(TypeError):
        call(x)


def test_only_real_cupy_names_exist() -> None:
    assert len(public_names("cupy")) > 400 and "scatter_add" in public_names("cupyx")
    for numpy_only in ("geomspace", "insert", "spacing", "nanquantile", "block"):
        assert hasattr(np, numpy_only)
        with pytest.raises(AttributeError, match="has no attribute"):
            getattr(cupy, numpy_only)
    with pytest.raises(AttributeError):
        cupy.asarray(np.zeros(2)).getfield(np.float32)  # NumPy has this ndarray method, CuPy does not
    public = {n for n in dir(cupy) if not n.startswith("_")} - {"annotations"}
    assert public <= public_names("cupy"), public - public_names("cupy")


def test_results_stay_on_the_device_and_reductions_are_0d(x: cupy.ndarray) -> None:
    for result in (x.sum(), x[0, 1], cupy.exp(x).max(), x.mean(axis=None)):
        assert isinstance(result, cupy.ndarray) and result.shape == ()
    assert isinstance(cupy.add.reduce(x, axis=0), cupy.ndarray)
    assert cupy.get_array_module(x) is cupy and cupy.get_array_module(np.zeros(1)) is np
    assert cupy.float32 is np.float32 and (x.astype(cupy.float32) * 2).dtype == np.float32


def test_host_copies_are_explicit_and_counted(x: cupy.ndarray) -> None:
    counter.reset()
    _ = x.shape, len(x), x.dtype, x.size, (x * 2 + 1).sum(axis=0)
    assert counter.snapshot() == (0, 0)
    np.testing.assert_array_equal(x.get(), np.arange(6.0).reshape(2, 3))
    assert cupy.asnumpy(x).shape == (2, 3) and float(x.sum()) == 15.0 and x[1, 2].item() == 5.0
    assert bool(x[0, 1]) and x.tolist()[1] == [3.0, 4.0, 5.0]
    assert counter.to_host == 6 and "test_strictness.py" in counter.report()
    cupy.asarray([1.0, 2.0])
    assert counter.to_device == 1


def test_scatter_add_accumulates_repeats() -> None:
    out = cupy.zeros(3)
    cupyx.scatter_add(out, cupy.asarray([0, 0, 2]), cupy.asarray([1.0, 2.0, 5.0]))
    np.testing.assert_array_equal(out.get(), [3.0, 0.0, 5.0])
    with pytest.raises(TypeError):
        cupyx.scatter_add(np.zeros(3), [0], 1.0)


def test_fuse_and_elementwise_kernel(x: cupy.ndarray) -> None:
    @cupy.fuse()
    def axpy(a: cupy.ndarray, b: cupy.ndarray) -> cupy.ndarray:
        return a * 2 + b

    np.testing.assert_array_equal(axpy(x, x).get(), 3 * x.get())
    relu_grad = cupy.ElementwiseKernel("T g, T y", "T z", "z = y > 0 ? g : (T)0", "relu_grad")
    np.testing.assert_array_equal(relu_grad(x, x - 2).get(), np.where(x.get() > 2, x.get(), 0))
    with pytest.raises(NotImplementedError, match="loop"):
        cupy.ElementwiseKernel("T a", "T b", "for (int i = 0; i < 3; i++) b += a", "loop")(x)


def test_names_file_is_the_generated_one() -> None:
    header = NAMES.read_text().splitlines()[0]
    assert header.startswith("# public names of cupy ") and "scripts/cupy_public_names.py" in header
