"""Collectives on 2 and 3 ranks (the checks run inside the ranks, see worker.collectives), and the world of 1."""

from __future__ import annotations

import numpy as np
import pytest
from tapegrad.autograd import Tensor

import tapegrad.distributed as dist

from .mpi import worker


@pytest.mark.parametrize("world", [2, 3])
def test_all_reduce_broadcast_all_gather_on_tensors_and_arrays(tmp_path, world):
    done = worker(world, "collectives", tmp_path)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "collectives.ok").read_text() == "ok"


def test_a_process_not_started_by_mpiexec_is_a_world_of_one(world_of_one):
    assert dist.is_initialized() and dist.get_rank() == 0 and dist.get_world_size() == 1
    x = Tensor(np.arange(4.0))
    dist.all_reduce(x, op="mean")
    dist.broadcast(x, src=0)
    dist.barrier()
    np.testing.assert_array_equal(x.numpy(), np.arange(4.0))
    assert dist.all_gather_object({"a": (1, 2)}) == [{"a": (1, 2)}]


def test_bad_calls_say_what_was_expected(world_of_one):
    with pytest.raises(ValueError, match="unknown op 'median'"):
        dist.all_reduce(np.zeros(2), op="median")
    with pytest.raises(TypeError, match="needs a floating-point"):
        dist.all_reduce(np.zeros(2, dtype=np.int64), op="mean")
    with pytest.raises(TypeError, match="never pickles"):
        dist.all_gather_object(object())
    with pytest.raises(ValueError, match="src must be a rank in 0..0"):
        dist.broadcast(np.zeros(2), src=1)
    with pytest.raises(dist.DistributedError, match="already initialised"):
        dist.init_process_group()


def test_uninitialised_use_names_the_fix():
    assert not dist.is_initialized()
    with pytest.raises(dist.DistributedError, match="init_process_group"):
        dist.get_rank()


def test_missing_mpi4py_gives_the_install_hint(monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_mpi(name, *args, **kwargs):
        if name.startswith("mpi4py"):
            raise ImportError("No module named 'mpi4py'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_mpi)
    monkeypatch.setenv("PMI_SIZE", "2")
    with pytest.raises(dist.DistributedError, match=r"pip install tapegrad\[distributed\]"):
        dist.init_process_group()
    assert not dist.is_initialized()
