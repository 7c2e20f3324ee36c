"""Data-parallel training on 2 and 3 ranks ends with the parameters of one process at the global batch."""

from __future__ import annotations

import numpy as np
import pytest
from tapegrad.autograd import Tensor

from . import cases
from .mpi import worker


def single_process(world: int, sync_bn: bool, n_data: int, batch: int, epochs: int,
                   every: int = 1) -> dict[str, np.ndarray]:
    net = cases.model(seed=100, sync_bn=sync_bn)  # rank 0's initialisation
    opt = cases.optimizer(net)
    data = cases.dataset(n_data)
    x_all, y_all = cases.arrays(n_data)
    for epoch in range(epochs):
        batches = [(Tensor(x_all[i]), Tensor(y_all[i])) for i in cases.global_batches(data, world, batch, epoch)]
        cases.accumulate(net, opt, batches, every)
    return {k: np.asarray(v) for k, v in net.state_dict().items()}


@pytest.mark.parametrize("world, n_data", [(2, 16), (3, 20)])  # 3 ranks on 20 images: uneven, padded shards
@pytest.mark.parametrize("sync_bn", [False, True], ids=["bn-free", "syncbn"])
def test_ddp_matches_single_process_at_the_global_batch(tmp_path, world, n_data, sync_bn):
    batch, epochs = 2, 2
    done = worker(world, "ddp", tmp_path, int(sync_bn), n_data, batch, epochs)
    assert done.returncode == 0, done.stderr
    ours = dict(np.load(tmp_path / "ddp.npz"))
    reference = single_process(world, sync_bn, n_data, batch, epochs)
    assert ours.keys() == reference.keys()
    for name, want in reference.items():
        np.testing.assert_allclose(ours[name], want, rtol=2e-5, atol=2e-6, err_msg=name)
    # the test can fail: the first step alone already moves the weights far more than the tolerance
    assert not np.allclose(ours["0.weight"], cases.model(seed=100, sync_bn=sync_bn).state_dict()["0.weight"],
                           atol=1e-3)


def test_no_sync_accumulates_locally_and_the_next_backward_averages_the_sum(tmp_path):
    world, n_data, batch, epochs, every = 2, 16, 2, 1, 2  # 4 batches per rank: 2 steps of 2 accumulated
    done = worker(world, "ddp", tmp_path, 0, n_data, batch, epochs, every)
    assert done.returncode == 0, done.stderr
    ours = dict(np.load(tmp_path / "ddp.npz"))
    reference = single_process(world, False, n_data, batch, epochs, every)
    for name, want in reference.items():
        np.testing.assert_allclose(ours[name], want, rtol=2e-5, atol=2e-6, err_msg=name)
    stepwise = single_process(world, False, n_data, batch, epochs, 1)  # the test tells the two apart
    assert not np.allclose(stepwise["0.weight"], reference["0.weight"], atol=1e-4)


def test_gradients_on_the_gpu_are_reduced_through_the_host(tmp_path, monkeypatch):
    monkeypatch.setenv("TAPEGRAD_EMULATE_CUDA", "1")  # CuPy arrays without a GPU (a real one when run on it)
    monkeypatch.delenv("TAPEGRAD_CUDA_AWARE_MPI", raising=False)
    done = worker(2, "ddp", tmp_path, 0, 16, 2, 1, 1, "cuda")
    assert done.returncode == 0, done.stderr
    ours = dict(np.load(tmp_path / "ddp.npz"))
    for name, want in single_process(2, False, 16, 2, 1).items():
        np.testing.assert_allclose(ours[name], want, rtol=2e-5, atol=2e-6, err_msg=name)
