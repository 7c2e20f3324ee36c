"""The command line end to end on tiny configurations (seconds each): files, exit codes, errors, resume."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

from tapegrad import nn
from tapegrad.cli import commands
from tapegrad.cli.main import main
from tests.nn.data.test_image_folder import make_folder

TINY = ["--limit", "48", "--quiet"]
VIZ = ["--viz-channels", "2", "--top-images", "48"]


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("demo")
    assert main(["demo", "--out", str(out), "--epochs", "1", *TINY, *VIZ]) == 0
    return out


def test_demo_writes_the_report(demo_run: Path) -> None:
    for name in ("metrics.json", "curves.png", "checkpoint.npz", "filters_conv1.png", "top9_conv1.png",
                 "top9_conv2.png", "top9_conv3.png", "occlusion.png", "sanity.txt", "index.html"):
        assert (demo_run / name).is_file(), name
    assert (demo_run / "graph.svg").is_file() or (demo_run / "graph.dot").is_file()
    metrics = json.loads((demo_run / "metrics.json").read_text())
    assert 0 <= metrics["validation_accuracy"] <= 1 and 0 <= metrics["test_accuracy"] <= 1
    assert metrics["test_images"] == 48 and metrics["epochs_trained"] == 1
    assert set(metrics["sanity_check"]) >= {"layers", "deconvnet", "guided", "saliency"}
    page = (demo_run / "index.html").read_text()
    assert "could not be produced" not in page  # every section worked
    assert "test accuracy" in page


def test_index_references_only_existing_files(demo_run: Path) -> None:
    page = (demo_run / "index.html").read_text()
    links = re.findall(r"(?:src|href)=[\"']([^\"']+)[\"']", page)
    assert len(links) >= 10
    for link in links:
        assert (demo_run / link).is_file(), link


def test_evaluate_visualize_graph_on_the_checkpoint(demo_run: Path, tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    ckpt = str(demo_run / "checkpoint.npz")
    assert main(["evaluate", "--checkpoint", ckpt, "--quiet"]) == 0
    out = capsys.readouterr().out.splitlines()
    accuracy = float(re.match(r"test accuracy: ([0-9.]+)% on 2000 images", out[0]).group(1))  # whole test set
    confusion = np.array([[int(v) for v in line.split()[1:]] for line in out[-2:]])
    assert confusion.sum() == 2000 and confusion.sum(axis=1).tolist() == [1000, 1000]
    assert accuracy == pytest.approx(100 * np.trace(confusion) / 2000, abs=0.005)
    image = tmp_path / "shirt.png"
    from PIL import Image

    Image.fromarray(np.random.default_rng(0).integers(0, 255, (40, 30), dtype=np.uint8)).save(image)
    assert main(["visualize", "--checkpoint", ckpt, "--layer", "relu2", "--image", str(image),
                 "--viz-channels", "3", "--out", str(tmp_path), "--quiet"]) == 0
    assert (tmp_path / "deconvnet_relu2_shirt.png").is_file()
    assert main(["visualize", "--checkpoint", ckpt, "--layer", "conv1", "--method", "guided",
                 *VIZ, "--out", str(tmp_path), "--quiet"]) == 0
    assert (tmp_path / "top9_conv1_guided.png").is_file()
    assert main(["graph", "--checkpoint", ckpt, "--out", str(tmp_path / "g.dot")]) == 0
    assert (tmp_path / "g.dot").read_text().startswith("digraph")


def _weights(path: Path) -> dict:
    state = nn.load(path)
    return {"model": state["model"], "optimizer": state["optimizer"], "rng": state["rng"],
            "epoch": state["epoch"]}


def _assert_same(a: dict, b: dict) -> None:
    assert a["epoch"] == b["epoch"] and a["rng"] == b["rng"]
    for key in a["model"]:
        np.testing.assert_array_equal(a["model"][key], b["model"][key], err_msg=key)
    for index, slots in a["optimizer"]["state"].items():
        for name, value in slots.items():
            np.testing.assert_array_equal(value, b["optimizer"]["state"][index][name], err_msg=name)


def test_resume_continues_exactly(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                  capsys: pytest.CaptureFixture[str]) -> None:
    args = ["train", "--epochs", "3", "--batch-size", "16", *TINY]
    assert main([*args, "--out", str(tmp_path / "straight")]) == 0

    real = commands.train_model

    def interrupted(*a, **kw):  # stop after the first epoch, the way Ctrl-C would
        def stop(epoch: int, record: dict) -> None:
            if epoch == 1:
                raise KeyboardInterrupt
        return real(*a, **kw, on_epoch=stop)

    monkeypatch.setattr(commands, "train_model", interrupted)
    assert main([*args, "--out", str(tmp_path / "resumed")]) == 130
    assert "--resume" in capsys.readouterr().err
    monkeypatch.setattr(commands, "train_model", real)
    assert nn.load(tmp_path / "resumed" / "checkpoint.npz")["epoch"] == 1
    assert main(["train", "--resume", str(tmp_path / "resumed" / "checkpoint.npz"), "--quiet"]) == 0
    _assert_same(_weights(tmp_path / "straight" / "checkpoint.npz"),
                 _weights(tmp_path / "resumed" / "checkpoint.npz"))


def test_interrupted_checkpoint_write_keeps_the_previous_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["train", "--epochs", "2", "--out", str(tmp_path), *TINY]) == 0
    ckpt = tmp_path / "checkpoint.npz"
    before = ckpt.read_bytes()
    real_savez = np.savez

    def crash_midway(file, **arrays):  # write part of the archive, then fail like a full disk
        real_savez(file, **dict(list(arrays.items())[:3]))
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(nn.checkpoint.np, "savez", crash_midway)
    assert main(["train", "--resume", str(ckpt), "--epochs", "3", "--quiet"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "No space left on device" in err[0]
    monkeypatch.setattr(nn.checkpoint.np, "savez", real_savez)
    assert ckpt.read_bytes() == before
    assert nn.load(ckpt)["epoch"] == 2
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []  # no temp file left


def test_folder_of_photos_with_a_corrupt_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = make_folder(tmp_path / "photos", per_class=4)
    # the original experiment's setting: 3 x 224 x 224 photos (the folder's default size)
    assert main(["train", "--data", str(root), "--epochs", "1", "--batch-size", "4",
                 "--out", str(tmp_path / "run"), "--quiet"]) == 0
    captured = capsys.readouterr()
    assert f"tapegrad: warning: {root / 'cat' / 'broken.jpg'}: cannot read" in captured.err
    assert "validation accuracy" in captured.out
    state = nn.load(tmp_path / "run" / "checkpoint.npz")
    assert state["classes"] == ["cat", "not_cat"]
    assert state["model_config"]["in_channels"] == 3 and state["model_config"]["image_size"] == 224
    assert main(["evaluate", "--checkpoint", str(tmp_path / "run" / "checkpoint.npz"), "--data", str(root),
                 "--quiet"]) == 0


@pytest.mark.parametrize("argv, status, expected", [
    (["train", "--data", "/no/such/folder"], 1, "no such folder"),
    (["evaluate", "--checkpoint", "/no/such.npz"], 1, "no such checkpoint"),
    (["train", "--lr", "-1"], 1, "--lr must be positive"),
    (["train", "--epochs", "0"], 2, "must be a positive integer"),
    (["train", "--optimizer", "lbfgs"], 2, "invalid choice"),
    (["frobnicate"], 2, "invalid choice"),
    ([], 2, "required"),
])
def test_bad_arguments_give_one_line(argv: list[str], status: int, expected: str,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == status
    err = capsys.readouterr().err
    assert "Traceback" not in err and expected in err
    if status == 1:
        assert len(err.strip().splitlines()) == 1 and err.startswith("tapegrad: error: ")


def test_bad_checkpoint_and_layer(demo_run: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    junk = tmp_path / "junk.npz"
    junk.write_bytes(b"PK\x03\x04 not really a zip")
    assert main(["evaluate", "--checkpoint", str(junk)]) == 1
    assert main(["visualize", "--checkpoint", str(demo_run / "checkpoint.npz"), "--layer", "conv9"]) == 1
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 2 and "junk.npz" in lines[0] and "conv1, bn1" in lines[1]


def test_python_dash_m_entry_point() -> None:
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-m", "tapegrad", "--help"], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0 and "demo" in done.stdout and "visualize" in done.stdout


def test_fashion_mnist_data_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    from tapegrad.nn.data import write_idx

    rng = np.random.default_rng(0)
    for stem, n in (("train", 60), ("t10k", 20)):
        images = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
        write_idx(tmp_path / f"{stem}-images-idx3-ubyte.gz", images)
        write_idx(tmp_path / f"{stem}-labels-idx1-ubyte.gz", (np.arange(n) % 10).astype(np.uint8))
    monkeypatch.setenv("TAPEGRAD_FASHION_MNIST", str(tmp_path))
    assert main(["train", "--data", "fashion-mnist", "--epochs", "1", "--out", str(tmp_path / "run"),
                 "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "test accuracy" in out and "(20 images)" in out
    assert nn.load(tmp_path / "run" / "checkpoint.npz")["model_config"]["num_classes"] == 10
    monkeypatch.setenv("TAPEGRAD_FASHION_MNIST", str(tmp_path / "nowhere"))
    assert main(["train", "--data", "fashion-mnist", "--quiet"]) == 1
    assert "apt-get install dataset-fashion-mnist" in capsys.readouterr().err


def test_folder_with_train_and_test_subfolders(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    make_folder(tmp_path / "data" / "train", per_class=3, size=(40, 40), corrupt=False)
    make_folder(tmp_path / "data" / "test", per_class=2, size=(40, 40), corrupt=False)
    assert main(["train", "--data", str(tmp_path / "data"), "--image-size", "16", "--channels", "1",
                 "--epochs", "1", "--out", str(tmp_path / "run"), "--report", "--viz-channels", "1",
                 "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "validation accuracy" in out and "test accuracy" in out and "(4 images)" in out
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert metrics["test_images"] == 4 and metrics["classes"] == ["cat", "not_cat"]
    assert "could not be produced" not in (tmp_path / "run" / "index.html").read_text()
