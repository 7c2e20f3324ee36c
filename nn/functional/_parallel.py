"""Run a batch-sliced NumPy kernel on a small thread pool.

Pooling's comparisons and copies are single-threaded in NumPy, but they release the GIL, so slices of the
batch run in parallel.

The pool is created on first use and only ever runs tapegrad's own kernels: no process-wide setting (BLAS
threads, malloc) is touched.  ``TAPEGRAD_NUM_THREADS`` (or :func:`set_num_threads`) sets its size; 1 turns
it off.  Small inputs run inline: a thread hand-off costs tens of microseconds.
"""

from __future__ import annotations

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


def over_batch(n: int, elements: int, kernel: Callable[[int, int], Any], like: Any = None) -> None:
    """Call ``kernel(start, stop)`` on contiguous slices covering ``range(n)``, in parallel when worth it.

    ``elements`` is the work of the whole call (array elements touched); GPU arrays always run inline.
    """
    parts = min(_threads, n, max(1, elements // MIN_ELEMENTS_PER_THREAD))
    inline = threading.current_thread().name.startswith("tapegrad")  # never wait on the pool from inside it
    if parts <= 1 or inline or (like is not None and is_gpu_array(like)):
        kernel(0, n)
        return
    bounds = [n * i // parts for i in range(parts + 1)]
    futures = [_executor().submit(kernel, bounds[i], bounds[i + 1]) for i in range(1, parts)]
    kernel(bounds[0], bounds[1])  # the calling thread takes the first slice
    for future in futures:
        future.result()
