"""Which launcher started this process: read from the environment, without importing mpi4py."""

from __future__ import annotations

import argparse

import pytest

from tapegrad.cli.distributed import wanted
from tapegrad.distributed import launched_by_mpi, launcher_world_size

VARIABLES = ("PMI_SIZE", "PMI_RANK", "OMPI_COMM_WORLD_SIZE", "OMPI_COMM_WORLD_RANK", "PMIX_RANK", "PMIX_SIZE",
             "MPI_LOCALNRANKS", "SLURM_NTASKS", "SLURM_STEP_NUM_TASKS")


@pytest.mark.parametrize("env, size", [
    ({}, 1),                                                     # a plain process
    ({"SLURM_NTASKS": "4"}, 1),                                  # srun without MPI: not an MPI job
    ({"PMI_RANK": "0", "PMI_SIZE": "3"}, 3),                     # MPICH's hydra
    ({"OMPI_COMM_WORLD_RANK": "1", "OMPI_COMM_WORLD_SIZE": "2"}, 2),  # Open MPI
    ({"PMIX_RANK": "5", "SLURM_STEP_NUM_TASKS": "8"}, 8),        # srun --mpi=pmix
    ({"PMIX_RANK": "0"}, None),                                  # a launcher that does not say: ask MPI
    ({"PMI_RANK": "0", "PMI_SIZE": "1"}, 1),                     # mpiexec -n 1
])
def test_world_size_from_the_launchers_environment(monkeypatch, env, size):
    for name in VARIABLES:
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert launcher_world_size() == size
    assert launched_by_mpi() == (size != 1 or "PMI_RANK" in env)
    assert wanted(argparse.Namespace(distributed=False)) == (size != 1)
    assert wanted(argparse.Namespace(distributed=True))
