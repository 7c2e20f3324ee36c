"""Where the documentation lives and which of its pages carry executed code (shared by the docs tests)."""

from __future__ import annotations

import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parents[2] / "docs"
sys.path.insert(0, str(DOCS / "_ext"))

from tutorial_code import python_blocks, run_blocks  # noqa: E402

__all__ = ["DOCS", "executed_pages", "python_blocks", "run_blocks"]


def executed_pages() -> list[Path]:
    """The tutorials (every page under ``docs/tutorials`` but its index), the architecture page and the
    front page's quickstart."""
    tutorials = sorted(p for p in (DOCS / "tutorials").glob("*.md") if p.stem != "index")
    return [*tutorials, DOCS / "architecture.md", DOCS / "index.md"]
