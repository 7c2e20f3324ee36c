"""What the numbers were measured on: CPU, cores, library versions, BLAS kernel, threads, float32 GEMM peak.

The peak is *measured* (a large NumPy float32 matmul, best of a few), not taken from a data sheet: "% of peak"
then says how close an op gets to what this BLAS really does on this machine with these threads.
"""

from __future__ import annotations

import os
import platform
import time
from typing import Any

import numpy as np


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def cpu_flags() -> list[str]:
    """The SIMD extensions that matter for float32 GEMM (AVX2/FMA/AVX-512), from /proc/cpuinfo."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("flags"):
                    flags = set(line.split(":", 1)[1].split())
                    return sorted(f for f in flags if f in {"avx2", "fma", "avx512f", "avx512_vnni", "amx_tile"})
    except OSError:
        pass
    return []


def blas_info() -> list[dict[str, Any]]:
    """The BLAS libraries loaded in this process, their kernel (``architecture``) and thread count.

    threadpoolctl (the ``bench`` extra) reports what is loaded *now*, including torch's own; without it,
    NumPy's build configuration says which BLAS it was built against.
    """
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        config = np.show_config(mode="dicts") if "mode" in np.show_config.__code__.co_varnames else {}
        blas = config.get("Build Dependencies", {}).get("blas", {}) if isinstance(config, dict) else {}
        return [
            {
                "user_api": "blas",
                "internal_api": blas.get("name", "unknown"),
                "version": blas.get("version"),
                "architecture": "unknown (install threadpoolctl)",
                "num_threads": None,
            }
        ]
    keep = ("user_api", "internal_api", "prefix", "version", "architecture", "num_threads", "threading_layer")
    return [{k: info.get(k) for k in keep} for info in threadpool_info()]


def set_threads(threads: int, torch_too: bool = True) -> dict[str, Any]:
    """Give NumPy's BLAS, tapegrad's kernel pool and PyTorch the same number of threads; returns what each
    reports afterwards.

    The BLAS limit goes through threadpoolctl (it stays in force for the process); torch's intra-op pool is
    set with ``torch.set_num_threads``.  Without threadpoolctl the BLAS keeps its default (the output says
    so).
    """
    result: dict[str, Any] = {"requested": threads}
    result["allocator"] = _keep_freed_memory()
    try:
        from threadpoolctl import threadpool_limits

        result["_limiter"] = threadpool_limits(limits=threads, user_api="blas")
        result["blas"] = [i["num_threads"] for i in blas_info() if i.get("user_api") == "blas"]
    except ImportError:
        result["blas"] = "default (threadpoolctl not installed)"
    setter = tapegrad_thread_setter()
    if setter is not None:
        setter[0](threads)
        result["tapegrad"] = setter[1]()
    if not torch_too:  # the memory subprocess of tapegrad must not import torch
        return result
    try:
        import torch

        torch.set_num_threads(threads)
        result["torch"] = torch.get_num_threads()
        result["torch_interop"] = torch.get_num_interop_threads()
    except ImportError:
        result["torch"] = None
    return result


def _keep_freed_memory() -> str:
    """glibc keeps freed arrays for reuse, for both frameworks alike (one process), as the ``tapegrad`` command
    does (``tapegrad.autograd.runtime.keep_freed_memory``); the header of a run says whether it applied."""
    try:
        from tapegrad.autograd.runtime import keep_freed_memory
    except ImportError:
        return "glibc defaults (this tapegrad has no keep_freed_memory)"
    return "glibc keeps freed memory (mallopt)" if keep_freed_memory() else "allocator defaults"


def tapegrad_thread_setter() -> tuple[Any, Any] | None:
    """tapegrad's own kernel thread pool (batch slices of pooling/convolution), if this version has one."""
    import importlib

    for name in ("tapegrad.autograd.runtime", "tapegrad.nn.functional", "tapegrad.nn.functional._parallel"):
        try:
            module = importlib.import_module(name)
        except ImportError:
            continue
        if hasattr(module, "set_num_threads") and hasattr(module, "get_num_threads"):
            return module.set_num_threads, module.get_num_threads
    return None


def gemm_peak(size: int = 2048, repeats: int = 5) -> dict[str, float]:
    """Best float32 GEMM rate (GFLOP/s) of NumPy and of torch on ``size x size`` matrices."""
    rng = np.random.default_rng(0)
    a = rng.standard_normal((size, size), dtype=np.float32)
    b = rng.standard_normal((size, size), dtype=np.float32)
    flops = 2.0 * size**3
    out: dict[str, float] = {"size": size}
    a @ b  # warm the pool and the page tables
    best = min(_timed(lambda: a @ b) for _ in range(repeats))
    out["numpy_gflops"] = flops / best / 1e9
    try:
        import torch

        ta, tb = torch.from_numpy(a), torch.from_numpy(b)
        ta @ tb
        best = min(_timed(lambda: ta @ tb) for _ in range(repeats))
        out["torch_gflops"] = flops / best / 1e9
    except ImportError:
        pass
    return out


