"""What the command line refuses, and how it says so (issue 14, defects 9 to 13).

Tiny runs (8 x 8 images, one epoch) so the whole file takes seconds.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tapegrad import nn
from tapegrad.cli.main import main

FAST = ["--image-size", "8", "--epochs", "1", "--quiet"]


def photos(root: Path, classes=("cat", "not_cat"), per_class: int = 6, seed: int = 0) -> Path:
    rng = np.random.default_rng(seed)
    for c, name in enumerate(classes):
        (root / name).mkdir(parents=True)
        for i in range(per_class):
            pixels = rng.integers(0, 256, (10, 10, 3), dtype=np.uint8)
            pixels[..., c % 3] = 255
            Image.fromarray(pixels).save(root / name / f"{i}.png")
    return root


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A checkpoint trained on a flat cat/not_cat folder."""
    base = tmp_path_factory.mktemp("refusals")
    assert main(["train", "--data", str(photos(base / "photos")), "--out", str(base / "run"), *FAST]) == 0
    return base / "run" / "checkpoint.npz"


def _error_lines(capsys: pytest.CaptureFixture[str]) -> list[str]:
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return [line for line in err.splitlines() if not line.startswith("tapegrad: warning:")]


def test_a_multi_line_error_is_shown_whole(run: Path, tmp_path: Path, capsys) -> None:  # defect 9
    state = nn.load(run)
    state["model"]["fc.weight"] = np.zeros((2, 3), np.float32)
    bad = tmp_path / "bad.npz"
    nn.save(state, bad)
    assert main(["evaluate", "--checkpoint", str(bad), "--quiet"]) == 1
    lines = _error_lines(capsys)
    assert lines[0].startswith("tapegrad: error: ") and "Error(s) in loading state_dict" in lines[0]
    assert any("fc.weight" in line and "(2, 3)" in line for line in lines[1:])


