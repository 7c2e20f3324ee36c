"""Waiting for a counter without the GIL: how the kernel pool's threads wait for work and for results
(``autograd/pool.py``).

``wait_until(flags, index, value, spins)`` reads ``flags[index]`` (an int64 array) up to ``spins`` times in
compiled code, with the GIL released, until it is at least ``value``.  The read is an atomic load with acquire
order (a Numba intrinsic): an ordinary load could be hoisted out of the loop by the compiler, and what the other
thread wrote before raising the counter must be visible after it.  Without the compiled kernels (no Numba, or
``TAPEGRAD_KERNELS=numpy``) it reads once, and the pool's threads block on a condition variable instead.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import _dispatch
from ._compile import jit, numba_module


def _load_acquire(flags: Any, index: int) -> int:  # replaced by the Numba intrinsic before the first compile
    return int(flags[index])


@jit(parallel=False)
def _spin(flags, index, value, spins):  # noqa: ANN001, ANN202 - Numba
    for _ in range(spins):
        if _load_acquire(flags, index) >= value:
            return True
    return False


_installed = False


def _install_intrinsic() -> None:
    """Define the atomic load (Numba is imported by then) and put it where ``_spin`` looks it up."""
    global _installed
    from numba import types
    from numba.core import cgutils
    from numba.extending import intrinsic

    @intrinsic
    def load_acquire(typingctx, flags, index):  # noqa: ANN001, ANN202 - Numba's signature
        def codegen(context, builder, signature, args):  # noqa: ANN001, ANN202
            array_type = signature.args[0]
            array = context.make_array(array_type)(context, builder, args[0])
            pointer = cgutils.get_item_pointer(context, builder, array_type, array, [args[1]])
            return builder.load_atomic(pointer, "acquire", 8)

        return types.int64(flags, index), codegen

    globals()["_load_acquire"] = load_acquire
    _installed = True


def wait_until(flags: np.ndarray, index: int, value: int, spins: int) -> bool:
    """Whether ``flags[index] >= value`` within ``spins`` reads (compiled, without the GIL), or at once on the
    NumPy kernels.  ``flags``: a 1-D C-contiguous int64 array."""
    if spins <= 0 or _dispatch.get_kernels() != "compiled":
        return bool(flags[index] >= value)
    if not _installed:
        if numba_module() is None:
            return bool(flags[index] >= value)
        _install_intrinsic()
    return bool(_spin(flags, index, value, spins))
