"""The primitive ops.  Each is a small ``Function`` with its forward and its vector-Jacobian product."""

from .arithmetic import add, div, matmul, mul, neg, pow, sub
from .compare import eq, ge, gt, le, lt, ne
from .creation import (
    arange,
    as_tensor,
    empty,
    empty_like,
    eye,
    from_numpy,
    full,
    full_like,
    linspace,
    ones,
    ones_like,
    rand,
    rand_like,
    randint,
    randint_like,
    randn,
    randn_like,
    zeros,
    zeros_like,
)
from .indexing import getitem, index_add, pad
from .join import cat, concatenate, split, stack
from .reduction import amax, amin, argmax, argmin, log_softmax, logsumexp, max, mean, min, softmax, sum, var
from .select import maximum, minimum, where
from .shape import broadcast_to, expand, flatten, permute, reshape, squeeze, swapaxes, transpose, unsqueeze, view
from .unary import ToDevice, abs, cast, clamp, clip, exp, log, relu, sigmoid, softplus, sqrt, tanh

__all__ = [
    "ToDevice", "abs", "add", "amax", "amin", "arange", "argmax", "argmin", "broadcast_to", "cast", "cat",
    "clamp", "clip", "concatenate", "div", "eq", "exp", "expand", "eye", "flatten", "full", "ge", "getitem",
    "gt", "index_add", "le", "log", "log_softmax", "logsumexp", "lt", "matmul", "max", "maximum", "mean", "min",
    "minimum", "mul", "ne", "neg", "ones", "ones_like", "pad", "permute", "pow", "rand", "randn", "relu",
    "reshape", "sigmoid", "softmax", "softplus", "split", "sqrt", "squeeze", "stack", "sub", "sum", "swapaxes",
    "tanh", "transpose", "unsqueeze", "var", "view", "where", "zeros", "zeros_like",
    # creation (not differentiable)
    "as_tensor", "empty", "empty_like", "from_numpy", "full_like", "linspace", "rand_like", "randint",
    "randint_like", "randn_like",
]
