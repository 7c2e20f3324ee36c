"""Dataset-wide top activations (Zeiler & Fergus, Fig. 2): per channel, the k images that excite it most.

One streaming pass over the data set in batches, without recording (no tape, no gradients): after each batch
the running top-k per channel is merged with the batch's candidates, so memory is O(channels * (k + batch))
and never holds all activations.  Each image counts once per channel, at its strongest position (ZF show k
different images per feature).  Only then are the few winners projected to pixel space with the deconvnet
(batched), and cropped, with their image patches, to the unit's receptive field.

Over a data set sharded across MPI ranks (``distributed=True`` under ``mpiexec``): rank r scans the batches
r, r + N, r + 2N, ... of the single-process batching, so every image's activation is computed in the same batch
as in one process (BLAS rounds a product differently for a different batch size, by an ulp or so); the ranks'
running top-k are then gathered and merged.  The top-k is a total order (value descending, then image index
ascending), which a streaming merge and a merge of shards both compute exactly, so the result is identical to
a single-process run (tests/distributed/test_top_activations.py).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from typing import Any, NamedTuple

import numpy as np
from tapegrad.autograd import Tensor, no_grad
from tqdm.auto import tqdm

from .project import (
    METHOD_CLASSES,
    LayerReached,
    find_module,
    inspection_mode,
    model_device,
    model_dtype,
)
from .receptive_field import Field, crop, receptive_field


class Hit(NamedTuple):
    """One of a channel's top activations."""

    index: int  # position of the image in the data set
    position: tuple[int, ...]  # where in the feature map
    value: float
    box: tuple[int, int, int, int]  # (top, left, bottom, right) in the image, clipped; bottom/right exclusive
    patch: np.ndarray  # (C, h, w) image pixels under the receptive field (zero outside the image)
    projection: np.ndarray  # (C, h, w) the deconvnet projection, cropped the same way


class TopActivations(NamedTuple):
    layer: str
    channels: list[int]
    hits: dict[int, list[Hit]]  # channel -> its k hits, strongest first
    field: Field


def _image(item: Any) -> np.ndarray:
    image = item[0] if isinstance(item, (tuple, list)) else item
    array = image.numpy() if isinstance(image, Tensor) else np.asarray(image)
    return array


class RunningTopK:
    """The k largest (value, image, position) per channel seen so far; merging costs O(C * (k + batch))."""

    def __init__(self, channels: int, k: int) -> None:
        self.k = k
        self.values = np.full((channels, 0), -np.inf)
        self.images = np.zeros((channels, 0), dtype=np.int64)
        self.positions = np.zeros((channels, 0), dtype=np.int64)

    def update(self, values: np.ndarray, images: np.ndarray, positions: np.ndarray) -> None:
        """``values``/``positions`` are (C, B): each image's best value and flat position per channel."""
        v = np.concatenate([self.values, values], axis=1)
        i = np.concatenate([self.images, np.broadcast_to(images, values.shape)], axis=1)
        p = np.concatenate([self.positions, positions], axis=1)
        # strongest first, ties broken by the image index: a total order, so the k kept do not depend on how
        # the data set was split into batches or shards
        order = np.lexsort((i, -v), axis=1)[:, : self.k]
        self.values, self.images, self.positions = (np.take_along_axis(a, order, axis=1) for a in (v, i, p))

    def merge(self, other: RunningTopK) -> None:
        """Add another running top-k (another rank's) of the same channels."""
        self.update(other.values, other.images, other.positions)


def top_activations(
    model: Any,
    dataset: Any,
    layer: Any,
    channels: Sequence[int] | None = None,
    k: int = 9,
    batch_size: int = 64,
    progress: bool = True,
    method: str = "deconvnet",
    distributed: bool = False,
) -> TopActivations:
    """Per channel of ``layer``, the ``k`` strongest activations over ``dataset`` and their projections.

    Parameters
    ----------
    model
        A tapegrad module; it is put in eval mode for the pass (and restored).
    dataset
        Anything with ``len`` and indexing that returns ``(image, label)`` or an image (C, H, W), array or
        Tensor.
    layer
        Module name or module.
    channels
        Which channels to keep (default: all).
    method
        The projection: ``"deconvnet"`` (ZF), ``"guided"`` or ``"saliency"``.
    distributed
        Every rank of the ``tapegrad.distributed`` job scans its share of the batches and the top-k are merged
        over MPI; every rank must call this, and every rank gets the same result, identical to one process's.
    """
    return top_activations_of_layers(
        model, dataset, [layer], [channels], k, batch_size, progress, method, distributed
    )[0]


