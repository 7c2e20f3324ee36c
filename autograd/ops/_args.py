"""PyTorch's and NumPy's names for the same argument (``dim``/``axis``, ``keepdim``/``keepdims``): one resolver.

Every public op takes torch's name as its parameter and NumPy's as a keyword-only alias, so ``x.sum(dim=1)``
and ``x.sum(axis=1)`` are the same call; giving both is a TypeError that names them.
"""

from __future__ import annotations

from typing import Any


class _Unset:
    __slots__ = ()

    def __repr__(self) -> str:
        return "<unset>"


UNSET: Any = _Unset()


def either(op: str, torch_name: str, value: Any, numpy_name: str, alias: Any, default: Any) -> Any:
    """``value`` (torch's spelling) or ``alias`` (NumPy's), whichever was given; both given is a TypeError."""
    if alias is UNSET:
        return value
    if value is not default and value is not UNSET:
        raise TypeError(
            f"{op}: got both {torch_name}={value!r} and {numpy_name}={alias!r}; they are the same argument "
            f"(PyTorch's and NumPy's names): pass only one"
        )
    return alias


def dims(op: str, dim: Any, axis: Any, keepdim: Any = False, keepdims: Any = UNSET) -> tuple[Any, bool]:
    """``(dim, keepdim)`` from either spelling of each."""
    return either(op, "dim", dim, "axis", axis, None), bool(either(op, "keepdim", keepdim, "keepdims", keepdims, False))
