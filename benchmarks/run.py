"""The benchmark runner: ``python -m benchmarks`` (or ``python benchmarks/run.py``) from the repository root.

tapegrad and PyTorch run in the same process on the same data with the same number of threads; every case is
timed in interleaved blocks (see ``harness``) and reported as the median per call, the ratio tapegrad /
PyTorch against the issue's target, GFLOP/s and % of the float32 GEMM peak measured at the start.  MyGrad and
the Tinyml approach (fancy-index im2col + ``np.add.at``) are timed beside them on the CPU, as "x tapegrad".
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # ``python benchmarks/run.py``: make the package importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    __package__ = "benchmarks"

from benchmarks import harness, machine  # noqa: E402
from benchmarks.harness import Case  # noqa: E402

GROUPS = ("tape", "conv", "pool", "linear", "train", "deconv")
PEERS = ("mygrad", "tinyml")


def all_cases() -> list[Case]:
    from benchmarks import cases_conv, cases_deconv, cases_linear, cases_pool, cases_tape, cases_train

    found: list[Case] = []
    for module in (cases_tape, cases_conv, cases_pool, cases_linear, cases_train, cases_deconv):
        found += module.cases()
    return found


def select(cases: list[Case], patterns: str | None) -> list[Case]:
    """``--cases conv,pool 3x3``: keep cases whose name or group contains any comma-separated pattern."""
    if not patterns:
        return cases
    wanted = [p.strip().lower() for p in patterns.split(",") if p.strip()]
    return [c for c in cases if any(w in c.name.lower() or w in c.group.lower() for w in wanted)]


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer, shorter rounds: about a minute or two")
    parser.add_argument("--json", metavar="PATH", help="write all results (and the machine) as JSON")
    parser.add_argument("--markdown", metavar="PATH", help="write the results table as Markdown")
    parser.add_argument(
        "--device",
        default="cpu",
        choices=("cpu", "cuda"),
        help="cuda: CuPy vs torch CUDA (skipped with a message when unavailable)",
    )
    parser.add_argument("--cases", metavar="PATTERNS", help="comma-separated substrings of case names/groups")
    parser.add_argument("--threads", type=int, default=None, help="threads for BLAS and torch (default: all cores)")
    parser.add_argument("--rounds", type=int, default=None, help="timed blocks per implementation")
    parser.add_argument("--no-peers", action="store_true", help="skip MyGrad and the Tinyml reference")
    parser.add_argument("--no-memory", action="store_true", help="skip the peak-memory subprocesses")
    parser.add_argument(
        "--unset-openblas-env",
        action="store_true",
        help="re-run in a subprocess without OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE",
    )
    parser.add_argument(
        "--kernels", choices=("numpy", "compiled"), default=None,
        help="tapegrad's kernel set (default: TAPEGRAD_KERNELS, else compiled when Numba imports)",
    )
    parser.add_argument("--list", action="store_true", help="list the cases and exit")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.unset_openblas_env:
        return _rerun_without_openblas_env(argv if argv is not None else sys.argv[1:])
    cases = select(all_cases(), args.cases)
    if args.list:
        for c in cases:
            print(f"{c.group:7s} {c.name:34s} {c.note}")
        return 0
    if args.device == "cuda":
        from benchmarks.common import cuda_unavailable

        reason = cuda_unavailable()
        if reason:
            print(f"--device cuda skipped: {reason}")
            return 0
    threads = args.threads or os.cpu_count() or 1
    rounds = args.rounds or (3 if args.quick else 7)
    block_s, pause_s = (0.15, 0.03) if args.quick else (0.4, 0.1)
    started = time.time()

    thread_state = machine.set_threads(threads)
    from tapegrad.autograd import kernels

    if args.kernels:
        kernels.set_kernels(args.kernels)
    thread_state["kernels"] = kernels.get_kernels()
    info = machine.describe_machine()
    if args.device == "cuda":
        peak = machine.gpu_gemm_peak()  # CuPy's rate stands in the "numpy_gflops" slot
        info["gpu"] = peak["gpu"]
    else:
        peak = machine.gemm_peak(size=2048, repeats=3 if args.quick else 7)
        info["handoff"] = machine.handoff_latency()
    print(_machine_lines(info, thread_state, peak, args))

    rows: list[dict[str, Any]] = []
    extras: dict[str, Any] = {}
    for case in cases:
        print(f"- {case.name}  ({case.note})", flush=True)
        row = run_case(case, args, rounds, block_s, pause_s, peak["numpy_gflops"])
        rows.append(row)
        if "nodes" in row:
            extras.setdefault("train_nodes", {})[case.name] = row["nodes"]
        print("  " + _row_line(row), flush=True)
        gc.collect()
    extras["tape_share"] = tape_share(rows)
    if (
        not args.no_memory
        and args.device == "cpu"
        and (not args.cases or select([Case("memory 224x224", "memory", lambda d: {})], args.cases))
    ):
        from benchmarks.cases_memory import measure_memory

        print("- peak memory of the 16x3x224x224 training step (separate processes)", flush=True)
        extras["memory"] = measure_memory(threads)
        print("  " + _memory_line(extras["memory"]))
    info["load_average_end"] = machine.load_average()
    table = markdown_table(rows, extras, info, thread_state, peak, args)
    print()
    print(table)
    print(f"\n(total {time.time() - started:.0f} s)")
    if args.markdown:
        Path(args.markdown).write_text(table + "\n")
    if args.json:
        payload = {
            "machine": info,
            "threads": {k: v for k, v in thread_state.items() if not k.startswith("_")},
            "gemm_peak": peak,
            "args": vars(args),
            "rows": rows,
            "extras": extras,
        }
        Path(args.json).write_text(json.dumps(payload, indent=2, default=str))
    return 0


def run_case(
    case: Case, args: argparse.Namespace, rounds: int, block_s: float, pause_s: float, peak_gflops: float
) -> dict[str, Any]:
    from benchmarks.common import sync_for

    row: dict[str, Any] = {
        "case": case.name,
        "group": case.group,
        "note": case.note,
        "unit": case.unit,
        "target": case.target,
    }
    try:
        impls = case.make(args.device)
    except Exception as exc:  # a layer that does not exist yet, a peer missing: say so and go on
        row["skipped"] = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
        return row
    if hasattr(case.make, "nodes"):
        row["nodes"] = case.make.nodes
    if args.no_peers or (args.quick and case.name.endswith(" fwd")):
        impls = {k: v for k, v in impls.items() if k not in PEERS}
    timings = harness.measure(
        impls,
        rounds,
        block_s,
        pause_s,
        sync=sync_for(args.device),
        slow_limit_s=0.5 if args.quick else 2.0,
        max_rounds={p: 2 for p in PEERS} if args.quick else None,
    )
    del impls
    scale = 1e6 / case.per if case.unit == "us/op" else 1e3
    row["times"] = {k: t.median_s * scale for k, t in timings.items()}
    row["spread"] = {k: round(t.spread, 3) for k, t in timings.items()}
    row["rounds"] = {k: [r * scale for r in t.rounds] for k, t in timings.items()}
    row["best"] = {k: min(t.rounds) * scale for k, t in timings.items()}
    num, den = case.ratio_of
    if num in timings and den in timings:
        row["ratio"] = timings[num].median_s / timings[den].median_s
        row["ratio_best"] = min(timings[num].rounds) / min(timings[den].rounds)  # less sensitive to load
        if case.target is not None:
            row["met"] = row["ratio"] <= case.target
    if case.flops and "tapegrad" in timings:
        row["gflops"] = {k: case.flops / t.median_s / 1e9 for k, t in timings.items()}
        row["pct_peak"] = 100 * row["gflops"]["tapegrad"] / peak_gflops
    if "tapegrad" in timings:
        row["peers_x"] = {p: timings[p].median_s / timings["tapegrad"].median_s for p in PEERS if p in timings}
    return row


def tape_share(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The tape's own share of each training step: nodes x (tapegrad - raw NumPy) per op of the tape case."""
    tape = next((r for r in rows if r["group"] == "tape" and "times" in r), None)
    if tape is None or "numpy" not in tape["times"]:
        return {}
    per_op_us = tape["times"]["tapegrad"] - tape["times"]["numpy"]
    shares = {"per_op_us": per_op_us}
    for r in rows:
        if r["group"] == "train" and "times" in r and "nodes" in r:
            cost_ms = r["nodes"] * per_op_us / 1e3
            shares[r["case"]] = {
                "nodes": r["nodes"],
                "tape_ms": cost_ms,
                "percent": 100 * cost_ms / r["times"]["tapegrad"],
            }
    return shares


