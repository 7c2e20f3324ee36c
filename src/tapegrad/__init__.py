"""tapegrad: a small, fast, honest autodiff framework, and a deconvnet to see what a CNN learned.

``import tapegrad as tg`` gives what ``import torch`` gives, for tapegrad's scope::

    import tapegrad as tg

    x = tg.randn(4, 3, requires_grad=True)
    w = tg.zeros(3, 2, requires_grad=True)
    loss = tg.matmul(x, w).relu().sum()
    loss.backward()
    w.data -= 0.1 * w.grad.data  # no in-place ops on the tape: update the leaf's array

Tensors, creation, grad modes, the thread budget (``tg.set_num_threads`` / ``tg.get_num_threads``, as in
torch), dtype names and the joining/selecting ops are bound here; every other public
function of :mod:`tapegrad.autograd` (``tg.exp``, ``tg.softmax``, ``tg.sign`` ...) is forwarded on first use.
The submodules ``tg.nn``, ``tg.optim`` (``tg.nn.optim``), ``tg.viz`` and ``tg.distributed`` load on first use
too: ``import tapegrad`` costs what NumPy and the autograd core cost (about 0.3 s here), not the 0.8 s of
``tapegrad.nn`` nor Pillow, Graphviz or matplotlib (tests/test_namespace.py checks that none is imported).

The layers depend one way: ``tapegrad.viz -> tapegrad.nn -> tapegrad.autograd``.
"""

from __future__ import annotations

import importlib
from typing import Any

import numpy as _np

from tapegrad.autograd import Tensor, einsum, is_grad_enabled, manual_seed, tensor
from tapegrad.autograd.grad_mode import enable_grad, inference_mode, no_grad, set_grad_enabled
from tapegrad.autograd.ops import (
    arange,
    as_tensor,
    cat,
    empty,
    empty_like,
    eye,
    from_numpy,
    full,
    full_like,
    linspace,
    matmul,
    maximum,
    minimum,
    ones,
    ones_like,
    rand,
    rand_like,
    randint,
    randint_like,
    randn,
    randn_like,
    stack,
    where,
    zeros,
    zeros_like,
)
from tapegrad.autograd.runtime import get_num_threads, set_num_threads

__version__ = "0.1.0"

# dtype names as in PyTorch; the values are NumPy's scalar types, which is what ``Tensor.dtype`` compares equal to
float16 = half = _np.float16
float32 = float = _np.float32  # noqa: A001 - torch.float is float32
float64 = double = _np.float64
int8 = _np.int8
int16 = short = _np.int16
int32 = int = _np.int32  # noqa: A001 - torch.int is int32
int64 = long = _np.int64
uint8 = _np.uint8
bool = _np.bool_  # noqa: A001 - torch.bool
complex64 = _np.complex64
complex128 = _np.complex128

_SUBMODULES = {
    "autograd": "tapegrad.autograd",
    "nn": "tapegrad.nn",
    "optim": "tapegrad.optim",  # an alias module: tapegrad.nn.optim itself
    "viz": "tapegrad.viz",
    "distributed": "tapegrad.distributed",
    "testing": "tapegrad.testing",
    "experiment": "tapegrad.experiment",
}


def is_tensor(obj: Any) -> bool:
    """Whether ``obj`` is a :class:`Tensor` (``torch.is_tensor``)."""
    return isinstance(obj, Tensor)


def __getattr__(name: str) -> Any:
    """Load a submodule on first use, or forward a public function of :mod:`tapegrad.autograd` (PEP 562)."""
    if name in _SUBMODULES:
        try:
            module = importlib.import_module(_SUBMODULES[name])
        except ModuleNotFoundError as exc:
            if exc.name != _SUBMODULES[name]:
                raise  # the submodule exists but needs something missing: say what
            raise AttributeError(f"module 'tapegrad' has no attribute {name!r}: {_SUBMODULES[name]} is not "
                                 "part of this installation") from None
        globals()[name] = module
        return module
    autograd = importlib.import_module("tapegrad.autograd")
    if name in getattr(autograd, "__all__", ()):
        value = getattr(autograd, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'tapegrad' has no attribute {name!r}")


def __dir__() -> list[str]:
    autograd = importlib.import_module("tapegrad.autograd")
    return sorted(set(globals()) | set(_SUBMODULES) | set(autograd.__all__))


__all__ = [
    "Tensor", "arange", "as_tensor", "bool", "cat", "complex64", "complex128", "double", "einsum", "empty",
    "empty_like", "enable_grad", "eye", "float", "float16", "float32", "float64", "from_numpy", "full", "full_like",
    "get_num_threads", "half", "inference_mode", "int", "int8", "int16", "int32", "int64", "is_grad_enabled",
    "is_tensor", "linspace", "long", "manual_seed", "matmul", "maximum", "minimum", "no_grad", "ones", "ones_like",
    "rand", "rand_like", "randint", "randint_like", "randn", "randn_like", "set_grad_enabled", "set_num_threads",
    "short", "stack", "tensor", "uint8", "where", "zeros", "zeros_like",
]
