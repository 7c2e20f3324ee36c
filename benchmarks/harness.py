"""Timing: every implementation of a case measured in interleaved blocks, the median of the blocks reported.

OpenBLAS's and PyTorch's thread pools keep spinning for a moment after a call, and on a small machine that
steals time from whatever runs next.  So each implementation runs in a block of its own (several calls, timed
together), with a short pause and a garbage collection before it, and the blocks of the implementations
alternate (the order rotates every round) so that slow drifts of the machine's load hit all sides alike.
"""

from __future__ import annotations

import gc
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

Impl = Callable[[], Any]


@dataclass
class Case:
    """One benchmark: ``make(device)`` builds the data, returns ``{implementation: zero-argument callable}``.

    ``flops`` (per call) gives GFLOP/s and % of GEMM peak; ``target`` is the issue's bound on the ratio
    tapegrad / PyTorch; ``peers`` are implementations timed for comparison with fewer rounds when slow.
    """

    name: str
    group: str
    make: Callable[[str], dict[str, Impl]]
    flops: float | None = None
    target: float | None = None
    quick: bool = True
    note: str = ""
    unit: str = "ms"  # "ms" per call, or "us/op" with ``per`` operations per call
    per: int = 1
    ratio_of: tuple[str, str] = ("tapegrad", "torch")  # numerator, denominator of the reported ratio


@dataclass
class Timing:
    impl: str
    median_s: float
    rounds: list[float] = field(default_factory=list)
    calls_per_block: int = 1

    @property
    def spread(self) -> float:
        """(max - min) / median of the blocks: how noisy the measurement was."""
        if len(self.rounds) < 2 or self.median_s == 0:
            return 0.0
        return (max(self.rounds) - min(self.rounds)) / self.median_s


def measure(
    impls: dict[str, Impl],
    rounds: int,
    block_s: float,
    pause_s: float,
    sync: Callable[[], None] | None = None,
    slow_limit_s: float = 2.0,
    max_rounds: dict[str, int] | None = None,
) -> dict[str, Timing]:
    """Median seconds per call of each implementation, measured in alternating blocks.

    An implementation whose single call takes longer than ``slow_limit_s`` (a slow peer) is timed in fewer
    rounds so that a run stays bounded; its rounds are still interleaved with the others'.  ``max_rounds``
    caps named implementations (the peers in a quick run).
    """
    sync = sync or (lambda: None)
    calls: dict[str, int] = {}
    budget: dict[str, int] = {}
    for name, fn in list(impls.items()):
        try:
            once = _block(fn, 1, sync, pause_s=0.0)  # warm-up: allocator, caches, thread pools, lazy imports
        except Exception as exc:  # one side failing must not stop the others (reported, then left out)
            print(f"    {name} failed and is left out: {type(exc).__name__}: {str(exc).splitlines()[0]}")
            impls = {k: v for k, v in impls.items() if k != name}
            continue
        once = min(once, _block(fn, 1, sync, pause_s=0.0)) if once < slow_limit_s else once
        calls[name] = max(1, int(block_s / max(once, 1e-9)))
        budget[name] = rounds if once * rounds < 4 * slow_limit_s else max(1, min(rounds, 3))
        if max_rounds and name in max_rounds:
            budget[name] = min(budget[name], max_rounds[name])
    results = {name: Timing(name, 0.0, [], calls[name]) for name in impls}
    names = list(impls)
    for r in range(rounds):
        order = names[r % len(names) :] + names[: r % len(names)]
        for name in order:
            if len(results[name].rounds) >= budget[name]:
                continue
            elapsed = _block(impls[name], calls[name], sync, pause_s)
            results[name].rounds.append(elapsed / calls[name])
    for t in results.values():
        t.median_s = statistics.median(t.rounds)
    return results


def _block(fn: Impl, calls: int, sync: Callable[[], None], pause_s: float) -> float:
    gc.collect()
    if pause_s:
        time.sleep(pause_s)
    sync()
    start = time.perf_counter()
    for _ in range(calls):
        fn()
    sync()
    return time.perf_counter() - start
