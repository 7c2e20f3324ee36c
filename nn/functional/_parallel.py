"""Run a batch-sliced NumPy kernel on a small thread pool.

Pooling's comparisons and copies are single-threaded in NumPy, but they release the GIL, so slices of the
batch run in parallel.

The pool is created on first use and only ever runs tapegrad's own kernels: no process-wide setting (BLAS
threads, malloc) is touched.  ``TAPEGRAD_NUM_THREADS`` (or :func:`set_num_threads`) sets its size; 1 turns
it off.  Small inputs run inline: a thread hand-off costs tens of microseconds.

Kernels that call BLAS (convolution) pass ``blas=True``: they use the pool only while NumPy's BLAS runs one
thread per call (:func:`blas_threads`), because two pool threads each calling a multi-threaded OpenBLAS
oversubscribe the cores and were measured up to several times slower on a loaded 2-core machine.
"""

from __future__ import annotations

import ctypes
import functools
import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from tapegrad.autograd.backend import is_gpu_array

MIN_ELEMENTS_PER_THREAD = 1 << 17
_lock = threading.Lock()
_pool: ThreadPoolExecutor | None = None
_threads = max(1, int(os.environ.get("TAPEGRAD_NUM_THREADS", 0)) or min(os.cpu_count() or 1, 8))


def set_num_threads(n: int) -> None:
    """How many threads the pooling kernels may use (like ``torch.set_num_threads``; 1 = no pool)."""
    global _threads, _pool
    if int(n) < 1:
        raise ValueError(f"set_num_threads: need at least one thread, got {n!r}")
    with _lock:
        _threads = int(n)
        if _pool is not None:
            _pool.shutdown(wait=True)
            _pool = None


def get_num_threads() -> int:
    return _threads


def _executor() -> ThreadPoolExecutor:
    global _pool
    with _lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=_threads, thread_name_prefix="tapegrad")
        return _pool


@functools.lru_cache(maxsize=1)
def _openblas_get_num_threads() -> Callable[[], int] | None:
    """NumPy's OpenBLAS ``get_num_threads`` (a read-only query), found among the loaded libraries; or None."""
    try:
        with open("/proc/self/maps") as maps:
            paths = sorted({line.split()[-1] for line in maps if "openblas" in line.lower() and "/" in line})
    except OSError:
        return None
    for path in paths:
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for prefix in ("scipy_openblas", "openblas"):
            for suffix in ("64_", "", "_64"):
                function = getattr(lib, f"{prefix}_get_num_threads{suffix}", None)
                if function is not None:
                    function.restype = ctypes.c_int
                    return function
    return None


def blas_threads() -> int | None:
    """How many threads NumPy's OpenBLAS uses per call now (it can change at run time), or None if unknown."""
    function = _openblas_get_num_threads()
    return None if function is None else int(function())


def over_batch(
    n: int,
    elements: int,
    kernel: Callable[[int, int], Any],
    like: Any = None,
    blas: bool = False,
    min_elements: int = MIN_ELEMENTS_PER_THREAD,
) -> None:
    """Call ``kernel(start, stop)`` on contiguous slices covering ``range(n)``, in parallel when worth it.

    ``elements`` is the work of the whole call (array elements touched); GPU arrays always run inline.
    ``blas``: the kernel calls BLAS, so it runs inline unless the BLAS is known to be single-threaded.
    ``min_elements``: the least work worth a thread of its own.
    """
    parts = min(_threads, n, max(1, elements // min_elements))
    if blas and parts > 1 and blas_threads() != 1:
        parts = 1
    inline = threading.current_thread().name.startswith("tapegrad")  # never wait on the pool from inside it
    if parts <= 1 or inline or (like is not None and is_gpu_array(like)):
        kernel(0, n)
        return
    bounds = [n * i // parts for i in range(parts + 1)]
    futures = [_executor().submit(kernel, bounds[i], bounds[i + 1]) for i in range(1, parts)]
    kernel(bounds[0], bounds[1])  # the calling thread takes the first slice
    for future in futures:
        future.result()
