"""The public names of the real ``cupy`` package (cupy_names.txt, written by scripts/cupy_public_names.py).

The emulated CuPy answers only names listed here: a NumPy function CuPy lacks fails on the emulated device
with the AttributeError it would raise on a GPU, instead of silently running NumPy's version.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

_FILE = Path(__file__).with_name("cupy_names.txt")


@cache
def public_names(space: str) -> frozenset[str]:
    """The names in ``space`` ('cupy', 'cupy.ndarray', 'cupy.ufunc', 'cupy.random', 'cupyx', ...)."""
    prefix = space + "."
    names = set()
    for line in _FILE.read_text().splitlines():
        if line.startswith(prefix) and "." not in line[len(prefix):]:
            names.add(line[len(prefix):])
    return frozenset(names)
