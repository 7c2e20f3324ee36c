"""The runtime room: which array module, how many threads, and the scratch memory of tapegrad's kernels.

Everything that touches the process beyond one op's arrays lives here, beside ``backend.py`` (the array module,
re-exported) and the compiled kernels of ``kernels/``:

* the thread budget: ``TAPEGRAD_NUM_THREADS`` at import (else ``OMP_NUM_THREADS``, else the cores, at most 8),
  changed only by :func:`set_num_threads`, which also sets NumPy's BLAS threads through threadpoolctl (one
  budget, as ``torch.set_num_threads``).  Importing tapegrad changes no process-wide setting;
* the kernel pool: batch-sliced NumPy kernels (pooling's comparisons, convolution's per-sample products)
  release the GIL, so slices of the batch run on a small thread pool (:func:`over_batch`);
* scratch memory: per-thread buffers reused for the large temporaries (:func:`scratch`);
* :func:`keep_freed_memory`, which the command line and the benchmarks call (importing does not): glibc's
  allocator keeps freed arrays for reuse instead of handing them back and faulting fresh pages in.

Why these choices and what they were measured against: docs/performance.md, "Threads" and "Scratch buffers".
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, nullcontext
from typing import Any

import numpy as np

from .backend import array_module, cupy_module, gpu_available, is_gpu_array  # noqa: F401 - the array module
from .grad_mode import is_grad_enabled, set_grad_enabled
from .kernels import _threads as _kernel_threads

__all__ = [
    "array_module", "blas_threads", "clear_scratch", "concurrently", "get_num_threads", "is_gpu_array",
    "keep_freed_memory", "malloc_environment", "matmul", "num_threads", "over_batch", "scratch", "set_num_threads",
]

_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD, _M_MMAP_MAX = -1, -3, -4  # glibc's mallopt parameters (malloc.h)
_MMAP_THRESHOLD_MAX = 32 << 20  # glibc refuses more on 64-bit
KEEP_FREED_BYTES = 1 << 30


def malloc_environment(keep_bytes: int = KEEP_FREED_BYTES) -> dict[str, str]:
    """:func:`keep_freed_memory`'s settings as glibc's environment variables, for a child process."""
    return {"MALLOC_MMAP_THRESHOLD_": str(_MMAP_THRESHOLD_MAX), "MALLOC_MMAP_MAX_": "0",
            "MALLOC_TRIM_THRESHOLD_": str(int(min(keep_bytes, 2**31 - 1)))}


def keep_freed_memory(keep_bytes: int = KEEP_FREED_BYTES) -> bool:
    """Make glibc serve arrays from its heap (not a fresh mmap each) and keep up to ``keep_bytes`` of freed
    memory, so that the next training step reuses pages instead of faulting in fresh zeroed ones (a
    process-wide setting, like running under jemalloc; returns False where it does not apply: not glibc, or
    ``MALLOC_*_`` variables set).  Where the heap cannot grow (or, in another thread's arena, past 64 MiB),
    glibc still falls back to mmap.

    By default glibc returns a freed multi-megabyte array to the kernel, and the next step's array of the same
    size page-faults its memory back in.  Measured (2026-12-02, 2-core EPYC, 64x3x32x32 training step of the
    benchmark CNN, 1 thread): system time 26 % -> 5 % of the wall, step 47.7 -> 38.2 ms.  Peak resident memory
    does not grow (the kept memory is what the next step allocates again); it is not returned to the system
    until the process ends or ``keep_bytes`` is exceeded.
    """
    if any(name.startswith("MALLOC_") and name.endswith("_") for name in os.environ):
        return False  # the user chose glibc's settings
    try:
        import ctypes

        libc = ctypes.CDLL(None)
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    ok = mallopt(_M_MMAP_THRESHOLD, _MMAP_THRESHOLD_MAX) == 1
    ok = mallopt(_M_MMAP_MAX, 0) == 1 and ok  # arrays over 32 MiB too (ReLU of 16x16x224x224: 11 -> 6.3 ms)
    return bool(mallopt(_M_TRIM_THRESHOLD, int(min(keep_bytes, 2**31 - 1))) == 1 and ok)

MIN_ELEMENTS_PER_THREAD = 1 << 21
"""The least work (array elements touched) worth a pool thread.  A hand-off to the pool's other thread and back
costs 75-250 µs on the 2-core VM (a futex wake of the other vCPU, and of the GIL when both threads run Python),
while a memory-bound kernel gets through a million float32 elements in 0.1-0.4 ms.  Measured (2026-12-02,
2 threads, ReLU forward + backward + a channel sum per call): 32x16x28x28 1.10 ms split in two against
0.36 ms on one thread, 64x16x32x32 1.96 against 0.92 ms, 16x16x112x112 the same either way, 16x16x224x224
13.2 against 18.7 ms; the training steps, in-process A/B against 2^17: 64x3x32x32 29.9/28.7 -> 26.6/25.9 ms,
the demo's 25.8-27.3 -> 24.7-25.4 ms, 16x3x224x224 unchanged (188 ms)."""


def _threads_from_environment() -> int:
    """``TAPEGRAD_NUM_THREADS``, else ``OMP_NUM_THREADS`` (as PyTorch: what an MPI or batch launcher sets per
    process; its first level when it lists several, ignored when it is not a positive count), else the cores,
    at most 8."""
    text = os.environ.get("TAPEGRAD_NUM_THREADS", "").strip()
    if not text:
        omp = os.environ.get("OMP_NUM_THREADS", "").split(",")[0].strip()
        return int(omp) if omp.isdigit() and int(omp) > 0 else min(os.cpu_count() or 1, 8)
    try:
        value = int(text)
    except ValueError:
        raise ValueError(f"TAPEGRAD_NUM_THREADS must be a positive integer, got {text!r}") from None
    if value < 1:
        raise ValueError(f"TAPEGRAD_NUM_THREADS must be a positive integer, got {text!r}")
    return value


_lock = threading.Lock()
_pool: ThreadPoolExecutor | None = None
_threads = _threads_from_environment()
_kernel_threads.set_threads(_threads)  # the compiled kernels share the budget (tapegrad's own setting only)
_blas: int | None = None  # BLAS threads per call as last set or read; None: not known yet


def _check_count(n: Any, what: str) -> int:
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or int(n) < 1:
        raise ValueError(f"set_num_threads: {what} must be a positive int, got {n!r}")
    return int(n)


def set_num_threads(n: int, blas: int | None = None) -> None:
    """Let tapegrad use ``n`` threads (``torch.set_num_threads``): its kernel pool, its compiled kernels and
    NumPy's BLAS.

    ``blas`` (default ``n``) sets the BLAS threads of single products (a linear layer's) separately; convolution
    splits its batch over the kernel pool with one BLAS thread per slice whatever this says (``over_batch``).
    The BLAS setting is process-wide (it goes through threadpoolctl).
    """
    global _threads, _pool
    n = _check_count(n, "the number of threads")
    blas = n if blas is None else _check_count(blas, "blas")
    _set_blas_threads(blas)
    _kernel_threads.set_threads(n)
    with _lock:
        _threads = n
        if _pool is not None:
            _pool.shutdown(wait=True)
            _pool = None


def get_num_threads() -> int:
    """The threads tapegrad's kernels may use (``torch.get_num_threads``)."""
    return _threads


@contextmanager
def num_threads(n: int, blas: int | None = None) -> Iterator[None]:
    """:func:`set_num_threads` for the duration of a ``with`` block; the previous settings come back after."""
    previous_threads, previous_blas = _threads, blas_threads()
    set_num_threads(n, blas)
    try:
        yield
    finally:
        set_num_threads(previous_threads, previous_blas if previous_blas is not None else previous_threads)


def _blas_controller() -> Any:
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController().select(user_api="blas")


def _set_blas_threads(n: int) -> None:
    global _blas, _blas_libraries
    _blas_controller().limit(limits=n, user_api="blas")
    _blas = n
    _blas_libraries = None  # rescanned by the next quick set: a BLAS loaded since (SciPy's, say) is then included


_blas_libraries: list[Any] | None = None


def _set_blas_threads_quickly(n: int) -> None:
    """The BLAS libraries' own setters (about 2 µs; threadpoolctl's ``limit`` takes 11 µs and rescans)."""
    global _blas_libraries
    if _blas_libraries is None:
        _blas_libraries = list(_blas_controller().lib_controllers)
    for library in _blas_libraries:
        library.set_num_threads(n)


def blas_threads() -> int | None:
    """How many threads NumPy's BLAS uses per call (read once through threadpoolctl, then what was set)."""
    global _blas
    if _blas is None:
        counts = [info["num_threads"] for info in _blas_controller().info()]
        _blas = max(counts) if counts else None
    return _blas


def _executor() -> ThreadPoolExecutor:
    global _pool
    with _lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=_threads, thread_name_prefix="tapegrad")
        return _pool


