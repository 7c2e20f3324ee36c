"""``tapegrad.nn.parallel``: data-parallel training over ``tapegrad.distributed`` (MPI)."""

from .distributed import DistributedDataParallel

__all__ = ["DistributedDataParallel"]