def handoff_latency(repeats: int = 100, busy_s: float = 0.002) -> dict[str, float] | None:
    """What one hand-off to tapegrad's kernel pool costs on this machine: the round trip of
    ``runtime.concurrently`` with two empty calls (the least any split op or side-by-side gradient pays), in
    microseconds, back to back and after ``busy_s`` of work on the calling thread (as between the ops of a
    training step, while the pool thread sleeps).  None with one thread (nothing is handed off).

    Why it is in every run's header: it decides whether the pool pays for small ops, and it is a property of the
    machine and the moment, not of tapegrad: on the 2-core VM it read 63 µs back to back and 390 µs after 2 ms
    of work on a day when the 28x28 demo ran slower on 2 threads than on 1, and 90-260 / 250-510 µs an hour
    later (docs/performance.md, "Fifth pass").
    """
    try:
        from tapegrad.autograd import runtime
    except ImportError:
        return None
    if runtime.get_num_threads() < 2:
        return None

    def noop() -> None:
        return None

    def round_trips(gap_s: float) -> list[float]:
        times = []
        for _ in range(repeats):
            if gap_s:
                until = time.perf_counter() + gap_s
                while time.perf_counter() < until:  # busy, as the calling thread is between ops
                    pass
            start = time.perf_counter()
            runtime.concurrently(noop, noop)
            times.append(time.perf_counter() - start)
        return sorted(times)

    round_trips(0.0)  # warm-up: the pool thread started, the code paths run once
    back_to_back, after_work = round_trips(0.0), round_trips(busy_s)
    return {"median_us": back_to_back[repeats // 2] * 1e6, "p90_us": back_to_back[repeats * 9 // 10] * 1e6,
            "after_work_median_us": after_work[repeats // 2] * 1e6, "busy_s": busy_s}


def gpu_gemm_peak(size: int = 8192, repeats: int = 5) -> dict[str, float]:
    """Best float32 GEMM rate of CuPy and torch CUDA (synchronised), and the card's name."""
    import cupy
    import torch

    a = cupy.random.standard_normal((size, size), dtype=cupy.float32)
    b = cupy.random.standard_normal((size, size), dtype=cupy.float32)
    flops = 2.0 * size**3
    props = cupy.cuda.runtime.getDeviceProperties(0)
    name = props["name"].decode() if isinstance(props["name"], bytes) else str(props["name"])
    out: dict[str, Any] = {"size": size, "gpu": name}

    def run(fn: Any, sync: Any) -> float:
        fn()
        sync()
        best = float("inf")
        for _ in range(repeats):
            start = time.perf_counter()
            fn()
            sync()
            best = min(best, time.perf_counter() - start)
        return best

    out["numpy_gflops"] = flops / run(lambda: a @ b, cupy.cuda.Device().synchronize) / 1e9  # CuPy's
    ta, tb = torch.as_tensor(a, device="cuda"), torch.as_tensor(b, device="cuda")
    out["torch_gflops"] = flops / run(lambda: ta @ tb, torch.cuda.synchronize) / 1e9
    return out


def _timed(fn: Any) -> float:
    time.sleep(0.02)
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def versions() -> dict[str, str | None]:
    found: dict[str, str | None] = {"python": platform.python_version(), "numpy": np.__version__}
    for name in ("torch", "mygrad", "cupy", "threadpoolctl"):
        try:
            module = __import__(name)
            found[name] = getattr(module, "__version__", "?")
        except ImportError:
            found[name] = None
    try:
        import tapegrad

        found["tapegrad"] = tapegrad.__version__
    except ImportError:
        found["tapegrad"] = None
    return found


def load_average() -> tuple[float, float, float] | None:
    try:
        return os.getloadavg()
    except OSError:
        return None


def describe_machine() -> dict[str, Any]:
    env = {
        k: os.environ.get(k)
        for k in (
            "OPENBLAS_CORETYPE",
            "OPENBLAS_L2_SIZE",
            "OPENBLAS_NUM_THREADS",
            "OMP_NUM_THREADS",
            "MKL_NUM_THREADS",
        )
    }
    return {
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "affinity": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "simd": cpu_flags(),
        "platform": platform.platform(),
        "versions": versions(),
        "blas": blas_info(),
        "env": {k: v for k, v in env.items() if v is not None},
        "load_average": load_average(),
    }