def _fmt(value: float | None, unit: str = "ms") -> str:
    if value is None:
        return "-"
    if value >= 100:
        return f"{value:.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def _row_line(row: dict[str, Any]) -> str:
    if "skipped" in row:
        return f"skipped: {row['skipped']}"
    parts = [f"{k} {_fmt(v)} {row['unit']}" for k, v in row["times"].items()]
    if "ratio" in row:
        met = (
            ""
            if row.get("target") is None
            else f" (target <= {row['target']:.1f}: {'met' if row.get('met') else 'NOT met'})"
        )
        parts.append(f"ratio {row['ratio']:.2f}{met}")
    if "pct_peak" in row:
        parts.append(f"{row['gflops']['tapegrad']:.1f} GFLOP/s = {row['pct_peak']:.0f}% of peak")
    return ", ".join(parts)


def _memory_line(mem: dict[str, Any]) -> str:
    parts = []
    for k in ("tapegrad", "torch"):
        m = mem.get(k, {})
        if "step_mb" in m:
            parts.append(f"{k}: step {m['step_mb']:.0f} MB (peak {m['peak_mb']:.0f} MB)")
        else:
            parts.append(f"{k}: {m.get('error')}")
    if "ratio_step" in mem:
        verdict = "met" if mem["ratio_step"] <= 1.0 else "NOT met"
        parts.append(f"ratio {mem['ratio_step']:.2f} (target <= 1.0: {verdict})")
    return ", ".join(parts)


