"""The kernel pool: the threads that run slices of tapegrad's ops beside the calling thread.

Each worker has its own task slot and two counters (posted, done).  The caller posts a task and raises the
worker's counter; the worker runs it and raises its done counter.  Between tasks a worker does not go to sleep
at once: it reads its counter in compiled code, without the GIL, for about ``IDLE_SPINS`` reads (a few ms), and
the caller reads the done counter the same way while it waits (``kernels/_spin.py``).  Only after that do they
block on a condition variable.  So a hand-off inside a training step, where ops follow each other within
milliseconds, needs no futex wake-up, which is what made the pool slow: ``concurrent.futures`` put every
hand-off through two (the task queue and the future), and on the 2-core VM a wake-up of the other vCPU took
63 µs back to back and 390 µs after 2 ms of work on the calling thread, its vCPU asleep.  With the spin:
17 µs and 65 µs (2026-12-02; what is left is the GIL, which the task's Python still takes).  Training steps
at 2 threads, in-process A/B against ``ThreadPoolExecutor``: 16x3x224x224 290.7 -> 254.4 ms, 64x3x32x32
34.1 -> 29.0 ms, the demo's 30.0 -> 27.7 ms (docs/performance.md, "Fifth pass").

This is OpenMP's policy (PyTorch's threads spin between parallel regions too), and ``OMP_WAIT_POLICY=passive``
turns the spinning off here as there.  Without the compiled kernels (no Numba, or ``TAPEGRAD_KERNELS=numpy``)
the threads block at once, like a plain pool.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .kernels._spin import wait_until

IDLE_SPINS = 3_000_000
"""Reads of its counter a worker makes before it sleeps: about 4 ms at ~1.3 ns a read on the 2-core VM.  A
training step hands work over every few milliseconds; a longer pause costs one wake-up."""

RESULT_SPINS = 30_000_000
"""Reads of a worker's done counter a caller makes before it sleeps (about 40 ms): a slice runs about as long as
the caller's own, so the caller nearly always finds it done or about to be."""

_POSTED, _DONE, _WORKER_ASLEEP, _CALLER_ASLEEP = 0, 8, 16, 24  # each counter on a cache line of its own
_ROW = 32


def _spins(default: int) -> int:
    return 0 if os.environ.get("OMP_WAIT_POLICY", "").strip().lower() == "passive" else default


class Batch:
    """Tasks posted to workers by :meth:`KernelPool.start`; :meth:`wait` gives their results."""

    def __init__(self, pool: KernelPool, posted: list[tuple[int, int]]) -> None:
        self.pool, self.posted = pool, posted

    def wait(self, raise_errors: bool = True) -> list[Any]:
        """Wait for every task, release the pool, and return the results in order (or raise the first error)."""
        pool = self.pool
        try:
            for worker, count in self.posted:
                pool.wait_done(worker, count)
        finally:
            pool.busy.release()
        results = []
        for worker, _ in self.posted:
            result, error = pool.results[worker]
            if error is not None and raise_errors:
                raise error
            results.append(result)
        return results


class KernelPool:
    """``workers`` threads named ``tapegrad-kernel-<i>`` (the name tells ``kernels._threads`` that work started
    there stays there)."""

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self.flags = np.zeros((workers, _ROW), dtype=np.int64)
        self.tasks: list[Callable[[], Any] | None] = [None] * workers
        self.results: list[tuple[Any, BaseException | None]] = [(None, None)] * workers
        self.condition = threading.Condition()
        self.busy = threading.Lock()  # one caller's batch at a time
        self.stopping = False
        self.threads = [threading.Thread(target=self._work, args=(i,), name=f"tapegrad-kernel-{i}", daemon=True)
                        for i in range(workers)]
        for thread in self.threads:
            thread.start()

    def start(self, tasks: Sequence[Callable[[], Any]]) -> Batch | None:
        """Post ``tasks`` (at most ``workers``), one per worker; None when another thread's batch holds the pool
        (the caller then runs the work itself)."""
        if len(tasks) > self.workers or not self.busy.acquire(blocking=False):
            return None
        posted = []
        with self.condition:
            for worker, task in enumerate(tasks):
                self.tasks[worker] = task
                self.flags[worker, _POSTED] += 1
                posted.append((worker, int(self.flags[worker, _POSTED])))
            if self.flags[: len(tasks), _WORKER_ASLEEP].any():
                self.condition.notify_all()
        return Batch(self, posted)

    def wait_done(self, worker: int, count: int) -> None:
        row = self.flags[worker]
        if wait_until(row, _DONE, count, _spins(RESULT_SPINS)):
            return
        with self.condition:
            row[_CALLER_ASLEEP] = 1
            while row[_DONE] < count:
                self.condition.wait()
            row[_CALLER_ASLEEP] = 0

    def park(self) -> None:
        """Send the spinning workers to sleep now, when other threads are about to need the cores (a parallel
        compiled region: its threads and a spinning worker would be three on two cores).  Not while a batch
        runs; a worker that is asleep already is left alone."""
        if not self.busy.acquire(blocking=False):
            return
        try:
            with self.condition:
                spinning = self.flags[:, _WORKER_ASLEEP] == 0
                self.flags[spinning, _POSTED] += 1  # no task: the worker sees the count, finds none, sleeps
        finally:
            self.busy.release()

    def _work(self, worker: int) -> None:
        row, seen, spin = self.flags[worker], 0, True
        while True:
            if not (spin and wait_until(row, _POSTED, seen + 1, _spins(IDLE_SPINS))):
                with self.condition:
                    row[_WORKER_ASLEEP] = 1
                    while row[_POSTED] <= seen and not self.stopping:
                        self.condition.wait()
                    row[_WORKER_ASLEEP] = 0
            if self.stopping:
                return
            seen = int(row[_POSTED])
            task, self.tasks[worker] = self.tasks[worker], None
            spin = task is not None  # parked: sleep until the next task
            if task is None:
                continue
            try:
                self.results[worker] = (task(), None)  # type: ignore[misc]
            except BaseException as error:  # handed to the caller by Batch.wait
                self.results[worker] = (None, error)
            with self.condition:
                row[_DONE] = seen
                if row[_CALLER_ASLEEP]:
                    self.condition.notify_all()

    def shutdown(self) -> None:
        """Stop the workers (after the task they run) and wait for them."""
        with self.condition:
            self.stopping = True
            self.flags[:, _POSTED] += 1  # a spinning worker sees it and stops
            self.condition.notify_all()
        for thread in self.threads:
            if thread is not threading.current_thread():
                thread.join()
