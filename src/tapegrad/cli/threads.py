"""How many BLAS threads NumPy may use.

The reference CNN multiplies small matrices (at most a few thousand by a few hundred), where OpenBLAS's worker
threads cost more than they save; on a busy two-core machine they made a training step ten times slower
(0.96 s against 0.10 s for a batch of 32).  The command line therefore defaults to one thread; ``--threads 0``
keeps the library's own choice.  The environment variables work when NumPy is not imported yet (the normal
case for the console script); ``threadpoolctl``, when installed, also changes an already loaded library.
"""

from __future__ import annotations

import os
import sys
from contextlib import AbstractContextManager, nullcontext
from typing import Any

VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def limit_blas_threads(threads: int) -> AbstractContextManager[Any]:
    """Limit BLAS to ``threads`` threads for the duration of the returned context (0: leave it alone).

    Before NumPy is loaded the environment variables do it (for this process); afterwards ``threadpoolctl``
    does, and the previous limits come back when the context ends, so calling ``main`` from a test or a
    notebook leaves the caller's settings as they were.
    """
    if threads <= 0:
        return nullcontext()
    if "numpy" not in sys.modules:
        for name in VARIABLES:
            os.environ.setdefault(name, str(threads))
        return nullcontext()
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return nullcontext()
    return threadpool_limits(limits=threads, user_api="blas")
