"""Running a worker under ``mpiexec`` from a test: find the launcher, bound the time, skip only when MPI is absent.

CI installs ``tapegrad[distributed]`` (scripts/test.sh), so these tests run for real there.  The launcher is the
one next to this interpreter first (the MPICH wheel installs ``mpiexec`` into the environment's bin), then the
base interpreter's, then PATH; the interpreter is passed by full path because launchers may rewrite PATH.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def mpiexec() -> str:
    try:
        import mpi4py  # noqa: F401
    except ImportError:
        pytest.skip("mpi4py is not installed (pip install tapegrad[distributed])")
    for folder in (Path(sys.executable).parent, Path(sysconfig.get_path("scripts")),
                   Path(sys.base_prefix) / "bin"):
        candidate = folder / "mpiexec"
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    found = shutil.which("mpiexec")
    if found is None:
        pytest.skip("no mpiexec found (pip install tapegrad[distributed] brings MPICH's)")
    return found


def run(n: int, args: list[str], timeout: float = 90) -> subprocess.CompletedProcess[str]:
    """``mpiexec -n N python ARGS`` in the repository root; a hang fails the test instead of the suite."""
    command = [mpiexec(), "-n", str(n), sys.executable, *args]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
    try:
        return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"{' '.join(command)} hung for more than {timeout} s: {exc.stderr}")


def worker(n: int, case: str, out: Path, *options: object, timeout: float = 90) -> subprocess.CompletedProcess[str]:
    return run(n, ["-m", "tests.distributed.worker", case, str(out), *map(str, options)], timeout)
