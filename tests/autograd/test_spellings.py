"""PyTorch's ``dim``/``keepdim`` and NumPy's ``axis``/``keepdims``: every public function and Tensor method that
takes one takes the other, gives the same result, and refuses both at once; ``max(dim=)`` and ``size()``."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import tapegrad.autograd as ag
import torch
from tapegrad.autograd import Tensor
from tapegrad.autograd.function import TENSOR_ATTRIBUTES
from tapegrad.nn import functional as F

from tests.autograd.torchcheck import check_op

PAIRS = (("dim", "axis"), ("keepdim", "keepdims"))


def _public_callables() -> dict[str, Callable[..., Any]]:
    found = {f"ag.{n}": getattr(ag, n) for n in ag.ops.__all__ if callable(getattr(ag, n))}
    found.update({f"Tensor.{n}": f for n, f in TENSOR_ATTRIBUTES.items() if not n.startswith("__")})
    found.update({f"F.{n}": f for n, f in vars(F).items() if inspect.isfunction(f) and not n.startswith("_")})
    return found


def test_every_public_function_takes_both_spellings() -> None:
    missing = []
    for name, fn in _public_callables().items():
        try:
            params = inspect.signature(fn).parameters
        except (TypeError, ValueError):
            continue
        for torch_name, numpy_name in PAIRS:
            if (torch_name in params) != (numpy_name in params):
                missing.append(f"{name}: has {torch_name if torch_name in params else numpy_name} only")
    assert not missing, missing


X = np.random.default_rng(0).standard_normal((2, 3, 4))
CALLS: dict[str, Callable[..., Any]] = {
    "sum": lambda t, **kw: t.sum(**kw),
    "mean": lambda t, **kw: ag.mean(t, **kw),
    "var": lambda t, **kw: t.var(**kw),
    "amax": lambda t, **kw: t.amax(**kw),
    "amin": lambda t, **kw: ag.amin(t, **kw),
    "logsumexp": lambda t, **kw: t.logsumexp(**kw),
    "argmax": lambda t, **kw: t.argmax(**kw),
    "argmin": lambda t, **kw: ag.argmin(t, **kw),
}


@pytest.mark.parametrize("name", sorted(CALLS))
def test_reductions_accept_either_spelling_and_refuse_both(name: str) -> None:
    call = CALLS[name]
    ours = call(Tensor(X), dim=1, keepdim=True).numpy()
    np.testing.assert_array_equal(call(Tensor(X), axis=1, keepdims=True).numpy(), ours)
    np.testing.assert_array_equal(call(Tensor(X), dim=1, keepdims=True).numpy(), ours)
    with pytest.raises(TypeError, match="both dim=1 and axis=1"):
        call(Tensor(X), dim=1, axis=1)


@pytest.mark.parametrize(
    "call",
    [
        lambda t, **kw: t.softmax(**kw),
        lambda t, **kw: F.log_softmax(t, **kw),
        lambda t, **kw: ag.cat([t, t], **kw),
        lambda t, **kw: ag.stack([t, t], **kw),
        lambda t, **kw: t.split(2, **kw)[0],
        lambda t, **kw: t[:, :1].squeeze(**kw),
        lambda t, **kw: t.unsqueeze(**kw),
    ],
)
def test_dim_ops_accept_either_spelling_and_refuse_both(call: Callable[..., Any]) -> None:
    np.testing.assert_array_equal(call(Tensor(X), dim=1).numpy(), call(Tensor(X), axis=1).numpy())
    with pytest.raises(TypeError, match="both dim"):
        call(Tensor(X), dim=1, axis=1)


def test_max_with_dim_gives_values_and_indices_like_torch() -> None:
    x = np.array([[1.0, 5.0, 5.0], [7.0, -1.0, 2.0]])

    def ours(t: Tensor) -> Any:
        values, indices = t.max(dim=1)
        assert indices.dtype == np.int64 and not indices.requires_grad
        return values

    check_op(ours, lambda t: t.max(dim=1).values, [x])  # a tie: the gradient goes to torch's index only
    np.testing.assert_array_equal(Tensor(x).min(dim=0, keepdim=True).indices.numpy(), [[0, 1, 1]])
    np.testing.assert_array_equal(ag.max(Tensor(x), dim=1).indices.numpy(), torch.from_numpy(x).max(dim=1).indices)
    np.testing.assert_array_equal(Tensor(x).max(1).numpy(), [5.0, 7.0])  # NumPy's habit: values only
    with pytest.raises(TypeError, match="one int"):
        Tensor(x).max(dim=(0, 1))


def test_size_is_the_shape_when_called_and_the_count_otherwise() -> None:
    x = Tensor(np.zeros((2, 3)))
    assert x.size() == (2, 3) and x.size(1) == 3 and x.size(-2) == 2
    assert x.size == 6 == x.numel()
    with pytest.raises(IndexError, match="dimension 2 is out of range"):
        x.size(2)
