"""DataLoader: seeded order, epochs, batching and collation; random_split; TensorDataset."""

from __future__ import annotations

import numpy as np
import pytest
from tapegrad.autograd import Tensor, manual_seed
from tapegrad.nn.data import DataError, DataLoader, TensorDataset, random_split, split_indices


def _order(loader: DataLoader) -> list[int]:
    return [int(i) for _, idx in loader for i in idx.numpy()]


def _indexed(n: int) -> TensorDataset:
    return TensorDataset(np.random.default_rng(1).random((n, 3)).astype(np.float32), np.arange(n))


def test_seeded_order_is_a_function_of_seed_and_epoch() -> None:
    ds = _indexed(50)
    a, b = DataLoader(ds, 8, shuffle=True, seed=3), DataLoader(ds, 8, shuffle=True, seed=3)
    first_a, first_b = _order(a), _order(b)
    assert first_a == first_b and sorted(first_a) == list(range(50))
    second = _order(a)
    assert second != first_a and sorted(second) == list(range(50))  # a new order each epoch
    assert _order(DataLoader(ds, 8, shuffle=True, seed=4)) != first_a
    resumed = DataLoader(ds, 8, shuffle=True, seed=3)
    resumed.set_epoch(1)  # what --resume does: epoch 1's order without replaying epoch 0
    assert _order(resumed) == second
    manual_seed(123)  # the global generator must not matter when a seed is given
    assert _order(DataLoader(ds, 8, shuffle=True, seed=3)) == first_a


def test_unseeded_loader_follows_manual_seed() -> None:
    ds = _indexed(30)
    manual_seed(7)
    first = _order(DataLoader(ds, 4, shuffle=True))
    manual_seed(7)
    assert _order(DataLoader(ds, 4, shuffle=True)) == first
    assert _order(DataLoader(ds, 4)) == list(range(30))  # no shuffle: dataset order


@pytest.mark.parametrize("n, batch, drop_last, sizes", [
    (10, 4, False, [4, 4, 2]), (10, 4, True, [4, 4]), (8, 4, True, [4, 4]), (3, 5, False, [3]),
    (3, 5, True, []),
])
def test_batch_sizes_and_len(n: int, batch: int, drop_last: bool, sizes: list[int]) -> None:
    loader = DataLoader(_indexed(n), batch, shuffle=True, drop_last=drop_last, seed=0)
    got = [len(y) for _, y in loader]
    assert got == sizes and len(loader) == len(sizes)


def test_collate_stacks_arrays_tensors_and_labels() -> None:
    rng = np.random.default_rng(0)
    images = rng.random((6, 1, 4, 5)).astype(np.float32)
    samples = [(Tensor(im), i % 2) for i, im in enumerate(images)]
    x, y = next(iter(DataLoader(samples, batch_size=6)))
    assert isinstance(x, Tensor) and x.shape == (6, 1, 4, 5) and x.dtype == np.float32
    np.testing.assert_array_equal(x.numpy(), images)
    assert y.dtype == np.int64 and y.tolist() == [0, 1, 0, 1, 0, 1]


def test_collate_names_mismatched_shapes_and_bad_batch_size() -> None:
    samples = [(np.zeros((2, 2), np.float32), 0), (np.zeros((3, 2), np.float32), 1)]
    with pytest.raises(DataError, match="different shapes"):
        next(iter(DataLoader(samples, batch_size=2)))
    for bad in (0, -1, 2.5):
        with pytest.raises(DataError, match="batch_size"):
            DataLoader(samples, batch_size=bad)


def test_random_split_is_a_seeded_partition() -> None:
    ds = _indexed(23)
    parts = random_split(ds, [15, 5, 3], seed=11)
    assert [len(p) for p in parts] == [15, 5, 3]
    flat = [int(p[i][1]) for p in parts for i in range(len(p))]
    assert sorted(flat) == list(range(23))  # disjoint and complete
    again = random_split(ds, [15, 5, 3], seed=11)
    assert [p.indices for p in again] == [p.indices for p in parts]
    assert random_split(ds, [15, 5, 3], seed=12)[0].indices != parts[0].indices
    fractions = random_split(ds, [0.9, 0.1], seed=0)
    assert sum(len(p) for p in fractions) == 23 and len(fractions[1]) in (2, 3)


def test_random_split_rejects_bad_lengths() -> None:
    for bad in ([10, 10], [20, 4], [0.5, 0.6], [-1, 24]):
        with pytest.raises(DataError):
            split_indices(23, bad, seed=0)


def test_tensor_dataset_rows_and_length_check() -> None:
    x, y = np.arange(12).reshape(4, 3), Tensor(np.arange(4))
    ds = TensorDataset(x, y)
    assert len(ds) == 4
    row, label = ds[2]
    assert row.tolist() == [6, 7, 8] and label == 2
    with pytest.raises(DataError, match="different lengths"):
        TensorDataset(x, np.arange(5))