def _load(values: Any) -> str:
    return "-" if not values else " ".join(f"{v:.2f}" for v in values) + " (1, 5, 15 min)"


def _machine_lines(
    info: dict[str, Any], threads: dict[str, Any], peak: dict[str, float], args: argparse.Namespace
) -> str:
    blas = [b for b in info["blas"] if b.get("user_api") == "blas"]
    kernel = ", ".join(f"{b.get('internal_api')} {b.get('version')} kernel {b.get('architecture')}" for b in blas)
    v = info["versions"]
    return "\n".join(
        [
            f"machine: {info['cpu']}, {info['cores']} cores ({info['affinity']} usable), SIMD {' '.join(info['simd'])}",
            f"python {v['python']}, numpy {v['numpy']}, torch {v['torch']}, mygrad {v['mygrad']}, tapegrad "
            f"{v['tapegrad']}; BLAS: {kernel or 'unknown'}",
            f"threads: BLAS {threads.get('blas')}, tapegrad pool {threads.get('tapegrad', '-')} "
            f"(kernels: {threads.get('kernels', '-')}), "
            f"torch {threads.get('torch')} "
            f"(interop {threads.get('torch_interop')}); {threads.get('allocator', 'allocator defaults')}"
            f"; env {info['env'] or '{}'}; load average {_load(info['load_average'])}",
            f"float32 GEMM peak ({int(peak['size'])}^3): "
            f"{'CuPy on ' + str(info['gpu']) if 'gpu' in info else 'numpy'} {peak['numpy_gflops']:.1f} GFLOP/s, "
            f"torch {peak.get('torch_gflops', float('nan')):.1f} GFLOP/s; device {args.device}"
            + ("; --quick" if args.quick else ""),
            *([_handoff_line(info["handoff"])] if info.get("handoff") else []),
        ]
    )


def _handoff_line(handoff: dict[str, float]) -> str:
    return (f"tapegrad pool hand-off (runtime.concurrently of two empty calls): {handoff['median_us']:.0f} us "
            f"median, p90 {handoff['p90_us']:.0f} us; {handoff['after_work_median_us']:.0f} us after "
            f"{handoff['busy_s'] * 1e3:.0f} ms of work")


