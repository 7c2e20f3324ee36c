"""``tapegrad train > log``: off a terminal, one plain line per epoch and no carriage-return bar updates."""

from __future__ import annotations

from pathlib import Path

import pytest

from tapegrad.cli.main import main


def test_training_log_off_a_terminal(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["train", "--limit", "48", "--epochs", "2", "--out", str(tmp_path)]) == 0
    out, err = capsys.readouterr()
    assert "\r" not in out + err
    lines = [line for line in out.splitlines() if line.startswith("epoch ")]
    assert [line.split(":")[0] for line in lines] == ["epoch 1/2", "epoch 2/2"]
    assert all("loss" in line and "accuracy" in line and " s (" in line for line in lines)
