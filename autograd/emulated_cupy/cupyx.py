"""The emulated ``cupyx``: the scatter operations the project uses (``cupyx.scatter_add``...)."""

from __future__ import annotations

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
