"""Top activations over a data set sharded across ranks are identical to one process's."""

from __future__ import annotations

import numpy as np
import pytest
from tapegrad.viz import top_activations

from . import cases
from .mpi import worker
from .worker import hits


@pytest.mark.parametrize("world, layer", [(2, 1), (3, 4)])  # a ReLU, a Linear
def test_sharded_top_k_equals_single_process(tmp_path, world, layer):
    n_data, k = 22, 5  # 6 batches of 4 over 3 ranks: uneven shards
    done = worker(world, "topk", tmp_path, n_data, k, layer)
    assert done.returncode == 0, done.stderr
    ours = dict(np.load(tmp_path / "topk.npz"))
    single = hits(top_activations(cases.model(seed=5, sync_bn=False), cases.dataset(n_data), str(layer), k=k,
                                  batch_size=4, progress=False))
    assert ours.keys() == single.keys()
    for key, want in single.items():
        np.testing.assert_array_equal(ours[key], want, err_msg=key)  # identical, bit for bit
