"""``tapegrad.distributed``: several processes, one job, on MPI (through mpi4py), with torch.distributed's API.

>>> import tapegrad.distributed as dist
>>> dist.init_process_group()        # the world from `mpiexec -n N`, or a world of 1 without it
>>> dist.get_rank(), dist.get_world_size()
(0, 1)
>>> dist.destroy_process_group()

mpi4py is imported only when the process was started by an MPI launcher (``pip install tapegrad[distributed]``).
See docs/tutorials/distributed.md.
"""

from ._mpi import DistributedError, launched_by_mpi, launcher_world_size
from ._ops import ReduceOp
from .collectives import Work, all_gather_object, all_reduce, broadcast, broadcast_object_list
from .group import (
    abort,
    barrier,
    destroy_process_group,
    get_rank,
    get_world_size,
    init_process_group,
    is_available,
    is_initialized,
)

__all__ = [
    "DistributedError", "ReduceOp", "Work", "abort", "all_gather_object", "all_reduce", "barrier", "broadcast",
    "broadcast_object_list", "destroy_process_group", "get_rank", "get_world_size", "init_process_group",
    "is_available", "is_initialized", "launched_by_mpi", "launcher_world_size",
]
