"""The public Hypothesis strategies draw what they promise; only the testing module imports Hypothesis."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import torch
from hypothesis import given
from hypothesis import strategies as st
from tapegrad.autograd import Tensor
from tapegrad.autograd.testing import (
    advanced_indices,
    arrays,
    basic_indices,
    broadcastable_shapes,
    dtypes,
    shapes,
    tensors,
    valid_axes,
)

from tests.autograd.test_indexing import to_torch_index


def test_importing_tapegrad_does_not_import_hypothesis() -> None:
    code = (
        "import sys, tapegrad, tapegrad.autograd; assert 'hypothesis' not in sys.modules; "
        "import tapegrad.autograd.testing; assert 'hypothesis' in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


@given(data=st.data())
def test_arrays_respect_dtype_bounds_magnitude_and_uniqueness(data: st.DataObject) -> None:
    dtype = data.draw(dtypes())
    x = data.draw(arrays(dtype, min_value=-2, max_value=3, min_magnitude=0.25, unique=True))
    assert x.dtype == dtype and np.isfinite(x).all()
    assert ((x >= -2) & (x <= 3) & (np.abs(x) >= 0.25)).all()
    assert len(np.unique(x)) == x.size
    ints = data.draw(arrays(np.int64, (3,), min_value=-4, max_value=4))
    assert ints.dtype == np.int64 and (np.abs(ints) <= 4).all()


@given(data=st.data())
def test_tensors_are_leaves_when_asked(data: st.DataObject) -> None:
    t = data.draw(tensors(np.float32, (2, 3), requires_grad=True))
    assert isinstance(t, Tensor) and t.requires_grad and t.is_leaf and t.shape == (2, 3)
    assert not data.draw(tensors(np.int64, (2,), requires_grad=True)).requires_grad  # ints cannot


@given(data=st.data())
def test_broadcastable_shapes_broadcast(data: st.DataObject) -> None:
    count = data.draw(st.integers(1, 4))
    drawn = data.draw(broadcastable_shapes(count))
    assert len(drawn) == count
    np.broadcast_shapes(*drawn)


@given(data=st.data())
def test_valid_axes_are_accepted_by_numpy(data: st.DataObject) -> None:
    shape = data.draw(shapes(min_side=1))
    axis = data.draw(valid_axes(len(shape)))
    np.zeros(shape).sum(axis=axis)


@given(data=st.data())
def test_index_strategies_are_valid_for_numpy_and_torch_alike(data: st.DataObject) -> None:
    shape = data.draw(shapes(min_dims=1))
    x = np.arange(int(np.prod(shape)), dtype=np.float64).reshape(shape)
    for index in (data.draw(basic_indices(shape)), data.draw(advanced_indices(shape))):
        as_torch = to_torch_index(index)
        np.testing.assert_array_equal(x[index], torch.from_numpy(x)[as_torch].numpy())
