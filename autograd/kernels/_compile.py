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


class jit:  # noqa: N801 - a decorator, named like numba.njit
    """``numba.njit(cache=True, ...)`` applied on first call: the decorated function stays plain Python
    until then (and forever, when Numba is missing; the dispatcher then never calls it)."""

    def __init__(self, parallel: bool = True, fastmath: bool = False) -> None:
        self.options = dict(parallel=parallel, fastmath=fastmath, cache=True, nogil=True)

    def __call__(self, function: Callable[..., Any]) -> Callable[..., Any]:
        options = self.options
        parallel = options["parallel"]
        compiled: list[Any] = []

        def call(*args: Any) -> Any:
            if not compiled:
                with _lock:
                    if not compiled:
                        numba = numba_module()
                        if numba is None:
                            raise RuntimeError("tapegrad: a compiled kernel was called without Numba")
                        _announce()
                        function.__globals__["prange"] = numba.prange  # modules define prange = range
                        compiled.append(numba.njit(**options)(function))
            if not parallel:
                return compiled[0](*args)
            numba = _numba
            with _launch_lock:  # one parallel region at a time (the workqueue layer is not re-entrant)
                threads = _threads.wanted(numba.config.NUMBA_NUM_THREADS)
                if numba.get_num_threads() != threads:
                    numba.set_num_threads(threads)
                return compiled[0](*args)

        call.py_func = function  # type: ignore[attr-defined]
        call.__name__ = function.__name__
        call.__doc__ = function.__doc__
        call.__wrapped__ = function  # type: ignore[attr-defined]
        return call
