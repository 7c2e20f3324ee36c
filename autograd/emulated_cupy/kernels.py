"""``cupy.fuse`` and ``cupy.ElementwiseKernel`` on the emulated device.

``fuse`` compiles a Python function of array operators into one kernel on a GPU; emulated, the function simply
runs on device arrays (its operators are the emulated ones).  ``ElementwiseKernel`` takes CUDA C: emulated, the
parameters are parsed and the operation's statements ``out = expression;`` are evaluated elementwise when the
expression is also Python (``x * y + 1``, ``exp(x)``, ``a > b ? a : b`` is rewritten); anything else raises
NotImplementedError naming the kernel, so a test fails loudly instead of passing on code it did not run.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np

from .ndarray import ndarray, unwrap

_C_FUNCTIONS = {
    name: getattr(np, name)
    for name in ("exp", "log", "sqrt", "tanh", "sin", "cos", "abs", "floor", "ceil", "log1p", "expm1")
}
_C_FUNCTIONS.update(
    expf=np.exp, logf=np.log, sqrtf=np.sqrt, tanhf=np.tanh, fabs=np.abs, fabsf=np.abs,
    max=np.maximum, min=np.minimum, fmax=np.fmax, fmin=np.fmin, fmaxf=np.fmax, fminf=np.fmin,
    rsqrt=lambda x: 1 / np.sqrt(x), rsqrtf=lambda x: 1 / np.sqrt(x), pow=np.power, powf=np.power,
)
_TERNARY = re.compile(r"^(.+?)\?(.+):(.+)$")


def fuse(*args: Any, **kwargs: Any) -> Any:
    """``@cupy.fuse`` or ``@cupy.fuse(kernel_name=...)``: the function itself, run on device arrays."""
    if len(args) == 1 and callable(args[0]) and not kwargs:
        return args[0]
    return lambda function: function


def _params(spec: str) -> list[tuple[str, str]]:
    """``'float32 x, T y'`` -> ``[('float32', 'x'), ('T', 'y')]`` (raw/const qualifiers dropped)."""
    out = []
    for part in filter(None, (p.strip() for p in spec.split(","))):
        words = [w for w in part.split() if w not in ("raw", "const")]
        out.append((words[0], words[-1]))
    return out


def _python_expression(expression: str) -> str:
    expression = expression.strip()
    match = _TERNARY.match(expression)
    if match:
        cond, yes, no = (_python_expression(g) for g in match.groups())
        return f"_where({cond}, {yes}, {no})"
    expression = re.sub(r"\(\s*(float|double|int|long long|T)\s*\)", "", expression)  # C casts
    return expression.replace("&&", "&").replace("||", "|")


class ElementwiseKernel:
    """``cupy.ElementwiseKernel(in_params, out_params, operation, name)``, evaluated with NumPy."""

    def __init__(self, in_params: str, out_params: str, operation: str, name: str = "kernel", **kwargs: Any) -> None:
        self.in_params, self.out_params = _params(in_params), _params(out_params)
        self.operation, self.name = operation, name

    def __call__(self, *args: Any, size: int | None = None, **kwargs: Any) -> Any:
        n_in = len(self.in_params)
        inputs = [unwrap(a) for a in args[:n_in]]
        given_out = list(args[n_in:])
        if len(inputs) != n_in:
            raise TypeError(f"{self.name}: expected {n_in} inputs, got {len(inputs)}")
        arrays = [a for a in inputs if isinstance(a, np.ndarray)]
        shape = np.broadcast_shapes(*(a.shape for a in arrays)) if arrays else ()
        types: dict[str, Any] = {}
        namespace: dict[str, Any] = {"_where": np.where, **_C_FUNCTIONS}
        for (ctype, pname), value in zip(self.in_params, inputs, strict=True):
            namespace[pname] = value
            if ctype not in np.sctypeDict and isinstance(value, np.ndarray):
                types.setdefault(ctype, value.dtype)
        outs = []
        for k, (ctype, pname) in enumerate(self.out_params):
            if k < len(given_out):
                out = unwrap(given_out[k])
            else:
                dtype = np.dtype(ctype) if ctype in np.sctypeDict else types.get(ctype, np.float64)
                out = np.empty(shape, dtype=dtype)
            namespace[pname] = out
            outs.append(out)
        for statement in filter(None, (s.strip() for s in self.operation.split(";"))):
            target, sep, expression = statement.partition("=")
            target = target.strip().split()[-1] if sep else ""
            if not sep or target not in namespace or expression.startswith("="):
                raise NotImplementedError(f"emulated ElementwiseKernel {self.name!r} cannot run {statement!r}")
            try:
                value = eval(_python_expression(expression), {"__builtins__": {}}, namespace)  # noqa: S307
            except Exception as error:  # C the emulation does not read
                message = f"emulated ElementwiseKernel {self.name!r}: {statement!r}: {error}"
                raise NotImplementedError(message) from error
            if isinstance(namespace[target], np.ndarray):
                namespace[target][...] = value
            else:
                namespace[target] = value
        results = [ndarray._of(o) for o in outs]
        return results[0] if len(results) == 1 else tuple(results)
