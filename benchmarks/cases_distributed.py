"""Distributed benchmarks on local ranks: all-reduce time and bandwidth, data-parallel step throughput.

    python -m benchmarks.cases_distributed               # all three, on 2 local ranks, 1 BLAS thread each
    python -m benchmarks.cases_distributed --quick       # fewer repeats
    python -m benchmarks.cases_distributed --json benchmarks/results/distributed.json

Needs ``pip install tapegrad[distributed]``.  The driver (this process) launches ``mpiexec -n N python -m
benchmarks.cases_distributed --worker CASE``; rank 0 of each job prints one JSON line, the driver prints tables.

* ``allreduce``: ``MPI_Allreduce`` (through ``tapegrad.distributed.all_reduce``, in place, float32) of 1 KiB to
  64 MiB: median time, algorithm bandwidth (bytes / time) and bus bandwidth (2(N-1)/N x bytes / time, the
  per-link rate of a ring all-reduce, comparable across N).
* ``step``: the training step of the reference CNN (benchmarks/model.py) on 224 x 224 images, batch ``--batch``
  per rank, on 1 rank and on N ranks (DistributedDataParallel; N ranks process N x the images per step):
  images per second and the scaling efficiency (throughput on N) / (N x throughput on 1); ``--repeat`` 1-rank
  and N-rank jobs alternate and the median job counts (single jobs on this shared machine varied by 1.5x).
* the all-reduce added to a step: the N-rank step with gradient synchronisation minus the same step inside
  ``no_sync()`` (which skips the all-reduce; the two alternate step by step), against a bare all-reduce of the
  gradients' size: the share of the reduction hidden behind other work is 1 - added / bare.  The synchronised
  step also waits for the slower rank, which the ``no_sync`` step does not: on a noisy machine that wait shows
  up as "added" time.  ``--bucket-cap-mb`` sets DistributedDataParallel's bucket size.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

SIZES = [2**k for k in range(10, 27, 2)]  # 1 KiB .. 64 MiB


def _median_time(fn: Any, budget: float, least: int = 5) -> float:
    """Median of as many calls as fill ``budget`` seconds (at least ``least``); rank 0 decides the count, so
    every rank makes the same calls (a collective that one rank skips would hang the others)."""
    import tapegrad.distributed as dist

    t = time.perf_counter()
    fn()  # warm-up, and the estimate of one call
    first = time.perf_counter() - t
    count = np.array([min(1000, max(least, int(budget / max(first, 1e-9))))], dtype=np.int64)
    dist.broadcast(count, src=0)
    times: list[float] = []
    for _ in range(int(count[0])):
        dist.barrier()
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def worker_allreduce(quick: bool) -> dict[str, Any]:
    import tapegrad.distributed as dist

    rows = []
    for size in SIZES:
        buffer = np.ones(size // 4, dtype=np.float32)
        budget = 0.1 if quick else 0.4
        seconds = _median_time(lambda buffer=buffer: dist.all_reduce(buffer, "sum"), budget)
        n = dist.get_world_size()
        rows.append({"bytes": size, "seconds": seconds, "algbw_GBps": size / seconds / 1e9,
                     "busbw_GBps": 2 * (n - 1) / n * size / seconds / 1e9})
    return {"allreduce": rows}


def worker_step(batch: int, steps: int, bucket_cap_mb: float = 25.0) -> dict[str, Any]:
    from tapegrad.autograd import Tensor

    import tapegrad.distributed as dist
    from benchmarks.model import batch as make_batch
    from benchmarks.model import tapegrad_model, tapegrad_step
    from tapegrad import nn

    size = 224
    model = tapegrad_model(size)
    grad_bytes = sum(p.data.nbytes for p in model.parameters())
    world = dist.get_world_size()
    ddp = nn.parallel.DistributedDataParallel(model, bucket_cap_mb=bucket_cap_mb) if world > 1 else model
    optimizer = nn.optim.SGD(model.parameters(), lr=1e-3)
    x, y = (Tensor(a) for a in make_batch(batch, size, seed=dist.get_rank()))
    def synced_step() -> None:
        tapegrad_step(ddp, optimizer, x, y)

    def local_step() -> None:
        with ddp.no_sync():
            tapegrad_step(ddp, optimizer, x, y)

    if world == 1:
        synced = _median_time(synced_step, 0.0, least=steps)
    else:  # the two kinds of step alternate, so that a slow stretch of the machine hits both alike
        synced, unsynced = _interleaved_medians(synced_step, local_step, steps)
    result = {"ranks": world, "batch_per_rank": batch, "step_seconds": synced,
              "images_per_second": batch * world / synced, "gradient_bytes": grad_bytes}
    if world > 1:
        flat = np.zeros(grad_bytes // 4, dtype=np.float32)
        bare = _median_time(lambda: dist.all_reduce(flat, "mean"), 0.2, least=10)
        stats = ddp.reducer.stats
        result.update(step_without_allreduce_seconds=unsynced, added_seconds=synced - unsynced,
                      bare_allreduce_seconds=bare, hidden_share=1 - (synced - unsynced) / bare,
                      reducer_wait_seconds_per_step=stats["wait_seconds"] / max(stats["steps"], 1),
                      reducer_copy_seconds_per_step=stats["copy_seconds"] / max(stats["steps"], 1),
                      buckets=len(ddp.reducer.buckets))
    return result


def _interleaved_medians(first: Any, second: Any, pairs: int) -> tuple[float, float]:
    """Medians of ``pairs`` calls of each, alternating first/second (every rank makes the same calls)."""
    import tapegrad.distributed as dist

    first()
    second()  # warm-up
    times: tuple[list[float], list[float]] = ([], [])
    for _ in range(pairs):
        for fn, out in ((first, times[0]), (second, times[1])):
            dist.barrier()
            t = time.perf_counter()
            fn()
            out.append(time.perf_counter() - t)
    return statistics.median(times[0]), statistics.median(times[1])


def _worker(case: str, options: argparse.Namespace) -> None:
    import tapegrad.distributed as dist

    dist.init_process_group()
    if case == "allreduce":
        result = worker_allreduce(options.quick)
    else:
        result = worker_step(options.batch, options.steps, options.bucket_cap_mb)
    if dist.get_rank() == 0:
        print("RESULT " + json.dumps(result), flush=True)
    dist.destroy_process_group()


def _launch(ranks: int, case: str, options: argparse.Namespace) -> dict[str, Any]:
    from tests.distributed.mpi import mpiexec

    env = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
           "TAPEGRAD_NUM_THREADS": "1", "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    command = [mpiexec(), "-n", str(ranks), sys.executable, "-m", "benchmarks.cases_distributed", "--worker", case,
               "--batch", str(options.batch), "--steps", str(options.steps),
               "--bucket-cap-mb", str(options.bucket_cap_mb)] + (["--quick"] if options.quick else [])
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=1200)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{done.stderr}")
    line = next(x for x in done.stdout.splitlines() if x.startswith("RESULT "))
    return json.loads(line[len("RESULT "):])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--ranks", type=int, default=2)
    parser.add_argument("--batch", type=int, default=16, help="images per rank per step (default 16)")
    parser.add_argument("--steps", type=int, default=8, help="timed steps per configuration (median)")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--repeat", type=int, default=3,
                        help="alternating 1-rank / N-rank jobs for the throughput (median; default 3)")
    parser.add_argument("--bucket-cap-mb", type=float, default=25.0,
                        help="DistributedDataParallel's bucket size (default 25, as torch)")
    parser.add_argument("--json", default=None, help="also write the results here")
    parser.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    options = parser.parse_args(argv)
    if options.worker:
        _worker(options.worker, options)
        return
    load = [os.getloadavg()]
    results: dict[str, Any] = {"ranks": options.ranks, "threads_per_rank": 1, "cpus": os.cpu_count()}
    results["allreduce"] = _launch(options.ranks, "allreduce", options)["allreduce"]
    print(f"all-reduce on {options.ranks} local ranks (float32, in place; median)")
    print(f"{'bytes':>10} {'time':>10} {'algbw GB/s':>11} {'busbw GB/s':>11}")
    for row in results["allreduce"]:
        us = row['seconds'] * 1e6
        print(f"{row['bytes']:>10} {us:>8.0f}us {row['algbw_GBps']:>11.2f} {row['busbw_GBps']:>11.2f}")
    ones, manys = [], []
    for _ in range(options.repeat):  # 1-rank and N-rank jobs alternate; the medians decide
        ones.append(_launch(1, "step", options))
        manys.append(_launch(options.ranks, "step", options))
    one = sorted(ones, key=lambda r: r["step_seconds"])[len(ones) // 2]
    many = sorted(manys, key=lambda r: r["step_seconds"])[len(manys) // 2]
    efficiency = many["images_per_second"] / (options.ranks * one["images_per_second"])
    results.update(step_1=one, step_n=many, scaling_efficiency=efficiency,
                   step_1_runs=[r["step_seconds"] for r in ones], step_n_runs=[r["step_seconds"] for r in manys])
    load.append(os.getloadavg())
    results["load_average"] = load
    print(f"\n224x224 reference CNN step, batch {options.batch} per rank, 1 thread per rank")
    runs_1 = ", ".join(f"{r * 1e3:.0f}" for r in results["step_1_runs"])
    runs_n = ", ".join(f"{r * 1e3:.0f}" for r in results["step_n_runs"])
    print(f"  1 rank : {one['step_seconds'] * 1e3:7.0f} ms/step  {one['images_per_second']:6.1f} img/s"
          f"  (jobs: {runs_1} ms)")
    print(f"  {options.ranks} ranks: {many['step_seconds'] * 1e3:7.0f} ms/step  {many['images_per_second']:6.1f} img/s"
          f"  scaling efficiency {efficiency:.0%}  (jobs: {runs_n} ms)")
    print(f"  all-reduce of {many['gradient_bytes'] / 2**20:.2f} MiB of gradients in {many['buckets']} bucket(s): "
          f"bare {many['bare_allreduce_seconds'] * 1e3:.1f} ms, added to the step {many['added_seconds'] * 1e3:.1f} ms "
          f"(step without it {many['step_without_allreduce_seconds'] * 1e3:.0f} ms), hidden share "
          f"{many['hidden_share']:.0%}; reducer wait {many['reducer_wait_seconds_per_step'] * 1e3:.1f} ms/step")
    print(f"load average before {load[0]}, after {load[1]}")
    if options.json:
        Path(options.json).write_text(json.dumps(results, indent=1) + "\n")


if __name__ == "__main__":
    main()
