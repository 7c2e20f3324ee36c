"""The compiled kernels' share of the one thread budget (``autograd/runtime.py``'s ``set_num_threads``).

Numba's thread count is per calling thread, so it is checked at each compiled call (about a microsecond):
the runtime's budget on an ordinary thread, and 1 inside tapegrad's own pool threads, whose siblings already
use the other cores (no oversubscription).  Setting threads never imports Numba.
"""

from __future__ import annotations

import threading


def wanted(numba_max: int) -> int:
    """How many threads a compiled kernel called from this thread may use."""
    from .. import runtime

    if threading.current_thread().name.startswith("tapegrad"):
        return 1
    return max(1, min(runtime.get_num_threads(), numba_max))
