"""An emulated CuPy on NumPy: the device ``'cuda'`` when ``TAPEGRAD_EMULATE_CUDA=1`` (set by the test run).

A test double, not a GPU: it exists so that every test of the device path runs in CI on machines without one,
and fails where a real GPU would (a NumPy call on a device array, a function CuPy lacks, a host copy nobody
asked for).  :mod:`tapegrad.autograd.backend` imports it lazily, only when the variable is set, so the core's
import path never touches it.  ``cupy`` and ``cupyx`` are the two module doubles; ``transfers.counter`` counts
the host <-> device copies.
"""

from __future__ import annotations

from . import cupy, cupyx
from .transfers import counter

__all__ = ["counter", "cupy", "cupyx"]
