"""Finding MPI: is this process one rank of an ``mpiexec``/``srun`` job, and mpi4py imported only then.

mpi4py is an optional dependency (``pip install tapegrad[distributed]``): a single-process user never needs it,
so it is imported on first use and a missing install is one clear error naming the extra.
"""

from __future__ import annotations

import os
from typing import Any

# Set by the launchers in every rank's environment: MPICH/Intel MPI's hydra (PMI_*), Open MPI (OMPI_*),
# PMIx-based launchers (PMIX_RANK), and Slurm's srun with an MPI plugin (PMI_SIZE or PMIX_RANK too).
_SIZE_VARIABLES = ("PMI_SIZE", "OMPI_COMM_WORLD_SIZE", "MPI_LOCALNRANKS", "PMIX_SIZE")
_RANK_VARIABLES = ("PMI_RANK", "OMPI_COMM_WORLD_RANK", "PMIX_RANK")

INSTALL_HINT = "install it with `pip install tapegrad[distributed]` (mpi4py and the MPICH wheel)"


class DistributedError(RuntimeError):
    """Misuse of ``tapegrad.distributed`` (not initialised, missing mpi4py, ranks that disagree)."""


def launched_by_mpi() -> bool:
    """True when the environment says an MPI launcher started this process (even as a world of 1)."""
    return any(v in os.environ for v in _SIZE_VARIABLES + _RANK_VARIABLES)


def launcher_world_size() -> int | None:
    """The world size the launcher announced: 1 when not launched by MPI, None when launched by one that does
    not say (``srun --mpi=pmix`` may set only ``PMIX_RANK``; then MPI itself is asked at initialisation)."""
    if not launched_by_mpi():
        return 1
    for name in ("PMI_SIZE", "OMPI_COMM_WORLD_SIZE", "PMIX_SIZE", "SLURM_STEP_NUM_TASKS", "SLURM_NTASKS"):
        if name in os.environ:
            try:
                return int(os.environ[name])
            except ValueError:
                pass
    return None


def import_mpi() -> Any:
    """``mpi4py.MPI``, or a ``DistributedError`` with the install hint."""
    try:
        import mpi4py

        mpi4py.rc.threads = False  # tapegrad calls MPI from one thread; a lighter MPI_Init
        from mpi4py import MPI
    except ImportError as exc:
        raise DistributedError(f"tapegrad.distributed needs mpi4py, which is not installed ({exc}); "
                               f"{INSTALL_HINT}") from None
    return MPI


def cuda_aware(MPI: Any) -> bool:  # noqa: N803 - the module's customary name
    """Whether device (CuPy) buffers may be handed to MPI directly.

    mpi4py exposes no portable query (``MPIX_Query_cuda_support`` is an MPICH/Open MPI extension it does not
    wrap in 4.1), so tapegrad stages device arrays through host memory unless the user says the MPI library
    is CUDA-aware with ``TAPEGRAD_CUDA_AWARE_MPI=1``, or a future mpi4py reports it.
    """
    flag = os.environ.get("TAPEGRAD_CUDA_AWARE_MPI")
    if flag is not None:
        return flag.strip().lower() in ("1", "true", "yes")
    query = getattr(MPI, "Query_cuda_support", None)
    if query is not None:
        try:
            return bool(query())
        except Exception:  # noqa: BLE001 - any failure means "do not trust it"
            return False
    return False
