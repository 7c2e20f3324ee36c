"""``DistributedDataParallel``: the same model on every rank, each on its own part of the batch, gradients averaged.

As torch's: at wrap time rank 0's parameters and buffers are broadcast (after checking that every rank built
the same model: same parameter names, shapes and dtypes, or a clear error on every rank instead of a hang or a
silent mix); each forward of a model in training mode arms the gradient all-reduce (see ``_reducer.py``), and
after ``loss.backward()`` every parameter's ``.grad`` holds the mean over ranks of the local gradients.  With
equal per-rank batches that is the gradient of the mean loss over the global batch, so N ranks at batch b take
the same steps as one process at batch N * b.  ``no_sync()`` skips the all-reduce (gradient accumulation).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from tapegrad.autograd import is_grad_enabled

import tapegrad.distributed as dist

from ..modules.module import Module
from ._reducer import Reducer


class DistributedDataParallel(Module):
    """Wrap ``module`` for data-parallel training over the default process group.

    Parameters (torch's order and defaults; the GPU-placement ones are accepted and ignored: one process
    drives one device)
    ----------
    module : the model, built identically on every rank
    broadcast_buffers : copy rank 0's buffers (batch-norm running statistics) to every rank at each forward
    bucket_cap_mb : size of the flat gradient buckets, in MiB (25 as in torch)
    find_unused_parameters : not supported: every parameter must get a gradient in every iteration
    """

    def __init__(self, module: Module, device_ids: Any = None, output_device: Any = None, dim: int = 0,
                 broadcast_buffers: bool = True, process_group: Any = None, bucket_cap_mb: float = 25,
                 find_unused_parameters: bool = False, **kwargs: Any) -> None:
        super().__init__()
        if not isinstance(module, Module):
            raise TypeError(f"DistributedDataParallel: expected a tapegrad Module, got {type(module).__name__}")
        if find_unused_parameters:
            raise ValueError("DistributedDataParallel: find_unused_parameters=True is not supported; give "
                             "unused parameters requires_grad=False")
        if not dist.is_initialized():
            raise dist.DistributedError("DistributedDataParallel: call tapegrad.distributed."
                                        "init_process_group() first")
        self.module = module
        self.broadcast_buffers = broadcast_buffers
        self.require_backward_grad_sync = True
        named = [(n, p) for n, p in module.named_parameters() if p.requires_grad]
        self._check_same_model(module)
        self._broadcast_state(module)
        object.__setattr__(self, "reducer", Reducer(named, int(bucket_cap_mb * 2**20)))

    # ------------------------------------------------------------------ wrap time
    @staticmethod
    def _check_same_model(module: Module) -> None:
        mine = [(n, list(p.shape), str(p.dtype)) for n, p in module.named_parameters()]
        mine += [(f"{n} (buffer)", list(b.shape), str(b.dtype)) for n, b in module.named_buffers() if b is not None]
        everyone = dist.all_gather_object(mine)
        reference = [tuple(x) for x in everyone[0]]
        for rank, theirs in enumerate(everyone[1:], start=1):
            theirs = [tuple(x) for x in theirs]
            if theirs == reference:
                continue
            if len(theirs) != len(reference):
                detail = (f"rank 0 has {len(reference)} parameters and buffers, rank {rank} has {len(theirs)}")
            else:
                a, b = next((a, b) for a, b in zip(reference, theirs, strict=True) if a != b)
                detail = (f"rank 0 has {a[0]} of shape {tuple(a[1])} {a[2]}, rank {rank} has {b[0]} of shape "
                          f"{tuple(b[1])} {b[2]}")
            raise dist.DistributedError("DistributedDataParallel: the ranks built different models "
                                        f"({detail}); build the same model on every rank")

    @staticmethod
    def _broadcast_state(module: Module) -> None:
        for p in module.parameters():
            dist.broadcast(p.data, src=0)
        for b in module.buffers():
            if b is not None:
                dist.broadcast(b.data, src=0)

    # ------------------------------------------------------------------ every step
    def forward(self, *args: Any, **kwargs: Any) -> Any:
        # as torch: buffers are synchronised (and the all-reduce armed) only by a forward that records for a
        # synchronised backward, so evaluating under no_grad() on one rank alone never waits for the others
        syncing = is_grad_enabled() and self.require_backward_grad_sync
        if syncing and self.broadcast_buffers and dist.get_world_size() > 1:
            for b in self.module.buffers():
                if b is not None:
                    dist.broadcast(b.data, src=0)
        if syncing and self.module.training:
            self.reducer.prepare()
        return self.module(*args, **kwargs)

    @contextmanager
    def no_sync(self) -> Iterator[None]:
        """Inside, backward only accumulates local gradients; the next synchronised backward averages the sum."""
        previous = self.require_backward_grad_sync
        self.require_backward_grad_sync = False
        try:
            yield
        finally:
            self.require_backward_grad_sync = previous

    def extra_repr(self) -> str:
        sizes = ", ".join(f"{b.nbytes() / 2**20:.2f}" for b in self.reducer.buckets)
        return f"world_size={dist.get_world_size()}, buckets (MiB)=[{sizes}]"