def over_batch(
    n: int,
    elements: int,
    kernel: Callable[[int, int], Any],
    like: Any = None,
    blas: bool = False,
    min_elements: int | None = None,
) -> None:
    """Call ``kernel(start, stop)`` on contiguous slices covering ``range(n)``, in parallel when worth it.

    ``elements`` is the work of the whole call (array elements touched); GPU arrays always run inline.
    ``blas``: the kernel calls BLAS, which then runs one thread per call, inline or on the pool, and the setting
    comes back after: tapegrad's parallelism is its pool's, never OpenBLAS's own threads, whose workers keep
    spinning for a while after each multi-threaded call and took a core from the next kernel.  Measured on the
    2-core machine (2026-12-02): with the slices on the pool, convolution's column building runs on both cores,
    and the 224x224 training step of the benchmark CNN took 240-273 ms against 300-313 ms with a two-thread BLAS
    left to the linear layer and the small convolutions (three alternating runs each).
    ``min_elements``: the least work worth a thread of its own (default ``MIN_ELEMENTS_PER_THREAD``).
    """
    least = MIN_ELEMENTS_PER_THREAD if min_elements is None else min_elements
    parts = min(_threads, n, max(1, elements // least))
    inline = _kernel_threads.single_threaded()  # never wait on the pool from inside it, nor while it is busy
    if inline or (like is not None and is_gpu_array(like)):
        kernel(0, n)
        return
    with _single_threaded_blas(like) if blas else nullcontext():
        if parts <= 1:
            kernel(0, n)
            return
        bounds = [n * i // parts for i in range(parts + 1)]
        futures = [_executor().submit(kernel, bounds[i], bounds[i + 1]) for i in range(1, parts)]
        kernel(bounds[0], bounds[1])  # the calling thread takes the first slice
        for future in futures:
            future.result()


def concurrently(first: Callable[[], Any], second: Callable[[], Any], like: Any = None) -> tuple[Any, Any]:
    """``(first(), second())`` with the two calls running at the same time when there are threads for it:
    ``second`` on the kernel pool (under this thread's grad mode), ``first`` on this thread, each kept to its
    own thread (their slices, products and compiled kernels run inline, BLAS one thread per call).

    For two independent ops of similar size, such as a convolution's input and weight gradients: one hand-off
    for the pair instead of one per op, and each op whole on its core instead of split over both.  GPU arrays
    (``like``), one thread, or a call from inside the pool run the two in order on this thread.
    """
    if _threads < 2 or _kernel_threads.single_threaded() or (like is not None and is_gpu_array(like)):
        return first(), second()
    mode = is_grad_enabled()

    def on_the_pool() -> Any:
        with set_grad_enabled(mode):
            return second()

    with _single_threaded_blas(like):
        future = _executor().submit(on_the_pool)
        try:
            with _kernel_threads.alone():
                result = first()
        finally:
            other = future.result()  # waits (and raises its error) even when first() raised
    return result, other


MIN_MATMUL_ELEMENTS = 1 << 21
"""Multiply-adds per slice below which a product stays on one thread (a pool hand-off costs tens of µs): with
2^18 the 5-epoch demo (28x28 images) ran 15.4 s on 2 threads against 14.1 s on one (2.0 s of system time in
futex calls); with 2^21, 12.8-14.0 s and 1.0 s (2026-12-02)."""


def matmul(a: Any, b: Any) -> Any:
    """``a @ b`` for tapegrad's ops: a 2-D product split over the kernel pool (rows of ``a``, or columns of
    ``b`` when ``a`` has fewer rows than threads), each slice one single-threaded BLAS call (see ``over_batch``:
    OpenBLAS's own threads are not used); other shapes and GPU arrays go to the array module as they are.

    A transposed operand goes through ``np.dot``, which hands the transpose to BLAS: ``np.matmul`` with one
    ran slower and did not gain from the second thread (linear layer 16x100352 @ (10x100352)ᵀ at 2 threads:
    2.80 ms with matmul, 1.54 ms with dot; with both operands C-ordered matmul was as fast or faster).
    A tall, narrow result of a transposed ``a`` (a linear layer's weight gradient ``xᵀ @ g``, 100352x16 @ 16x10)
    is computed as the transpose of ``gᵀ @ x`` and returned as that transposed view: 2.8 -> 1.0 ms.

    A split product can differ from the whole one in the last bit: OpenBLAS's single-threaded ``sgemm`` rounds
    differently for a different number of rows (six of seven float32 shapes tried, 2026-12-02), so unlike the
    convolutions' results (``conv_arrays.WEIGHT_BLOCKS``) a product above ``MIN_MATMUL_ELEMENTS`` per slice may
    change its last bits with the thread count."""
    if a.ndim != 2 or b.ndim != 2 or is_gpu_array(a) or is_gpu_array(b) or type(a) is not np.ndarray:
        with _single_threaded_blas(a):
            return a @ b
    m, k = a.shape
    n = b.shape[1]
    if m > n and not a.flags.c_contiguous and a.T.flags.c_contiguous:
        return matmul(b.T, a.T).T  # (see the docstring: the long side of the result as its rows' length)
    out = np.empty((m, n), dtype=np.result_type(a.dtype, b.dtype))
    product = np.dot if not (a.flags.c_contiguous and b.flags.c_contiguous) else np.matmul
    if m >= _threads or m >= n:
        over_batch(m, m * n * k, lambda lo, hi: product(a[lo:hi], b, out=out[lo:hi]), blas=True,
                   min_elements=MIN_MATMUL_ELEMENTS)
    else:
        over_batch(n, m * n * k, lambda lo, hi: _columns(product, a, b, out, lo, hi), blas=True,
                   min_elements=MIN_MATMUL_ELEMENTS)
    return out


def _columns(product: Callable[..., Any], a: Any, b: Any, out: Any, lo: int, hi: int) -> None:
    out[:, lo:hi] = product(a, b[:, lo:hi])


@contextmanager
def _single_threaded_blas(like: Any) -> Iterator[None]:
    """BLAS at one thread per call for the block, then the setting back (nothing to do for GPU arrays, inside the
    pool's threads, whose caller already set it, or when BLAS already runs one thread)."""
    restore = None if like is not None and is_gpu_array(like) else blas_threads()
    if restore is not None and restore != 1 and not _kernel_threads.single_threaded():
        _set_blas_threads_quickly(1)
        try:
            yield
        finally:
            _set_blas_threads_quickly(restore)
    else:
        yield


_local = threading.local()


def scratch(role: str, shape: tuple[int, ...], dtype: Any, like: Any) -> Any:
    """An uninitialised array of ``shape`` and ``dtype``, reused across calls with the same ``role``.

    One buffer per thread and role, so a fresh large array is not page-faulted in on every call.  A scratch view
    must never escape the op that asked for it: the next call with that role overwrites it.  On CuPy the
    memory pool already does this, so a fresh array is returned.
    """
    xp = array_module(like)
    if xp is not np:
        return xp.empty(shape, dtype=dtype)
    buffers = getattr(_local, "buffers", None)
    if buffers is None:
        buffers = _local.buffers = {}
    dtype = np.dtype(dtype)
    size = 1
    for s in shape:
        size *= s
    nbytes = size * dtype.itemsize
    buffer = buffers.get(role)
    if buffer is None or buffer.nbytes < nbytes:
        buffer = buffers[role] = np.empty(max(nbytes, 1), dtype=np.uint8)
    return buffer[:nbytes].view(dtype).reshape(shape)


def clear_scratch() -> None:
    """Free this thread's scratch buffers (they are otherwise kept for the next call)."""
    _local.buffers = {}
