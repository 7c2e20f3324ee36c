"""Reusable scratch buffers for the large temporaries of convolution (the im2col columns).

Why: a fresh NumPy array of more than 32 MiB is mmap-ed by glibc and every one of its pages faults on first
write; for a 16x16x64x64 convolution the columns are 38 MB and the faults cost as much as copying them.
A buffer kept per thread and per role is faulted in once.
Nothing process-wide is changed (no malloc settings).

A scratch view must never escape the op that asked for it: it is overwritten by the next call with that role.
On CuPy the memory pool already does this, so a fresh array is returned.
"""

from __future__ import annotations

import threading
from typing import Any

import numpy as np
from tapegrad.autograd.backend import array_module

_local = threading.local()


def scratch(role: str, shape: tuple[int, ...], dtype: Any, like: Any) -> Any:
    """An uninitialised array of ``shape`` and ``dtype``, reused across calls with the same ``role``."""
    xp = array_module(like)
    if xp is not np:
        return xp.empty(shape, dtype=dtype)
    buffers = getattr(_local, "buffers", None)
    if buffers is None:
        buffers = _local.buffers = {}
    dtype = np.dtype(dtype)
    size = 1
    for s in shape:
        size *= s
    nbytes = size * dtype.itemsize
    buffer = buffers.get(role)
    if buffer is None or buffer.nbytes < nbytes:
        buffer = buffers[role] = np.empty(max(nbytes, 1), dtype=np.uint8)
    return buffer[:nbytes].view(dtype).reshape(shape)


def clear() -> None:
    """Free this thread's scratch buffers (they are otherwise kept for the next call)."""
    _local.buffers = {}
