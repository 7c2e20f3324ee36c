"""The documentation builds warning-free (``-W``), from a copy of ``docs/`` so the checkout is left untouched.

Needs the ``docs`` extra (``sphinx``, ``myst-parser``); skipped, saying so, when they are not installed.
The build executes the tutorials too (that is how their pictures are drawn), so a tutorial that fails is
also a build failure here.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .pages import DOCS

pytest.importorskip("sphinx", reason="sphinx is not installed (pip install -e '.[docs]')")
pytest.importorskip("myst_parser", reason="myst-parser is not installed (pip install -e '.[docs]')")


def test_docs_build_without_warnings(tmp_path: Path) -> None:
    source = tmp_path / "docs"
    shutil.copytree(DOCS, source, ignore=shutil.ignore_patterns("_build", "_generated", "__pycache__"))
    out = tmp_path / "html"
    env = {**os.environ, "TAPEGRAD_DOCS_EXECUTE": "1"}
    result = subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html",
         "-d", str(tmp_path / "doctrees"), str(source), str(out)],
        capture_output=True, text=True, timeout=300, env=env,
    )
    assert result.returncode == 0, f"sphinx failed:\n{result.stdout}\n{result.stderr}"
    pages = {p.relative_to(out).as_posix() for p in out.rglob("*.html")}
    expected = ("index.html", "architecture.html", "contributing.html", "changelog.html", "api/autograd.html")
    for name in expected:
        assert name in pages, f"{name} was not built; built: {sorted(pages)}"
    api = (out / "api" / "autograd.html").read_text(encoding="utf-8")
    for public in ("tapegrad.autograd.Tensor", "tapegrad.autograd.Function", "tapegrad.autograd.grad"):
        assert f'id="{public}"' in api, f"{public} is missing from the API reference"