def top_activations_of_layers(
    model: Any,
    dataset: Any,
    layers: Sequence[Any],
    channels: Sequence[Sequence[int] | None] | None = None,
    k: int = 9,
    batch_size: int = 64,
    progress: bool = True,
    method: str = "deconvnet",
    distributed: bool = False,
) -> list[TopActivations]:
    """:func:`top_activations` of several layers from one pass over ``dataset`` (``channels``: one entry per
    layer, None for all); each batch runs the model only up to the deepest of them."""
    if k < 1:
        raise ValueError(f"top_activations: k must be at least 1, got {k}")
    if not layers:
        raise ValueError("top_activations: no layer given")
    modules = [find_module(model, layer) for layer in layers]
    names = [
        layer if isinstance(layer, str) else next(n for n, m in model.named_modules() if m is module)
        for layer, module in zip(layers, modules, strict=True)
    ]
    channels = [None] * len(layers) if channels is None else list(channels)
    if len(channels) != len(layers):
        raise ValueError(f"top_activations: {len(channels)} channel lists for {len(layers)} layers")
    n = len(dataset)
    if n == 0:
        raise ValueError("top_activations: the data set is empty")
    first = _image(dataset[0])
    dtype = model_dtype(model) or (first.dtype if first.dtype.kind == "f" else np.float32)
    device = model_device(model)
    wanted = [None if c is None else np.asarray(list(c), dtype=np.int64) for c in channels]
    tops: list[RunningTopK | None] = [None] * len(layers)
    spatial: list[tuple[int, ...] | None] = [None] * len(layers)
    rank, world = _shard(distributed)
    bar = tqdm(total=n, desc=f"top activations of {', '.join(names)}", unit="img", disable=not progress or rank != 0)
    with inspection_mode(model), no_grad(), _capture_all(modules) as outputs:
        for start in range(rank * batch_size, n, batch_size * world):
            stop = min(start + batch_size, n)
            batch = np.stack([_image(dataset[i]) for i in range(start, stop)]).astype(dtype, copy=False)
            outputs.clear()
            try:  # only the layers up to the deepest of these run
                model(Tensor(batch, device=device))
            except LayerReached:
                pass
            for j, module in enumerate(modules):
                output = outputs[id(module)]
                act = output.numpy()
                act = act.reshape(act.shape[0], act.shape[1], -1)  # (B, C, positions); (B, F, 1) for linear
                if wanted[j] is not None:
                    act = act[:, wanted[j]]
                best = act.argmax(axis=2)  # (B, C)
                values = np.take_along_axis(act, best[:, :, None], axis=2)[:, :, 0]
                if tops[j] is None:
                    tops[j] = RunningTopK(act.shape[1], k)
                    spatial[j] = tuple(output.shape[2:])
                tops[j].update(values.T.astype(np.float64), np.arange(start, stop)[None, :], best.T)
            bar.update(min(n, start + batch_size * world) - start)
    bar.close()
    results = []
    for j, module in enumerate(modules):
        top, shape = _merge_shards(tops[j], spatial[j], k) if world > 1 else (tops[j], spatial[j])
        assert top is not None and shape is not None
        chosen = list(range(top.values.shape[0])) if wanted[j] is None else [int(c) for c in wanted[j]]
        field = receptive_field(model, module, first.shape)
        hits = _project_hits(model, dataset, module, top, chosen, shape, field, batch_size, method, dtype)
        results.append(TopActivations(names[j], chosen, hits, field))
    return results


@contextlib.contextmanager
def _capture_all(modules: Sequence[Any]) -> Iterator[dict[int, Tensor]]:
    """Each module's first output of a forward pass, by ``id(module)``; the pass ends (:class:`LayerReached`)
    once all have run, so the layers above the deepest one are never computed."""
    outputs: dict[int, Tensor] = {}
    wanted = {id(module) for module in modules}

    def hook(module: Any, inputs: Any, output: Any) -> None:
        outputs.setdefault(id(module), output[0] if isinstance(output, (tuple, list)) else output)
        if wanted <= outputs.keys():
            raise LayerReached

    handles = [module.register_forward_hook(hook) for module in {id(m): m for m in modules}.values()]
    try:
        yield outputs
    finally:
        for handle in handles:
            handle.remove() if hasattr(handle, "remove") else handle()


def _shard(distributed: bool) -> tuple[int, int]:
    if not distributed:
        return 0, 1
    import tapegrad.distributed as dist

    if not dist.is_initialized():
        raise ValueError("top_activations(distributed=True): call tapegrad.distributed.init_process_group() first")
    return dist.get_rank(), dist.get_world_size()


def _merge_shards(top: RunningTopK | None, spatial: tuple[int, ...] | None,
                  k: int) -> tuple[RunningTopK, tuple[int, ...]]:
    """Every rank's running top-k, merged in rank order (a rank with no batch sends None)."""
    import tapegrad.distributed as dist

    mine = None if top is None else (top.values, top.images, top.positions, list(spatial or ()))
    merged: RunningTopK | None = None
    for theirs in dist.all_gather_object(mine):
        if theirs is None:
            continue
        values, images, positions, shape = theirs
        if merged is None:
            merged, spatial = RunningTopK(values.shape[0], k), tuple(shape)
        merged.update(values, images, positions)
    assert merged is not None and spatial is not None
    return merged, spatial


def _project_hits(
    model: Any,
    dataset: Any,
    module: Any,
    top: RunningTopK,
    chosen: list[int],
    spatial: tuple[int, ...],
    field: Field,
    batch_size: int,
    method: str,
    dtype: Any,
) -> dict[int, list[Hit]]:
    jobs = []  # (row in top, channel, image index, position, value)
    for row, channel in enumerate(chosen):
        for j in range(top.values.shape[1]):
            position = (
                tuple(int(p) for p in np.unravel_index(int(top.positions[row, j]), spatial))
                if spatial
                else ()
            )
            jobs.append((channel, int(top.images[row, j]), position, float(top.values[row, j])))
    projector = METHOD_CLASSES[method](model)
    hits: dict[int, list[Hit]] = {c: [] for c in chosen}
    for start in range(0, len(jobs), batch_size):
        part = jobs[start : start + batch_size]
        images = np.stack([_image(dataset[idx]) for _, idx, _, _ in part]).astype(dtype, copy=False)
        result = projector.project(images, module, selections=[(c, pos) for c, _, pos, _ in part])
        for (channel, idx, position, value), image, proj in zip(part, images, result.maps, strict=True):
            hits[channel].append(
                Hit(
                    idx,
                    position,
                    value,
                    field.box(position),
                    crop(image, field, position),
                    crop(proj, field, position),
                )
            )
    return hits
