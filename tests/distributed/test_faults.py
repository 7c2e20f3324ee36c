"""A failing rank ends the whole job, quickly, with a non-zero status and its error printed once."""

from __future__ import annotations

import numpy as np

from tapegrad import nn

from .mpi import worker


def test_a_raising_rank_stops_every_rank_with_its_error_once(tmp_path):
    done = worker(2, "fail", tmp_path, "raise", timeout=60)  # rank 0 waits in a barrier: it must not hang
    assert done.returncode != 0
    assert done.stderr.count("RuntimeError: rank 1 failed on purpose") == 1, done.stderr


def test_different_models_on_the_ranks_are_refused_at_wrap_time(tmp_path):
    done = worker(3, "fail", tmp_path, "mismatch", timeout=60)
    assert done.returncode != 0
    assert "the ranks built different models" in done.stderr, done.stderr
    assert done.stderr.count("DistributedError: DistributedDataParallel: the ranks built different models (rank 0 "
                             "has 4 parameters and buffers, rank 1 has 9)") == 1, done.stderr


def test_a_job_killed_during_a_checkpoint_leaves_the_previous_file_whole(tmp_path):
    done = worker(2, "fail", tmp_path, "checkpoint", timeout=60)
    assert done.returncode != 0
    state = nn.load(tmp_path / "ckpt.npz")  # complete and readable: one of the versions rank 0 finished
    assert state["step"] >= 2 and state["w"].shape == (1_000_000,)
    np.testing.assert_array_equal(np.isfinite(state["w"]), True)
