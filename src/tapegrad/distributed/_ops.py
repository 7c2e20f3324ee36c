"""Reduction operations, spelled as torch spells them (``ReduceOp.SUM``) or as strings (``"sum"``)."""

from __future__ import annotations

from enum import Enum
from typing import Any


class ReduceOp(str, Enum):
    """``torch.distributed.ReduceOp``'s names; ``AVG`` is torch's spelling of the mean."""

    SUM = "sum"
    AVG = "mean"
    MAX = "max"
    MIN = "min"
    PRODUCT = "product"


_ALIASES = {"sum": ReduceOp.SUM, "mean": ReduceOp.AVG, "avg": ReduceOp.AVG, "average": ReduceOp.AVG,
            "max": ReduceOp.MAX, "min": ReduceOp.MIN, "product": ReduceOp.PRODUCT, "prod": ReduceOp.PRODUCT}


def reduce_op(op: Any) -> ReduceOp:
    """``"sum"``, ``"SUM"``, ``ReduceOp.SUM`` or torch's ``ReduceOp.SUM`` (by name) -> ``ReduceOp``."""
    if isinstance(op, ReduceOp):
        return op
    name = getattr(op, "name", op)  # torch.distributed.ReduceOp.SUM and friends carry a .name
    if isinstance(name, str) and name.lower() in _ALIASES:
        return _ALIASES[name.lower()]
    raise ValueError(f"all_reduce: unknown op {op!r}; expected one of 'sum', 'mean', 'max', 'min', 'product' "
                     "(or ReduceOp.SUM, ReduceOp.AVG, ...)")


def mpi_op(MPI: Any, op: ReduceOp) -> Any:  # noqa: N803
    """The MPI operation that computes ``op`` (``AVG`` is a ``SUM`` followed by a division)."""
    return {ReduceOp.SUM: MPI.SUM, ReduceOp.AVG: MPI.SUM, ReduceOp.MAX: MPI.MAX, ReduceOp.MIN: MPI.MIN,
            ReduceOp.PRODUCT: MPI.PROD}[op]
