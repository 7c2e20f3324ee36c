"""What the training loop does differently on several ranks (``mpiexec -n N tapegrad train``), in one place.

With a world of 1 (no ``mpiexec``, or the process group never initialised) every function here is the identity
of the single-process code path, so a plain run computes exactly what it did before.

On N ranks: the model's batch norms become ``SyncBatchNorm`` and it is wrapped in ``DistributedDataParallel``;
each rank reads its ``DistributedSampler`` share of every epoch's permutation at ``--batch-size`` images, so the
global batch is N x ``--batch-size``; augmentation and dropout on rank r > 0 draw from a generator seeded by
(seed, epoch, rank) at the start of every epoch (rank 0 keeps the run's saved generator), so a resumed run with
the same number of ranks repeats the same random draws; the metrics are sums reduced over the ranks.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tapegrad.autograd import manual_seed
from tapegrad.nn import SyncBatchNorm
from tapegrad.nn.data import DataLoader, DistributedSampler, Subset


def world() -> tuple[int, int]:
    """(rank, world size); (0, 1) outside a distributed run."""
    import tapegrad.distributed as dist

    if not dist.is_initialized():
        return 0, 1
    return dist.get_rank(), dist.get_world_size()


def is_main_process() -> bool:
    """Rank 0 (or a single process): the one that prints, writes checkpoints and reports."""
    return world()[0] == 0


def wrap(model: Any) -> Any:
    """``model`` itself on one rank; ``DistributedDataParallel(SyncBatchNorm-converted model)`` on several."""
    if world()[1] == 1:
        return model
    from tapegrad.nn.parallel import DistributedDataParallel

    return DistributedDataParallel(SyncBatchNorm.convert_sync_batchnorm(model))


def train_loader(dataset: Any, batch_size: int, seed: int) -> DataLoader:
    """The single-process shuffled loader, or this rank's ``DistributedSampler`` share of each epoch."""
    if world()[1] == 1:
        return DataLoader(dataset, batch_size=batch_size, shuffle=True, seed=seed)
    return DataLoader(dataset, batch_size=batch_size, sampler=DistributedSampler(dataset, shuffle=True, seed=seed))


def start_epoch(loader: DataLoader, epoch: int, seed: int) -> None:
    """Point the loader (and on ranks > 0 the random generator) at epoch ``epoch``."""
    loader.set_epoch(epoch)
    if loader.sampler is not None:
        loader.sampler.set_epoch(epoch)
    rank = world()[0]
    if rank > 0:
        manual_seed(int(np.random.SeedSequence([seed, epoch, rank]).generate_state(1)[0]))


def global_images(loader: DataLoader) -> int:
    """Images one epoch covers on all ranks together (with the sampler's padding)."""
    if loader.sampler is None:
        return len(loader.dataset)
    return len(loader.sampler) * world()[1]


def sum_over_ranks(*values: float) -> list[float]:
    """Each value summed over all ranks (float64)."""
    if world()[1] == 1:
        return [float(v) for v in values]
    import tapegrad.distributed as dist

    array = np.array(values, dtype=np.float64)
    dist.all_reduce(array, "sum")
    return [float(v) for v in array]


def evaluate_over_ranks(evaluate: Any, model: Any, dataset: Any, device: str) -> tuple[float, float]:
    """(mean loss, accuracy) of ``model`` on ``dataset``, each rank evaluating its share without padding
    (rank r takes images r, r + N, ...), so the sums over ranks are exactly the whole set's."""
    rank, size = world()
    if size == 1:
        result = evaluate(model, dataset, device=device)
        return result["loss"], result["accuracy"]
    part = Subset(dataset, range(rank, len(dataset), size))
    result = evaluate(model, part, device=device) if len(part) else {"loss": 0.0, "accuracy": 0.0, "n": 0}
    loss, hits, n = sum_over_ranks(result["loss"] * result["n"], result["accuracy"] * result["n"], result["n"])
    return loss / n, hits / n
