"""Numba, imported lazily and once: the ``jit`` decorator of every compiled kernel, and its disk cache.

Why lazy: ``import numba`` costs ~0.3 s and compiling a kernel ~0.3-1 s, so nothing is imported or compiled
until a compiled kernel is first called.  Kernels are compiled with ``cache=True``; when the package directory
is not writable (a read-only install) the cache goes to ``$XDG_CACHE_HOME/tapegrad/numba`` (``NUMBA_CACHE_DIR``,
when set, wins).  The first compile of a process that finds no cache stamp prints one line to stderr.
"""

from __future__ import annotations

import os
import sys
import threading
import warnings
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

from . import _threads

_numba: ModuleType | None = None
_checked = False
_lock = threading.RLock()
_announced = False
_launch_lock = threading.Lock()


def user_cache_dir() -> Path:
    """Where compiled kernels go when the package directory is read-only."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "tapegrad" / "numba"


def cache_dir() -> Path:
    """The directory Numba caches tapegrad's kernels in (the package's ``__pycache__`` when writable)."""
    if os.environ.get("NUMBA_CACHE_DIR"):
        return Path(os.environ["NUMBA_CACHE_DIR"])
    here = Path(__file__).parent
    if os.access(here, os.W_OK) and (not (here / "__pycache__").exists() or os.access(here / "__pycache__", os.W_OK)):
        return here / "__pycache__"
    return user_cache_dir()


def numba_module() -> ModuleType | None:
    """Numba, or None (with one warning) when it cannot be imported."""
    global _numba, _checked
    with _lock:
        if not _checked:
            _checked = True
            directory = cache_dir()
            if directory != Path(__file__).parent / "__pycache__" and "NUMBA_CACHE_DIR" not in os.environ:
                os.environ["NUMBA_CACHE_DIR"] = str(directory)
            try:
                import numba
            except Exception as error:  # not installed, or broken against this NumPy
                warnings.warn(
                    f"tapegrad: Numba could not be imported ({error}); the compiled CPU kernels are off and "
                    "every kernel runs its NumPy version (install numba>=0.60 for the fast ones)",
                    RuntimeWarning,
                    stacklevel=3,
                )
                return None
            if "NUMBA_CACHE_DIR" in os.environ:
                numba.config.CACHE_DIR = os.environ["NUMBA_CACHE_DIR"]
            if "NUMBA_THREADING_LAYER" not in os.environ:
                # Numba's own pthread pool: on the shared 2-core machine (load average 14) the OpenMP layer's
                # spinning made a 16x32x112x112 ReLU backward 75 ms, the workqueue layer 4-8 ms.  It must not
                # be entered from two threads at once, hence the launch lock below.
                numba.config.THREADING_LAYER = "workqueue"
            _numba = numba
    return _numba


def _stamp() -> Path:
    numba = _numba
    version = getattr(numba, "__version__", "?")
    newest = max(int(p.stat().st_mtime) for p in Path(__file__).parent.glob("*.py"))
    return cache_dir() / f"tapegrad-kernels-{version}-{newest}.stamp"


def _announce() -> None:
    """Say once per process, and only while the cache is cold, that kernels are being compiled."""
    global _announced
    if _announced:
        return
    _announced = True
    stamp = _stamp()
    if stamp.exists():
        return
    print(f"tapegrad: compiling CPU kernels (once; cached in {cache_dir()})", file=sys.stderr, flush=True)
    try:
        stamp.parent.mkdir(parents=True, exist_ok=True)
        stamp.touch()
    except OSError:
        pass


PARALLEL_MIN_ELEMENTS = 1 << 23
"""Array elements (all arguments together) below which a parallel kernel runs its serial twin.

A parallel region wakes Numba's worker threads (futex calls; on the 2-core VM a wake of the other vCPU costs
75-250 µs) however small the arrays: the demo's Adam update of a few thousand parameters took 0.73 ms per call,
its ReLU on a 32x32x28x28 batch 0.9 ms, and the 5-epoch demo made 133,000 futex calls.  And a parallel
compilation takes 3-4x a serial one (batch-norm forward 1.9 against 0.5 s, max-pool 1.8 against 0.8 s), each
twin compiled only when first needed, under its own cache name.  Measured (2026-12-02, 2 threads, batch-norm
forward + backward): 32x16x784 (the demo's first layer, whose backward's three arrays passed the old 2^20)
0.88 ms parallel against 0.52 serial; 256x16x784 and 16x16x12544 (3.2 M elements) 5.7-6.9 ms either way;
16x32x50176 (25.7 M) 28.7 ms parallel against 44.6 serial.  2^23 (32 MB of float32 arguments) keeps the first
three serial and the last parallel."""


def _serial_twin(function: Callable[..., Any]) -> Callable[..., Any]:
    """A copy of ``function`` under another qualified name, so that Numba caches its serial compilation
    apart from the parallel one (the cache is keyed by the function's name and source position)."""
    import types

    twin = types.FunctionType(function.__code__, function.__globals__, function.__name__, function.__defaults__,
                              function.__closure__)
    twin.__qualname__ = function.__qualname__ + "_serial"
    twin.__module__ = function.__module__
    return twin


def _elements(args: tuple[Any, ...]) -> int:
    total = 0
    for a in args:
        size = getattr(a, "size", None)
        if size is not None:
            total += size
    return total


class jit:  # noqa: N801 - a decorator, named like numba.njit
    """``numba.njit(cache=True, ...)`` applied on first call: the decorated function stays plain Python
    until then (and forever, when Numba is missing; the dispatcher then never calls it).  A parallel kernel
    called on small arrays (``PARALLEL_MIN_ELEMENTS``) runs a serial compilation of the same code.

    ``fastmath``: Numba's flags, e.g. ``{"reassoc"}`` for a kernel whose floating-point sums may be reordered
    (vectorised), which is all a reduction needs to run at vector speed; never flags that assume no NaN/inf."""

    def __init__(self, parallel: bool = True, fastmath: bool | set[str] = False) -> None:
        self.options = dict(parallel=parallel, fastmath=fastmath, cache=True, nogil=True)

    def __call__(self, function: Callable[..., Any]) -> Callable[..., Any]:
        options = self.options
        parallel = options["parallel"]
        compiled: dict[bool, Any] = {}

        def get(in_parallel: bool) -> Any:
            kernel = compiled.get(in_parallel)
            if kernel is None:
                with _lock:
                    kernel = compiled.get(in_parallel)
                    if kernel is None:
                        numba = numba_module()
                        if numba is None:
                            raise RuntimeError("tapegrad: a compiled kernel was called without Numba")
                        _announce()
                        function.__globals__["prange"] = numba.prange  # modules define prange = range
                        source = function if in_parallel == parallel else _serial_twin(function)
                        kernel = compiled[in_parallel] = numba.njit(**{**options, "parallel": in_parallel})(source)
            return kernel

        def call(*args: Any) -> Any:
            if not parallel or _elements(args) < PARALLEL_MIN_ELEMENTS:
                return get(False)(*args)
            kernel = get(True)
            numba = _numba
            with _launch_lock:  # one parallel region at a time (the workqueue layer is not re-entrant)
                threads = _threads.wanted(numba.config.NUMBA_NUM_THREADS)
                if numba.get_num_threads() != threads:
                    numba.set_num_threads(threads)
                return kernel(*args)

        call.py_func = function  # type: ignore[attr-defined]
        call.__name__ = function.__name__
        call.__doc__ = function.__doc__
        call.__wrapped__ = function  # type: ignore[attr-defined]
        return call
