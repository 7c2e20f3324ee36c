"""The command line under ``mpiexec -n N tapegrad ...``: join the job, silence ranks > 0, fail as one job.

Detected from the MPI launcher's environment (or asked for with ``--distributed``).  Rank 0 alone prints,
writes checkpoints and reports; the other ranks' standard output goes to /dev/null (their errors still reach
standard error).  An error on any rank ends every rank with exit status 1 through ``MPI_Abort``, printed once
(rank 0 prints when every rank fails alike; a lone failing rank prints its own), instead of leaving the others
blocked in a collective forever.
"""

from __future__ import annotations

import argparse
import os
import sys


def wanted(args: argparse.Namespace) -> bool:
    from tapegrad.distributed import launched_by_mpi, launcher_world_size

    return bool(getattr(args, "distributed", False)) or (launched_by_mpi() and launcher_world_size() != 1)


def setup(args: argparse.Namespace) -> None:
    """Initialise the process group and quiet every rank but 0."""
    import tapegrad.distributed as dist

    dist.init_process_group()
    if dist.get_rank() != 0:
        args.quiet = True
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - for the life of the process


def leave() -> None:
    """Leave the process group :func:`setup` joined (MPI itself stays up until the interpreter exits)."""
    import tapegrad.distributed as dist

    if dist.is_initialized():
        dist.destroy_process_group()


def several_ranks() -> bool:
    import tapegrad.distributed as dist

    return dist.is_initialized() and dist.get_world_size() > 1


def fail(message: str, code: int) -> int:
    """Report ``message`` and end the job (every rank) with ``code``; a single process just returns ``code``."""
    if several_ranks():
        import tapegrad.distributed as dist

        dist.abort(message, code)
    print(message, file=sys.stderr)
    return code


def is_main_process() -> bool:
    import tapegrad.distributed as dist

    return not dist.is_initialized() or dist.get_rank() == 0