def markdown_table(
    rows: list[dict[str, Any]],
    extras: dict[str, Any],
    info: dict[str, Any],
    threads: dict[str, Any],
    peak: dict[str, float],
    args: argparse.Namespace,
) -> str:
    lines = [
        "```",
        _machine_lines(info, threads, peak, args),
        f"load average at the end {_load(info.get('load_average_end'))}",
        "```",
        "",
        "| case | shape | tapegrad | PyTorch | ratio (of best blocks) | target | met "
        "| tapegrad GFLOP/s (% peak) | MyGrad (x tapegrad) | Tinyml (x tapegrad) |",
        "| --- | --- | ---: | ---: | ---: | ---: | :---: | ---: | ---: | ---: |",
    ]
    for r in rows:
        if "skipped" in r:
            lines.append(f"| {r['case']} | {r['note']} | skipped: {r['skipped']} | | | | | | | |")
            continue
        num, den = ("deconvnet", "backward") if r["group"] == "deconv" else ("tapegrad", "torch")
        unit = " us/op" if r["unit"] == "us/op" else " ms"
        t = r["times"]
        first = _fmt(t.get(num)) + unit + (" (projection)" if r["group"] == "deconv" else "")
        second = _fmt(t.get(den)) + unit + (" (tapegrad backward)" if r["group"] == "deconv" else "")
        ratio = f"{r['ratio']:.2f} ({r['ratio_best']:.2f})" if "ratio" in r else "-"
        target = f"<= {r['target']}" if r.get("target") is not None else "-"
        met = "-" if "met" not in r else ("yes" if r["met"] else "**no**")
        gf = f"{r['gflops']['tapegrad']:.1f} ({r['pct_peak']:.0f}%)" if "gflops" in r else "-"
        peers = r.get("peers_x", {})
        mg = f"{peers['mygrad']:.1f}x" if "mygrad" in peers else "-"
        tm = f"{peers['tinyml']:.1f}x" if "tinyml" in peers else "-"
        lines.append(
            f"| {r['case']} | {r['note']} | {first} | {second} | {ratio} | {target} | {met} | {gf} | {mg} | {tm} |"
        )
    share = extras.get("tape_share") or {}
    notes = []
    tape = next((r for r in rows if r["group"] == "tape" and "times" in r), None)
    if tape and "numpy" in tape["times"]:
        notes.append(
            f"- Tape case: raw NumPy with a hand-written backward takes {tape['times']['numpy']:.2f} us/op; "
            f"the tape's own cost is {share.get('per_op_us', float('nan')):.1f} us per op (fwd+bwd)."
        )
    for name, s in share.items():
        if isinstance(s, dict):
            notes.append(
                f"- {name}: {s['nodes']} tape nodes x {share['per_op_us']:.1f} us = {s['tape_ms']:.2f} ms, "
                f"{s['percent']:.2f}% of the step (target < 10%: {'met' if s['percent'] < 10 else 'NOT met'})"
                "."
            )
    mem = extras.get("memory")
    if mem:
        notes.append(
            f"- Peak memory, {mem['batch']}x3x{mem['size']}x{mem['size']} training step ({mem['method']}): "
            + _memory_line(mem)
            + "."
        )
    if notes:
        lines += [""] + notes
    return "\n".join(lines)


def _rerun_without_openblas_env(argv: list[str]) -> int:
    env = {k: v for k, v in os.environ.items() if k not in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")}
    rest = [a for a in argv if a != "--unset-openblas-env"]
    print(
        "re-running without OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE (was: "
        f"{ {k: os.environ.get(k) for k in ('OPENBLAS_CORETYPE', 'OPENBLAS_L2_SIZE')} })",
        flush=True,
    )
    root = Path(__file__).resolve().parent.parent
    return subprocess.call([sys.executable, "-m", "benchmarks", *rest], cwd=root, env=env)


if __name__ == "__main__":
    raise SystemExit(main())
