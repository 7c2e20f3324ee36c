"""scripts/pytorch_habits.py runs unchanged apart from its import line, on tapegrad and on PyTorch, with the same
answers (floats to float32 precision)."""

from __future__ import annotations

import ast
import math
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "pytorch_habits.py"
IMPORT_LINE = "import tapegrad as tg\n"


def _run(module_line: str) -> dict[str, Any]:
    source = SCRIPT.read_text()
    assert source.count(IMPORT_LINE) == 1, "the script must import tapegrad on exactly one line"
    namespace: dict[str, Any] = {"__name__": "pytorch_habits"}
    exec(compile(source.replace(IMPORT_LINE, module_line), str(SCRIPT), "exec"), namespace)  # noqa: S102
    return namespace["run_all"]()


@pytest.fixture(scope="module")
def answers() -> tuple[dict[str, Any], dict[str, Any]]:
    return _run(IMPORT_LINE), _run("import torch as tg\n")


def _same(ours: Any, theirs: Any, where: str = "") -> None:
    if isinstance(theirs, float) and not isinstance(ours, bool):
        assert isinstance(ours, int | float), f"{where}: {ours!r} is not a number (torch: {theirs!r})"
        assert math.isclose(ours, theirs, rel_tol=2e-6, abs_tol=2e-6), f"{where}: {ours!r} != torch {theirs!r}"
    elif isinstance(theirs, list):
        assert isinstance(ours, list) and len(ours) == len(theirs), f"{where}: {ours!r} != torch {theirs!r}"
        for i, (a, b) in enumerate(zip(ours, theirs, strict=True)):
            _same(a, b, f"{where}[{i}]")
    else:
        assert ours == theirs and type(ours) is type(theirs), f"{where}: {ours!r} != torch {theirs!r}"


def _habit_names() -> list[str]:
    tree = ast.parse(SCRIPT.read_text())
    return [node.name for node in tree.body if isinstance(node, ast.FunctionDef)
            and any(isinstance(d, ast.Call) and getattr(d.func, "id", "") == "habit" for d in node.decorator_list)]


NAMES = _habit_names()


def test_every_habit_is_collected() -> None:
    assert len(NAMES) >= 15 and "tensor_and_backward" in NAMES


@pytest.mark.parametrize("name", NAMES)
def test_habit_gives_what_torch_gives(name: str, answers: tuple[dict[str, Any], dict[str, Any]]) -> None:
    ours, theirs = answers[0][name], answers[1][name]
    assert "error" not in theirs, f"the habit itself is wrong: PyTorch says {theirs['error']}"
    assert "error" not in ours, ours["error"]
    _same(ours["value"], theirs["value"], name)


def test_the_script_runs_on_its_own() -> None:
    done = subprocess.run([sys.executable, str(SCRIPT)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.count('"habit"') == len(NAMES)
