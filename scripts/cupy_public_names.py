"""Write the public names of the installed ``cupy`` package to autograd/emulated_cupy/cupy_names.txt.

The emulated CuPy (autograd/emulated_cupy) exposes only names listed there, so code that calls a NumPy-only
function through ``array_module(x)`` fails in CI as it would on a GPU.  CuPy imports without a GPU, so this runs
anywhere: ``pip install cupy-cuda12x && python scripts/cupy_public_names.py`` (then uninstall it again).
"""

from __future__ import annotations

import sys
from pathlib import Path

import cupy
import cupyx

OUT = Path(__file__).resolve().parent.parent / "autograd" / "emulated_cupy" / "cupy_names.txt"
SPACES = {
    "cupy": cupy, "cupy.ndarray": cupy.ndarray, "cupy.ufunc": cupy.add, "cupy.random": cupy.random,
    "cupy.linalg": cupy.linalg, "cupy.fft": cupy.fft, "cupy.cuda": cupy.cuda, "cupyx": cupyx,
}


def main() -> int:
    lines = [f"# public names of cupy {cupy.__version__} (scripts/cupy_public_names.py); one qualified name a line"]
    for prefix, space in SPACES.items():
        lines += sorted(f"{prefix}.{name}" for name in dir(space) if not name.startswith("_"))
    OUT.write_text("\n".join(lines) + "\n")
    print(f"wrote {len(lines) - 1} names to {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