def test_evaluate_scores_every_image_of_a_flat_folder(run: Path, tmp_path: Path, capsys) -> None:  # defect 10
    other = photos(tmp_path / "other", per_class=6, seed=1)
    assert main(["evaluate", "--checkpoint", str(run), "--data", str(other), "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "on 12 images" in out and "every image" in out
    with_test = tmp_path / "split"
    photos(with_test / "train", per_class=2)
    photos(with_test / "test", per_class=5, seed=2)
    assert main(["evaluate", "--checkpoint", str(run), "--data", str(with_test), "--quiet"]) == 0
    assert "test accuracy" in (out := capsys.readouterr().out) and "on 10 images" in out
    assert main(["evaluate", "--checkpoint", str(run), "--data", str(other), "--split", "val", "--quiet"]) == 1
    assert "--split" in _error_lines(capsys)[0]


def test_class_names_must_match_the_checkpoints(run: Path, tmp_path: Path, capsys) -> None:  # defect 11
    shirts = photos(tmp_path / "shirts", classes=("not_shirt", "shirt"), per_class=3)
    assert main(["evaluate", "--checkpoint", str(run), "--data", str(shirts), "--quiet"]) == 1
    lines = _error_lines(capsys)
    assert len(lines) == 1 and "shirt" in lines[0] and "cat" in lines[0] and "--match-classes-by-position" in lines[0]
    assert main(["evaluate", "--checkpoint", str(run), "--data", str(shirts), "--match-classes-by-position",
                 "--quiet"]) == 0
    assert "on 6 images" in capsys.readouterr().out


def test_train_refuses_a_folder_holding_another_run(run: Path, tmp_path: Path, capsys) -> None:  # defect 12
    data = photos(tmp_path / "photos", per_class=4)
    out = tmp_path / "out"
    assert main(["train", "--data", str(data), "--out", str(out), "--report", "--viz-channels", "1", *FAST]) == 0
    assert (out / "index.html").is_file()
    first = (out / "checkpoint.npz").read_bytes()
    capsys.readouterr()
    assert main(["train", "--data", str(data), "--out", str(out), "--seed", "3", *FAST]) == 1
    lines = _error_lines(capsys)
    assert len(lines) == 1 and "--overwrite" in lines[0] and "--resume" in lines[0]
    assert (out / "checkpoint.npz").read_bytes() == first and (out / "index.html").is_file()
    assert main(["train", "--data", str(data), "--out", str(out), "--seed", "3", "--overwrite", *FAST]) == 0
    assert "replacing" in capsys.readouterr().out
    assert not (out / "index.html").exists() and not (out / "metrics.json").exists()  # described the old model
    assert main(["train", "--data", str(data), "--out", str(out), "--report", "--viz-channels", "1",
                 "--overwrite", *FAST]) == 0
    assert main(["train", "--resume", str(out / "checkpoint.npz"), "--epochs", "2", "--quiet"]) == 0
    assert not (out / "index.html").exists()  # the resumed checkpoint is not the one the report described
    assert nn.load(out / "checkpoint.npz")["epoch"] == 2


def test_demo_replaces_its_own_earlier_output_and_says_so(tmp_path: Path, capsys) -> None:  # defect 12
    args = ["demo", "--out", str(tmp_path / "demo"), "--epochs", "1", "--limit", "16", "--viz-channels", "1",
            "--top-images", "8", "--quiet"]
    assert main(args) == 0
    assert "replacing" not in capsys.readouterr().out
    assert main(args) == 0
    assert "replacing the earlier demo output" in capsys.readouterr().out
    assert (tmp_path / "demo" / "index.html").is_file()


def test_a_failed_run_leaves_no_empty_folders(tmp_path: Path, capsys) -> None:  # defect 13
    out = tmp_path / "runs" / "bad"
    assert main(["train", "--data", str(tmp_path / "no_such_dir"), "--out", str(out), "--quiet"]) == 1
    assert not (tmp_path / "runs").exists()
    assert main(["visualize", "--checkpoint", str(tmp_path / "none.npz"), "--layer", "conv1",
                 "--out", str(tmp_path / "v" / "w")]) == 1
    assert not (tmp_path / "v").exists()
    assert main(["graph", "--checkpoint", str(tmp_path / "none.npz"), "--out", str(tmp_path / "g" / "x.svg")]) == 1
    assert not (tmp_path / "g").exists()
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("value", ["-1", "-8", "two"])
def test_threads_must_not_be_negative(value: str, capsys) -> None:  # defect 13
    assert main(["evaluate", "--checkpoint", "x.npz", "--threads", value]) == 2
    assert "--threads" in capsys.readouterr().err


def test_one_epoch_is_singular(tmp_path: Path, capsys) -> None:  # defect 13
    assert main(["train", "--data", str(photos(tmp_path / "p", per_class=3)), "--out", str(tmp_path / "r"),
                 *FAST]) == 0
    out = capsys.readouterr().out
    assert "1 epoch " in out and "1 epochs" not in out


def test_visualize_refuses_to_overwrite_another_models_picture(run: Path, tmp_path: Path, capsys) -> None:
    image = tmp_path / "img.png"  # defect 13
    Image.fromarray(np.zeros((10, 10, 3), np.uint8)).save(image)
    out = tmp_path / "pictures"
    args = ["visualize", "--layer", "relu1", "--image", str(image), "--out", str(out), "--viz-channels", "1",
            "--quiet"]
    assert main([*args, "--checkpoint", str(run)]) == 0
    picture = out / "deconvnet_relu1_img.png"
    first = picture.read_bytes()
    assert main([*args, "--checkpoint", str(run)]) == 0  # the same model again: replaced, no question
    other = tmp_path / "other.npz"
    state = nn.load(run)
    state["model"]["conv1.weight"] = state["model"]["conv1.weight"] * 2
    nn.save(state, other)
    capsys.readouterr()
    assert main([*args, "--checkpoint", str(other)]) == 1
    lines = _error_lines(capsys)
    assert len(lines) == 1 and str(picture) in lines[0] and "--overwrite" in lines[0]
    assert picture.read_bytes() == first
    assert main([*args, "--checkpoint", str(other), "--overwrite"]) == 0
    assert picture.read_bytes() != first


def test_a_report_with_nothing_held_out_says_so(tmp_path: Path) -> None:  # found by the folder fuzzer
    data = photos(tmp_path / "tiny", per_class=1)  # one image per class: no validation image at all
    out = tmp_path / "run"
    assert main(["train", "--data", str(data), "--out", str(out), "--report", "--viz-channels", "1", *FAST]) == 0
    assert "No held-out images" in (out / "index.html").read_text()
