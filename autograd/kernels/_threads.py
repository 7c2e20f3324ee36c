"""The compiled kernels' share of the one thread budget: ``autograd/runtime.py`` pushes it here
(:func:`set_threads`, at import and from ``set_num_threads``).

Numba's thread count is per calling thread, so it is checked at each parallel compiled call (about a
microsecond): the budget on an ordinary thread, and 1 inside tapegrad's own pool threads, whose siblings already
use the other cores (no oversubscription).  Setting threads never imports Numba.
"""

from __future__ import annotations

import threading

_threads: int | None = None


def set_threads(n: int | None) -> None:
    """Let compiled kernels use at most ``n`` threads (None: Numba's default, every core)."""
    global _threads
    _threads = None if n is None else max(1, int(n))


def wanted(numba_max: int) -> int:
    """How many threads a compiled kernel called from this thread may use."""
    if threading.current_thread().name.startswith("tapegrad"):
        return 1
    return numba_max if _threads is None else max(1, min(_threads, numba_max))
