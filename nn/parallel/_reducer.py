"""The gradient all-reduce of ``DistributedDataParallel``: flat buckets, filled as gradients arrive, reduced in order.

Why buckets (measured by benchmarks/cases_distributed.py, 2 local ranks): one all-reduce costs a fixed ~20-50 us
plus bytes / bandwidth, so reducing the reference CNN's ~10 parameters one by one pays the fixed cost ten times,
while one message per ~25 MB pays it once and still lets the first buckets travel while later gradients are
being produced.

How the gradients arrive: a hook on every parameter (a leaf of the tape) gets its summed gradient, copies it
(plus what ``.grad`` already held, as torch's reducer does, which is what makes ``no_sync()`` accumulation
correct) into its slot of a bucket, and starts the bucket's non-blocking all-reduce when the bucket is full and
every earlier bucket has started (all ranks must start collectives in the same order).  The parameter's
``.grad`` becomes a view of its slot (torch's ``gradient_as_bucket_view``), so the averaged result needs no copy
back on the host.  When the last hook has fired, every bucket is waited for and divided by the world size.

tapegrad's engine hands a leaf its gradient (and runs its hooks) as soon as the last op that used it has run
its backward, as PyTorch's AccumulateGrad does; so a full bucket's all-reduce starts while backward is still
computing earlier layers' gradients.  MPI moves a non-blocking all-reduce forward only inside MPI calls, so how
much of it really overlaps is measured, not assumed (benchmarks/cases_distributed.py).
"""

from __future__ import annotations

import time
from typing import Any

from tapegrad.autograd import Tensor, array_module
from tapegrad.autograd.backend import device_of

from tapegrad.distributed import DistributedError, all_reduce


class _Bucket:
    def __init__(self, index: int, params: list[tuple[str, Any]]) -> None:
        self.index = index
        self.names = [n for n, _ in params]
        self.params = [p for _, p in params]
        self.offsets: list[int] = []
        total = 0
        for p in self.params:
            self.offsets.append(total)
            total += int(p.data.size)
        xp = array_module(self.params[0].data)
        self.buffer = xp.zeros(total, dtype=self.params[0].data.dtype)
        self.pending = len(self.params)
        self.work: Any = None
        self.seen: set[int] = set()

    def view(self, i: int) -> Any:
        p = self.params[i]
        return self.buffer[self.offsets[i]:self.offsets[i] + p.data.size].reshape(p.data.shape)

    def nbytes(self) -> int:
        return int(self.buffer.nbytes)


class Reducer:
    """Owns the buckets and the per-parameter hooks; ``prepare()`` arms it for one backward pass."""

    def __init__(self, named_params: list[tuple[str, Any]], bucket_cap_bytes: int) -> None:
        if bucket_cap_bytes < 1:
            raise ValueError(f"DistributedDataParallel: bucket_cap_mb must be positive, got "
                             f"{bucket_cap_bytes / 2**20} MB")
        self.buckets: list[_Bucket] = []
        self.where: dict[int, tuple[_Bucket, int]] = {}
        # torch's rule: buckets in reverse registration order, which approximates the order in which
        # backward produces gradients (the last layer's first); one bucket holds one dtype on one device
        current: list[tuple[str, Any]] = []
        size = 0
        for name, p in reversed(named_params):
            key = (p.data.dtype, device_of(p.data))
            if current and (size + p.data.nbytes > bucket_cap_bytes
                            or (current[0][1].data.dtype, device_of(current[0][1].data)) != key):
                self._add(current)
                current, size = [], 0
            current.append((name, p))
            size += p.data.nbytes
        if current:
            self._add(current)
        self.armed = False
        self.fired = 0
        self.launched = 0
        self.removers = [p.register_hook(self._hook(id(p))) for _, p in named_params]
        self.stats = {"steps": 0, "reduced_bytes": 0, "launch_seconds": 0.0, "wait_seconds": 0.0,
                      "copy_seconds": 0.0}

    def _add(self, params: list[tuple[str, Any]]) -> None:
        bucket = _Bucket(len(self.buckets), params)
        for i, (_, p) in enumerate(params):
            self.where[id(p)] = (bucket, i)
        self.buckets.append(bucket)

    # ------------------------------------------------------------------ one iteration
    def prepare(self) -> None:
        """Arm the hooks for the next backward (called by DDP's forward when gradients will be synchronised)."""
        if self.armed and self.fired:
            missing = [b.names[i] for b in self.buckets for i, p in enumerate(b.params) if id(p) not in b.seen]
            raise DistributedError(
                "DistributedDataParallel: the previous backward produced no gradient for "
                f"{', '.join(missing[:8])}; every parameter must take part in the loss on every rank "
                "(a parameter that is never used should have requires_grad=False)")
        for b in self.buckets:
            b.pending = len(b.params)
            b.work = None
            b.seen = set()
        self.fired = self.launched = 0
        self.armed = True

    def _hook(self, key: int) -> Any:
        def hook(grad: Tensor) -> Any:
            if not self.armed:
                return None  # no_sync(), eval, or a backward outside a DDP forward: plain local accumulation
            return self._ready(key, grad)

        return hook

    def _ready(self, key: int, grad: Tensor) -> Any:
        bucket, i = self.where[key]
        p = bucket.params[i]
        if key in bucket.seen:
            raise DistributedError(f"DistributedDataParallel: parameter {bucket.names[i]} received a gradient "
                                   "twice in one iteration (two backward passes after one forward?); use "
                                   "no_sync() for all but the last")
        began = time.perf_counter()
        bucket.seen.add(key)
        total = grad.data if p.grad is None else grad.data + p.grad.data
        slot = bucket.view(i)
        slot[...] = total
        p.grad = None  # the engine then sets .grad to what this hook returns
        bucket.pending -= 1
        self.fired += 1
        self.stats["copy_seconds"] += time.perf_counter() - began
        self._launch_ready()
        if self.fired == len(self.where):
            self._finish()
        return Tensor._make(slot, None, 0)

    def _launch_ready(self) -> None:
        began = time.perf_counter()
        while self.launched < len(self.buckets) and self.buckets[self.launched].pending == 0:
            bucket = self.buckets[self.launched]
            bucket.work = all_reduce(bucket.buffer, "mean", async_op=True)
            self.stats["reduced_bytes"] += bucket.nbytes()
            self.launched += 1
        self.stats["launch_seconds"] += time.perf_counter() - began

    def _finish(self) -> None:
        began = time.perf_counter()
        for bucket in self.buckets:  # the .grad of every parameter is a view of its bucket: nothing to copy
            bucket.work.wait()
        self.stats["wait_seconds"] += time.perf_counter() - began
        self.stats["steps"] += 1
        self.armed = False
        self.fired = 0

    def remove(self) -> None:
        for remover in self.removers:
            remover()
