"""The default process group: which rank this process is, of how many, and how a failure stops them all.

``init_process_group()`` reads the world from the MPI launcher's environment (``mpiexec``, ``srun``); a process
started without one is a world of 1 that needs no MPI at all, so single-process code paths and tests run the
same calls.  Collectives and DDP then use ``MPI.COMM_WORLD``.

Faults: MPI has no timeouts, so a rank that dies or raises while the others wait in a collective would hang
the job.  With ``abort_on_error`` (the default) an uncaught exception prints its traceback and calls
``MPI_Abort``, which makes the launcher kill every rank with a non-zero exit status.  Ranks other than 0 wait a
moment before printing, so an error that every rank hits (a bad path, a bad option) is printed once, by rank 0.
"""

from __future__ import annotations

import sys
import time
import traceback
from dataclasses import dataclass
from typing import Any

from ._mpi import DistributedError, cuda_aware, import_mpi, launched_by_mpi

# how long a rank other than 0 waits before it reports an error and aborts the job (rank 0 reports first
# when every rank fails the same way; its abort ends the others before they print)
ABORT_GRACE_SECONDS = 1.0
# how long a rank waits between printing its error and MPI_Abort, so the launcher forwards the line
ABORT_FLUSH_SECONDS = 0.5


@dataclass
class _Group:
    comm: Any  # mpi4py.MPI.Comm, or None for a world of 1 without MPI
    rank: int
    size: int
    mpi: Any  # the mpi4py.MPI module, or None
    cuda_aware: bool


_group: _Group | None = None
_previous_excepthook: Any = None


def init_process_group(backend: str | None = None, init_method: str | None = None, timeout: Any = None,
                       world_size: int = -1, rank: int = -1, *, abort_on_error: bool = True) -> None:
    """Join the job: the world is the MPI launcher's (``mpiexec -n N``), or a world of 1 without one.

    Parameters mirror ``torch.distributed.init_process_group``.  ``backend`` may be ``None`` or ``"mpi"``;
    ``init_method`` and ``timeout`` are accepted for compatibility and ignored (MPI's launcher does the
    rendezvous; MPI collectives have no timeout, which is why ``abort_on_error`` exists).  ``world_size`` and
    ``rank``, when given, must agree with the launcher's.
    """
    global _group, _previous_excepthook
    if _group is not None:
        raise DistributedError("init_process_group: the default process group is already initialised "
                               "(call destroy_process_group() first)")
    if backend not in (None, "mpi", "MPI"):
        raise ValueError(f"init_process_group: backend {backend!r} is not available; tapegrad runs on MPI "
                         "(backend='mpi' or None)")
    if launched_by_mpi():
        MPI = import_mpi()  # noqa: N806
        comm = MPI.COMM_WORLD
        group = _Group(comm, comm.Get_rank(), comm.Get_size(), MPI, cuda_aware(MPI))
    else:
        group = _Group(None, 0, 1, None, False)
    for name, wanted, actual in (("world_size", world_size, group.size), ("rank", rank, group.rank)):
        if wanted not in (-1, None) and int(wanted) != actual:
            raise DistributedError(f"init_process_group: {name}={wanted} was asked for, but the MPI launcher "
                                   f"started this process with {name} {actual}")
    _group = group
    if abort_on_error and group.size > 1 and _previous_excepthook is None:
        _previous_excepthook = sys.excepthook
        sys.excepthook = _abort_hook


def _abort_hook(kind: Any, value: Any, tb: Any) -> None:
    text = "".join(traceback.format_exception(kind, value, tb))
    abort(text.rstrip("\n"), 1)


def abort(message: str, code: int = 1) -> None:
    """Print ``message`` (once per job, normally) and end every rank with exit status ``code``.

    In a world of 1 this prints and exits; in an MPI job it calls ``MPI_Abort`` on the world communicator, so
    that ranks blocked in a collective do not hang.
    """
    group = _group
    if group is not None and group.size > 1 and group.rank != 0:
        time.sleep(ABORT_GRACE_SECONDS)
    if message:
        prefix = f"[rank {group.rank}/{group.size}] " if group is not None and group.size > 1 else ""
        print(prefix + message if group is not None and group.size > 1 and "\n" in message else message,
              file=sys.stderr, flush=True)
    sys.stdout.flush()
    if group is not None and group.size > 1:
        # the launcher forwards a rank's stderr asynchronously and MPI_Abort kills at once: without a pause the
        # line just printed was lost now and then (seen once in a CI run under mpiexec -n 2)
        time.sleep(ABORT_FLUSH_SECONDS)
        group.comm.Abort(code)
    raise SystemExit(code)


def destroy_process_group(group: Any = None) -> None:
    """Leave the default group (MPI itself is finalised when the interpreter exits, by mpi4py)."""
    global _group, _previous_excepthook
    _group = None
    if _previous_excepthook is not None:
        sys.excepthook = _previous_excepthook
        _previous_excepthook = None


def is_initialized() -> bool:
    return _group is not None


def is_available() -> bool:
    """Whether multi-process runs are possible here (mpi4py importable), as ``torch.distributed.is_available``."""
    try:
        import_mpi()
    except DistributedError:
        return False
    return True


def default_group() -> _Group:
    if _group is None:
        raise DistributedError("tapegrad.distributed: the default process group is not initialised; call "
                               "tapegrad.distributed.init_process_group() first")
    return _group


def get_rank(group: Any = None) -> int:
    """This process's rank, 0 .. world size - 1."""
    return default_group().rank


def get_world_size(group: Any = None) -> int:
    """The number of ranks (1 outside ``mpiexec``)."""
    return default_group().size


def barrier(group: Any = None) -> None:
    """Wait until every rank has called ``barrier``."""
    g = default_group()
    if g.size > 1:
        g.comm.Barrier()
