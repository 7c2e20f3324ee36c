"""Every tutorial's code runs: its ```python blocks, in order, in one namespace, in a temporary directory.

This is what keeps the tutorials from going stale: a renamed function, a changed default or a wrong number
(the tutorials assert the figures they explain) fails here.  The same blocks are run by the docs build
(``docs/_ext/tutorial_runner.py``), which shows their output on the page.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from .pages import executed_pages, python_blocks, run_blocks


@pytest.mark.filterwarnings("ignore:.*cannot read this image")  # own_photos' deliberately broken file
@pytest.mark.parametrize("page", executed_pages(), ids=lambda p: p.parent.name + "/" + p.stem)
def test_page_code_runs(page: Path, tmp_path: Path) -> None:
    blocks = python_blocks(page.read_text(encoding="utf-8"))
    assert blocks, f"{page.name} has no ```python blocks: nothing of it is checked"
    outputs = run_blocks(blocks, tmp_path, page.name)
    assert len(outputs) == len(blocks)


def test_extractor_finds_only_python_fences() -> None:
    text = "intro\n```python\na = 1\n```\n```bash\nrm -rf /\n```\n````python\nb = '```'\n````\n"
    blocks = python_blocks(text)
    assert [b.code for b in blocks] == ["a = 1\n", "b = '```'\n"]
    assert [b.line for b in blocks] == [2, 8]


def test_failing_block_names_page_and_line(tmp_path: Path) -> None:
    from tutorial_code import TutorialError

    blocks = python_blocks("x\n\n```python\nprint('ok')\n```\n\n```python\n1 / 0\n```\n")
    with pytest.raises(TutorialError, match=r"page.md: code block 2 \(line 7\) failed: ZeroDivisionError"):
        run_blocks(blocks, tmp_path, "page.md")
