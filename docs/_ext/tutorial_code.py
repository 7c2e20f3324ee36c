"""Extract the ```python blocks of a tutorial page and run them, in order, in one namespace.

Shared by the Sphinx extension (``tutorial_runner``, which shows each block's printed output on the page
and keeps the pictures it draws) and by ``tests/docs/test_tutorials.py`` (which runs every tutorial in the
test suite), so the code a reader sees is exactly the code that is tested.

Only fences opened with exactly ```` ```python ```` are executed; use ```` ```bash ```` or ```` ```text ````
for anything that must not run (shell commands, expected output).
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import traceback
from dataclasses import dataclass
from pathlib import Path

_FENCE = re.compile(
    r"^(?P<indent>[ ]{0,3})(?P<fence>`{3,})python[ \t]*\n(?P<code>.*?)^(?P=indent)(?P=fence)[ \t]*$",
    re.DOTALL | re.MULTILINE,
)


@dataclass(frozen=True)
class Block:
    """One executable code block: its source, and where it sits in the page (for error messages)."""

    code: str
    line: int  # 1-based line of the opening fence
    end: int  # character offset just after the closing fence


class TutorialError(RuntimeError):
    """A tutorial block raised: the message names the page, the block and its line, with the traceback."""


def python_blocks(text: str) -> list[Block]:
    """The ```` ```python ```` blocks of a Markdown page, in order."""
    blocks = []
    for match in _FENCE.finditer(text):
        line = text.count("\n", 0, match.start()) + 1
        blocks.append(Block(match.group("code"), line, match.end()))
    return blocks


def run_blocks(blocks: list[Block], workdir: Path, name: str) -> list[str]:
    """Run ``blocks`` in one fresh namespace with ``workdir`` as the current directory.

    Returns what each block printed to stdout (stderr — progress bars, warnings — is dropped: the page
    shows results, and a failure's traceback is in the exception).  Files a tutorial writes (pictures,
    checkpoints, a folder of images) land in ``workdir``.  A failing block raises :class:`TutorialError`
    naming ``name``, the block number and its line.
    """
    workdir.mkdir(parents=True, exist_ok=True)
    namespace: dict[str, object] = {"__name__": f"tutorial_{Path(name).stem}"}
    outputs = []
    previous = Path.cwd()
    os.chdir(workdir)
    try:
        for number, block in enumerate(blocks, start=1):
            buffer = io.StringIO()
            filename = f"<{name}, block {number} at line {block.line}>"
            try:
                code = compile(block.code, filename, "exec")
                with contextlib.redirect_stdout(buffer), contextlib.redirect_stderr(io.StringIO()):
                    exec(code, namespace)  # noqa: S102 - running the documentation's own code is the point
            except Exception as exc:
                raise TutorialError(
                    f"{name}: code block {number} (line {block.line}) failed: {type(exc).__name__}: {exc}\n"
                    f"{traceback.format_exc()}"
                ) from exc
            outputs.append(buffer.getvalue())
    finally:
        os.chdir(previous)
    return outputs
