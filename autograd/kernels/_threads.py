"""The compiled kernels' share of the one thread budget: ``autograd/runtime.py`` pushes it here
(:func:`set_threads`, at import and from ``set_num_threads``).

Numba's thread count is per calling thread, so it is checked at each parallel compiled call (about a
microsecond): the budget on an ordinary thread, and 1 inside tapegrad's own pool threads, whose siblings already
use the other cores (no oversubscription), and on a thread that runs one of several ops at once
(``runtime.concurrently``, which marks it with :func:`alone`).  Setting threads never imports Numba.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

_threads: int | None = None
_local = threading.local()


def single_threaded() -> bool:
    """Whether work started on this thread must stay on it: a pool thread, or a thread inside :func:`alone`."""
    return getattr(_local, "alone", False) or threading.current_thread().name.startswith("tapegrad")


@contextmanager
def alone() -> Iterator[None]:
    """Keep this thread's kernels, slices and products on this thread for the block (the other cores are busy
    with ops that run at the same time)."""
    previous = getattr(_local, "alone", False)
    _local.alone = True
    try:
        yield
    finally:
        _local.alone = previous


def set_threads(n: int | None) -> None:
    """Let compiled kernels use at most ``n`` threads (None: Numba's default, every core)."""
    global _threads
    _threads = None if n is None else max(1, int(n))


def wanted(numba_max: int) -> int:
    """How many threads a compiled kernel called from this thread may use."""
    if single_threaded():
        return 1
    return numba_max if _threads is None else max(1, min(_threads, numba_max))


def in_slices(n: int, elements: int, kernel: Callable[[int, int], Any]) -> None:
    """``kernel(lo, hi)`` over contiguous slices of ``range(n)`` on the runtime's pool (``runtime.over_batch``;
    ``elements`` is the call's work, which decides how many slices).  For kernels compiled serial (nogil) and
    split here rather than with ``prange``: a parallel compilation took 1.7-2.2 s on a cold cache against 0.6 s
    serial (ReLU, the unrolled max-pool kernels), and the demo's first run paid both (its compile passed 10 s)."""
    from ..runtime import over_batch  # runtime imports this module: imported on first use

    over_batch(n, elements, kernel)
