"""Peak resident memory of the 224x224 training step, tapegrad vs PyTorch, each in its own fresh process.

Not a timing: the runner calls ``measure_memory`` and reports megabytes (see ``memory_child`` for how).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from tapegrad.autograd.runtime import malloc_environment

BATCH, SIZE = 16, 224
ROOT = Path(__file__).resolve().parent.parent

ALLOCATOR = malloc_environment()
"""Both children get the allocator settings of ``tapegrad.autograd.runtime.keep_freed_memory`` (which the
command line and the timed benchmarks apply), through glibc's environment variables, so the framework measured
runs as it does in the timings and neither child imports the other framework."""


def measure_memory(threads: int, repeats: int = 1) -> dict[str, Any]:
    """{framework: {baseline_mb, peak_mb, step_mb}} (the smallest of ``repeats`` runs), and the ratios."""
    result: dict[str, Any] = {
        "batch": BATCH,
        "size": SIZE,
        "method": "VmHWM (peak) - VmRSS before the first step",
    }
    for framework in ("tapegrad", "torch"):
        runs = []
        for _ in range(repeats):
            proc = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "benchmarks.memory_child",
                    framework,
                    str(BATCH),
                    str(SIZE),
                    str(threads),
                ],
                cwd=ROOT,
                capture_output=True,
                text=True,
                env={**os.environ, **ALLOCATOR},
                timeout=600,
            )
            if proc.returncode != 0:
                result[framework] = {"error": proc.stderr.strip().splitlines()[-1:] or ["failed"]}
                break
            runs.append(json.loads(proc.stdout.strip().splitlines()[-1]))
        if runs:
            result[framework] = min(runs, key=lambda r: r["step_mb"])
    ours, theirs = result.get("tapegrad", {}), result.get("torch", {})
    if "step_mb" in ours and "step_mb" in theirs:
        result["ratio_step"] = ours["step_mb"] / theirs["step_mb"]
        result["ratio_peak"] = ours["peak_mb"] / theirs["peak_mb"]
    return result
