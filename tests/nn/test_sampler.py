"""``DistributedSampler`` follows torch's rule exactly; ``DataLoader(sampler=)`` serves its indices."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from tapegrad.autograd import Tensor
from tapegrad.nn.data import DataError, DataLoader, DistributedSampler, TensorDataset
from torch.utils.data import DistributedSampler as TorchSampler


@pytest.mark.parametrize("n", [0, 1, 5, 12, 13])
@pytest.mark.parametrize("world", [1, 2, 3, 7])
@pytest.mark.parametrize("drop_last", [False, True])
def test_unshuffled_shards_equal_torchs(n, world, drop_last):
    data = list(range(n))
    for rank in range(world):
        ours = DistributedSampler(data, num_replicas=world, rank=rank, shuffle=False, drop_last=drop_last)
        theirs = TorchSampler(data, num_replicas=world, rank=rank, shuffle=False, drop_last=drop_last)
        assert list(ours) == list(theirs) and len(ours) == len(theirs)


@pytest.mark.parametrize("n, world", [(10, 3), (16, 4), (5, 7), (9, 2)])
def test_shuffled_shards_cover_the_permutation_padded_by_its_head(n, world):
    shards = []
    for rank in range(world):
        sampler = DistributedSampler(range(n), num_replicas=world, rank=rank, seed=4)
        sampler.set_epoch(3)
        shards.append(sampler.indices())
    perm = np.random.default_rng(4 + 3).permutation(n)
    padded = np.resize(perm, len(shards[0]) * world)  # the head repeated, as torch pads
    interleaved = np.stack(shards, axis=1).ravel()
    np.testing.assert_array_equal(interleaved, padded)
    assert set(interleaved) == set(range(n))
    assert {len(s) for s in shards} == {-(-n // world)}


def test_epochs_differ_and_repeat():
    sampler = DistributedSampler(range(50), num_replicas=2, rank=1, seed=0)
    first = sampler.indices()
    sampler.set_epoch(1)
    assert not np.array_equal(first, sampler.indices())
    sampler.set_epoch(0)
    np.testing.assert_array_equal(first, sampler.indices())


def test_loader_serves_the_samplers_indices_in_batches():
    data = TensorDataset(Tensor(np.arange(11.0)))
    sampler = DistributedSampler(data, num_replicas=3, rank=2, shuffle=False)
    loader = DataLoader(data, batch_size=2, sampler=sampler)
    assert len(loader) == 2
    got = [batch[0].numpy().tolist() for batch in loader]
    assert got == [[2.0, 5.0], [8.0, 0.0]]  # 11 padded to 12 with index 0
    with pytest.raises(DataError, match="mutually exclusive with shuffle"):
        DataLoader(data, sampler=sampler, shuffle=True)


def test_bad_rank_is_refused():
    with pytest.raises(ValueError, match=r"invalid rank 3, rank should be in the interval \[0, 2\]"):
        DistributedSampler(range(4), num_replicas=3, rank=3)
    assert torch  # the reference above is torch's own sampler
