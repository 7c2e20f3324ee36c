"""The emulated ``cupyx``: what the project uses of it (``scatter_add``..., ``scipy.special.erf``)."""

from __future__ import annotations

import math as _math
from types import SimpleNamespace as _Namespace
from typing import Any as _Any

import numpy as _np

from .ndarray import ndarray
from .ndarray import unwrap as _unwrap


def _scatter(np_ufunc: _np.ufunc) -> _Any:
    def scatter(a: ndarray, slices: _Any, value: _Any) -> None:
        if not isinstance(a, ndarray):
            raise TypeError(f"cupyx scatter: the target must be a device array, not {type(a)}")
        np_ufunc.at(a._a, _unwrap(slices, host_ok=True), _unwrap(value))

    return scatter


scatter_add = _scatter(_np.add)
scatter_max = _scatter(_np.maximum)
scatter_min = _scatter(_np.minimum)


def _erf(x: ndarray) -> ndarray:
    """``cupyx.scipy.special.erf``: SciPy's when installed, else ``math.erf`` per element."""
    a = _unwrap(x)
    try:
        from scipy.special import erf
    except ImportError:
        return ndarray._of(_np.frompyfunc(_math.erf, 1, 1)(a).astype(a.dtype))
    return ndarray._of(_np.asarray(erf(a)).astype(a.dtype, copy=False))


scipy = _Namespace(special=_Namespace(erf=_erf))
