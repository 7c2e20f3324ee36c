"""``mpiexec -n N tapegrad ...``: data-parallel training, resume with another number of ranks, sharded
visualisation identical to one process's, one error for the whole job."""

from __future__ import annotations

import numpy as np

from tapegrad.cli.main import main
from tapegrad.experiment.datasets import eval_transform, with_transform
from tapegrad.experiment.state import config_from_checkpoint, load_checkpoint, model_from_checkpoint
from tapegrad.experiment.training import evaluate

from .mpi import run

TRAIN = ["-m", "tapegrad", "train", "--limit", "48", "--batch-size", "8", "--quiet"]


def test_train_on_two_ranks_then_resume_on_three_and_on_one(tmp_path):
    done = run(2, [*TRAIN, "--epochs", "1", "--out", str(tmp_path / "a")], timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("checkpoint:") == 1  # rank 0 alone prints
    first = load_checkpoint(tmp_path / "a" / "checkpoint.npz")
    assert first["epoch"] == 1
    # the validation metrics were reduced over the ranks: they are the whole validation set's
    from tapegrad.experiment.datasets import load_data

    data = load_data(config_from_checkpoint(first))
    val = with_transform(data.val, eval_transform(first["mean"], first["std"]))
    whole = evaluate(model_from_checkpoint(first), val)
    assert first["history"][0]["val_accuracy"] == whole["accuracy"]
    np.testing.assert_allclose(first["history"][0]["val_loss"], whole["loss"], rtol=1e-5)
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "checkpoint.npz").write_bytes((tmp_path / "a" / "checkpoint.npz").read_bytes())
    done = run(3, ["-m", "tapegrad", "train", "--resume", str(tmp_path / "a" / "checkpoint.npz"), "--epochs", "2",
                   "--quiet"], timeout=120)
    assert done.returncode == 0, done.stderr
    assert main(["train", "--resume", str(tmp_path / "b" / "checkpoint.npz"), "--epochs", "2", "--quiet"]) == 0
    for run_dir in ("a", "b"):
        state = load_checkpoint(tmp_path / run_dir / "checkpoint.npz")
        assert state["epoch"] == 2 and len(state["history"]) == 2
        assert state["history"][0] == first["history"][0]


def test_visualize_under_mpiexec_writes_the_single_process_picture(tmp_path):
    assert main([*TRAIN[2:], "--epochs", "1", "--out", str(tmp_path / "run")]) == 0
    ckpt = str(tmp_path / "run" / "checkpoint.npz")
    args = ["visualize", "--checkpoint", ckpt, "--layer", "conv2", "--top-images", "30", "--quiet"]
    assert main([*args, "--out", str(tmp_path / "one")]) == 0
    done = run(3, ["-m", "tapegrad", *args, "--out", str(tmp_path / "three")], timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("wrote") == 1
    name = "top9_conv2_deconvnet.png"
    assert (tmp_path / "three" / name).read_bytes() == (tmp_path / "one" / name).read_bytes()


def test_an_error_on_every_rank_is_printed_once_and_ends_the_job(tmp_path):
    done = run(2, ["-m", "tapegrad", "train", "--data", str(tmp_path / "missing"), "--out", str(tmp_path)],
               timeout=60)
    assert done.returncode == 1
    assert done.stderr.count("tapegrad: error: --data") == 1, done.stderr
