"""The command line on the device ``cuda`` (the emulated CuPy in CI): demo, train, visualize end to end, and
how many arrays a training step copies to the host (on a GPU each copy waits for the queued kernels)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from tapegrad.autograd import backend

from tapegrad import nn
from tapegrad.cli.main import main
from tapegrad.experiment import training

TINY = ["--limit", "48", "--quiet", "--device", "cuda"]
VIZ = ["--viz-channels", "2", "--top-images", "48"]
# loss.item() and the count of correct predictions for the progress, and cross_entropy's check that every
# target is a valid class (one bool: a clear error instead of a device-side assert)
HOST_COPIES_PER_STEP = 3

pytestmark = pytest.mark.skipif(not backend.gpu_available(), reason="no GPU (CuPy) and not emulated")


def _counter():  # noqa: ANN202 - the emulated device's count of copies (None on a real GPU: nothing counts)
    if not backend.emulated():
        return None
    from tapegrad.autograd.emulated_cupy import counter

    return counter


@pytest.fixture
def steps_and_copies(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, int]]:
    """(training steps, copies to the host) of each epoch, measured around ``training._epoch``."""
    seen: list[tuple[int, int]] = []
    epoch = training._epoch

    def counted(model, loader, optimizer, config, bar):  # noqa: ANN001, ANN202
        counter = _counter()
        before = counter.to_host
        result = epoch(model, loader, optimizer, config, bar)
        seen.append((len(loader), counter.to_host - before))
        return result

    if _counter() is None:
        pytest.skip("copies are counted on the emulated device only")
    monkeypatch.setattr(training, "_epoch", counted)
    return seen


def test_demo_trains_and_reports_on_the_device(tmp_path: Path, steps_and_copies: list) -> None:
    assert main(["demo", "--out", str(tmp_path), "--epochs", "1", *TINY, *VIZ]) == 0
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["epochs_trained"] == 1 and 0 <= metrics["test_accuracy"] <= 1
    assert "could not be produced" not in (tmp_path / "index.html").read_text()
    (steps, copies), = steps_and_copies
    assert steps >= 2 and copies <= HOST_COPIES_PER_STEP * steps, _counter().report()


def test_train_then_visualize_on_the_device(tmp_path: Path, steps_and_copies: list) -> None:
    run = tmp_path / "run"
    assert main(["train", "--epochs", "2", "--out", str(run), *TINY]) == 0
    assert len(steps_and_copies) == 2
    for steps, copies in steps_and_copies:
        assert copies <= HOST_COPIES_PER_STEP * steps, _counter().report()
    ckpt = run / "checkpoint.npz"
    state = nn.load(ckpt)  # saved from the device, loaded as NumPy arrays
    assert all(isinstance(v, np.ndarray) for v in state["model"].values())
    assert main(["visualize", "--checkpoint", str(ckpt), "--layer", "conv1", *VIZ, "--out", str(tmp_path),
                 "--quiet", "--device", "cuda"]) == 0
    assert list(tmp_path.glob("top9_conv1*.png"))
    assert main(["evaluate", "--checkpoint", str(ckpt), "--quiet", "--device", "cuda"]) == 0


def test_cuda_without_a_gpu_is_one_line(no_gpu: None, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["train", "--device", "cuda", "--limit", "48", "--quiet"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("tapegrad: error: --device cuda") and len(err.strip().splitlines()) == 1
