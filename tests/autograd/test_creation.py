"""Creation functions against torch: shapes, dtypes (defaults and asked), values where they are determined."""

from __future__ import annotations

import numpy as np
import pytest
import tapegrad.autograd as ag
import torch


def _dtype(t: torch.Tensor) -> np.dtype:
    return t.numpy().dtype


@pytest.mark.parametrize("name", ["zeros", "ones", "empty", "rand", "randn"])
@pytest.mark.parametrize("shape", [(3,), (2, 3), ((2, 3),), ([4, 1],)])
def test_shaped_creation_matches_torch(name: str, shape: tuple) -> None:
    ours, theirs = getattr(ag, name)(*shape), getattr(torch, name)(*shape)
    assert ours.shape == tuple(theirs.shape) and ours.dtype == _dtype(theirs)
    asked = getattr(ag, name)(*shape, dtype=np.float64, requires_grad=True)
    assert asked.dtype == np.float64 and asked.requires_grad and asked.is_leaf


@pytest.mark.parametrize("fill", [2.5, 3, True])
def test_full_and_full_like_take_the_dtype_of_the_value(fill: float) -> None:
    ours, theirs = ag.full((2, 3), fill), torch.full((2, 3), fill)
    assert ours.dtype == _dtype(theirs) and ours.tolist() == theirs.tolist()
    assert ag.full(4, fill).shape == (4,)
    base = ag.zeros(2, 2, dtype=np.float64)
    assert ag.full_like(base, fill).dtype == np.float64 and ag.full_like(base, fill).tolist() == [[float(fill)] * 2] * 2


@pytest.mark.parametrize("name", ["zeros_like", "ones_like", "empty_like", "rand_like", "randn_like"])
def test_like_functions_keep_shape_and_dtype(name: str) -> None:
    for dtype in (np.float32, np.float64):
        base = ag.zeros(3, 2, dtype=dtype)
        ours, theirs = getattr(ag, name)(base), getattr(torch, name)(torch.zeros(3, 2, dtype=torch.from_numpy(
            np.zeros(0, dtype)).dtype))
        assert ours.shape == tuple(theirs.shape) and ours.dtype == _dtype(theirs)
        assert getattr(ag, name)(base, dtype=np.float16).dtype == np.float16
    assert ag.zeros_like(base).tolist() == [[0.0] * 2] * 3 and ag.ones_like(base).tolist() == [[1.0] * 2] * 3
    with pytest.raises(TypeError, match="Tensor"):
        getattr(ag, name)(np.zeros(2))


def test_randint_forms_range_and_dtype() -> None:
    ag.manual_seed(0)
    a = ag.randint(3, 7, (500,))
    assert a.dtype == _dtype(torch.randint(3, 7, (5,))) and a.shape == (500,)
    assert set(np.unique(a.numpy())) == {3, 4, 5, 6}
    b = ag.randint(4, (2, 3))
    assert b.shape == (2, 3) and b.numpy().min() >= 0 and b.numpy().max() < 4
    like = ag.randint_like(ag.zeros(10, 10), 2)
    assert like.dtype == np.float32 and set(np.unique(like.numpy())) <= {0.0, 1.0}
    with pytest.raises(ValueError, match="low < high"):
        ag.randint(5, 5, (2,))
    ag.manual_seed(1)
    first = ag.randint(0, 100, (4,)).tolist()
    ag.manual_seed(1)
    assert ag.randint(0, 100, (4,)).tolist() == first


@pytest.mark.parametrize("args", [(0, 1, 5), (-2.0, 3.0, 7), (1, 1, 1), (0, 1, 0)])
def test_linspace_matches_torch(args: tuple) -> None:
    ours, theirs = ag.linspace(*args), torch.linspace(*args)
    assert ours.dtype == _dtype(theirs)
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6, atol=1e-7)
    with pytest.raises(ValueError, match="non-negative"):
        ag.linspace(0, 1, -1)
