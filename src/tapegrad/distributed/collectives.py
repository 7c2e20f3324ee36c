"""Collectives on Tensors and arrays, in place, with ``torch.distributed``'s names: ``all_reduce``,
``broadcast``, ``all_gather_object``.

Buffers go to MPI without copies when they can (a C-contiguous NumPy array of an MPI type); otherwise (float16,
a non-contiguous view, a CuPy array when MPI is not CUDA-aware) through a host staging copy that is written back.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._codec import dumps, loads
from ._mpi import DistributedError
from ._ops import ReduceOp, mpi_op, reduce_op
from .group import default_group

_BOOL_OPS = {ReduceOp.SUM: "LOR", ReduceOp.MAX: "LOR", ReduceOp.MIN: "LAND", ReduceOp.PRODUCT: "LAND"}


def _target(x: Any, where: str) -> Any:
    """The array to change in place: a Tensor's ``.data`` or the array itself."""
    from tapegrad.autograd import Tensor

    if isinstance(x, Tensor):
        return x.data
    if hasattr(x, "shape") and hasattr(x, "dtype") and hasattr(x, "__setitem__"):
        return x
    raise TypeError(f"{where}: expected a Tensor or an array to change in place, got {type(x).__name__}")


class _Staged:
    """A host buffer MPI can use for ``array``, and the write-back when it is a copy."""

    def __init__(self, array: Any, cuda_aware: bool) -> None:
        self.array = array
        self.device = hasattr(array, "get") and not isinstance(array, np.ndarray)
        if self.device and cuda_aware and array.flags.c_contiguous:
            self.buffer, self.copied = array, False
            return
        host = array.get() if self.device else array
        wire = np.float32 if host.dtype == np.float16 else None  # MPI has no half-precision type
        if wire is not None or not host.flags.c_contiguous or not host.flags.writeable or self.device:
            self.buffer = np.ascontiguousarray(host, dtype=wire or host.dtype)
            self.copied = True
        else:
            self.buffer, self.copied = host, False

    def write_back(self) -> None:
        if not self.copied:
            return
        if self.device:
            from tapegrad.autograd import array_module

            self.array[...] = array_module(self.array).asarray(self.buffer.astype(self.array.dtype, copy=False))
        else:
            self.array[...] = self.buffer


class Work:
    """What ``async_op=True`` returns: ``wait()`` completes the operation (torch's ``Work``)."""

    def __init__(self, request: Any, finish: Any) -> None:
        self._request, self._finish, self._done = request, finish, False

    def wait(self) -> bool:
        if not self._done:
            if self._request is not None:
                self._request.Wait()
            self._finish()
            self._done = True
        return True

    def is_completed(self) -> bool:
        return self._done


def all_reduce(tensor: Any, op: Any = "sum", group: Any = None, async_op: bool = False) -> Work | None:
    """Reduce ``tensor`` over all ranks, in place: every rank ends with the same result.

    ``op``: ``"sum"``, ``"mean"``, ``"max"``, ``"min"`` (or ``"product"``), or torch's ``ReduceOp`` names.
    The mean of an integer tensor is refused (it would have to round).
    """
    g = default_group()
    kind = reduce_op(op)
    array = _target(tensor, "all_reduce")
    if kind is ReduceOp.AVG and array.dtype.kind in "iub":
        raise TypeError(f"all_reduce: op 'mean' needs a floating-point tensor, got {array.dtype}")
    if array.dtype.kind == "c" and kind in (ReduceOp.MAX, ReduceOp.MIN):
        raise TypeError(f"all_reduce: op '{kind.value}' is undefined for complex {array.dtype}")
    if g.size == 1 or array.size == 0:
        return Work(None, lambda: None) if async_op else None
    staged = _Staged(array, g.cuda_aware)
    MPI = g.mpi  # noqa: N806
    mop = getattr(MPI, _BOOL_OPS[kind]) if array.dtype == np.bool_ else mpi_op(MPI, kind)

    def finish() -> None:
        if kind is ReduceOp.AVG:
            staged.buffer /= g.size
        staged.write_back()

    if async_op:
        return Work(g.comm.Iallreduce(MPI.IN_PLACE, staged.buffer, op=mop), finish)
    g.comm.Allreduce(MPI.IN_PLACE, staged.buffer, op=mop)
    finish()
    return None


def broadcast(tensor: Any, src: int = 0, group: Any = None, async_op: bool = False) -> Work | None:
    """Overwrite ``tensor`` on every rank with rank ``src``'s (same shape and dtype on every rank)."""
    g = default_group()
    if not 0 <= src < g.size:
        raise ValueError(f"broadcast: src must be a rank in 0..{g.size - 1}, got {src}")
    array = _target(tensor, "broadcast")
    if g.size == 1 or array.size == 0:
        return Work(None, lambda: None) if async_op else None
    staged = _Staged(array, g.cuda_aware)
    if async_op:
        return Work(g.comm.Ibcast(staged.buffer, root=src), staged.write_back)
    g.comm.Bcast(staged.buffer, root=src)
    staged.write_back()
    return None


def _all_gather_bytes(data: bytes) -> list[bytes]:
    g = default_group()
    if g.size == 1:
        return [data]
    sizes = np.zeros(g.size, dtype=np.int64)
    g.comm.Allgather(np.array([len(data)], dtype=np.int64), sizes)
    received = np.empty(int(sizes.sum()), dtype=np.uint8)
    offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    g.comm.Allgatherv(np.frombuffer(data, dtype=np.uint8),
                      [received, (sizes.tolist(), offsets.tolist()), g.mpi.BYTE])
    return [received[o:o + s].tobytes() for o, s in zip(offsets, sizes, strict=True)]


_MISSING = object()


def all_gather_object(object_list: Any, obj: Any = _MISSING, group: Any = None) -> list[Any] | None:
    """Gather one object from every rank into ``object_list`` (torch's signature), in rank order.

    ``all_gather_object(obj)`` (one argument) returns the list instead.  Objects travel as JSON plus raw
    array bytes (never pickle): None, numbers, strings, lists, tuples, dicts, NumPy arrays and Tensors.
    """
    size = default_group().size
    if obj is _MISSING:
        return [loads(b) for b in _all_gather_bytes(dumps(object_list))]
    if not isinstance(object_list, list) or len(object_list) != size:
        raise ValueError(f"all_gather_object: object_list must be a list of world size {size}, got "
                         f"{object_list!r}")
    object_list[:] = [loads(b) for b in _all_gather_bytes(dumps(obj))]
    return None


def broadcast_object_list(object_list: list[Any], src: int = 0, group: Any = None) -> None:
    """Replace ``object_list``'s items on every rank with rank ``src``'s (torch's signature; no pickle)."""
    g = default_group()
    if g.size == 1:
        return
    data = dumps(list(object_list)) if g.rank == src else b""
    size = np.array([len(data)], dtype=np.int64)
    g.comm.Bcast(size, root=src)
    buffer = np.frombuffer(data, dtype=np.uint8).copy() if g.rank == src else np.empty(int(size[0]), np.uint8)
    g.comm.Bcast(buffer, root=src)
    items = loads(buffer.tobytes())
    if len(items) != len(object_list):
        raise DistributedError(f"broadcast_object_list: rank {src} sent {len(items)} objects, this rank "
                               f"expected {len(object_list)}")
    object_list[:] = items
