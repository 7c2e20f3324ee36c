"""The per-rank programs of tests/distributed: ``python -m tests.distributed.worker CASE OUT [options]``.

Each case checks what it can itself (``assert``: a failing assertion aborts the job with a non-zero status)
and rank 0 writes what the test compares with a single-process run to ``OUT``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from tapegrad.autograd import Tensor

import tapegrad.distributed as dist
from tapegrad import nn

from . import cases


def ddp(out: Path, sync_bn: bool, n_data: int, batch: int, epochs: int, every: int = 1, device: str = "cpu") -> None:
    rank = dist.get_rank()
    net = cases.model(seed=100 + rank, sync_bn=sync_bn)  # different on purpose: DDP must broadcast rank 0's
    net.to(device)  # "cuda": CuPy gradients, staged through the host (the emulated CuPy in CI)
    if sync_bn:
        net = nn.SyncBatchNorm.convert_sync_batchnorm(net)
    model = nn.parallel.DistributedDataParallel(net, bucket_cap_mb=0.001)  # several buckets
    opt = cases.optimizer(model)
    data = cases.dataset(n_data)
    sampler = nn.data.DistributedSampler(data, shuffle=True, seed=3)
    for epoch in range(epochs):
        sampler.set_epoch(epoch)
        batches = [(x.to(device), y.to(device)) for x, y in cases.loader(data, batch, sampler)]
        cases.accumulate(model, opt, batches, every, model.no_sync)
    state = {k: np.asarray(v) for k, v in net.to("cpu").state_dict().items()}
    gathered = dist.all_gather_object(state)
    for other in gathered[1:]:  # every rank ends with the same parameters and buffers
        for k in state:
            np.testing.assert_array_equal(other[k], gathered[0][k], err_msg=k)
    if rank == 0:
        np.savez(out / "ddp.npz", **state)


def collectives(out: Path) -> None:
    rank, world = dist.get_rank(), dist.get_world_size()
    ranks = np.arange(world)
    for dtype in (np.float32, np.float64, np.float16, np.int32, np.int64, np.uint8, np.complex128, np.bool_):
        for shape in ((), (0,), (5,), (2, 3), (3, 0, 2)):
            def value(r: int, dtype=dtype, shape=shape) -> np.ndarray:
                base = np.arange(int(np.prod(shape)), dtype=np.float64).reshape(shape) + r + 1
                return (base % 2 == 0) if dtype is np.bool_ else base.astype(dtype)

            every = np.stack([value(r) for r in ranks]) if shape else np.array([value(r) for r in ranks])
            expect = {"sum": every.sum(axis=0, dtype=every.dtype) if dtype is not np.bool_ else every.any(axis=0),
                      "max": every.max(axis=0) if dtype is not np.complex128 else None,
                      "min": every.min(axis=0) if dtype is not np.complex128 else None,
                      "mean": every.mean(axis=0) if np.dtype(dtype).kind in "fc" else None}
            for op, want in expect.items():
                if want is None:
                    continue
                for wrap in (np.asarray, Tensor):
                    x = wrap(value(rank).copy())
                    dist.all_reduce(x, op=op)
                    got = x.numpy() if isinstance(x, Tensor) else x
                    assert got.dtype == np.dtype(dtype), (dtype, op, got.dtype)
                    np.testing.assert_allclose(got.astype(np.complex128), np.asarray(want).astype(np.complex128),
                                               rtol=1e-3 if dtype is np.float16 else 1e-12,
                                               err_msg=f"{op} {dtype} {shape}")
            x = Tensor(value(rank).copy())
            dist.broadcast(x, src=world - 1)
            np.testing.assert_array_equal(x.numpy(), value(world - 1))
    # non-contiguous views are reduced in place too; torch's ReduceOp names are accepted
    x = np.arange(12.0).reshape(3, 4) + rank
    view = x[:, ::2]
    dist.all_reduce(view, op=dist.ReduceOp.SUM)
    np.testing.assert_array_equal(x[:, ::2], sum(np.arange(12.0).reshape(3, 4)[:, ::2] + r for r in ranks))
    np.testing.assert_array_equal(x[:, 1::2], np.arange(12.0).reshape(3, 4)[:, 1::2] + rank)
    gathered = dist.all_gather_object({"rank": rank, "a": np.arange(rank, dtype=np.int16), "t": (rank, "x")})
    assert [g["rank"] for g in gathered] == list(ranks)
    assert all(g["t"] == (r, "x") and g["a"].dtype == np.int16 and len(g["a"]) == r for r, g in enumerate(gathered))
    slots: list = [None] * world
    dist.all_gather_object(slots, rank * 10)
    assert slots == [r * 10 for r in ranks]
    dist.barrier()
    if rank == 0:
        (out / "collectives.ok").write_text("ok")


def top_k(out: Path, n_data: int, k: int, layer: int) -> None:
    from tapegrad.viz import top_activations

    net = cases.model(seed=5, sync_bn=False)
    result = top_activations(net, cases.dataset(n_data), str(layer), k=k, batch_size=4, progress=False,
                             distributed=True)
    mine = hits(result)
    for other in dist.all_gather_object(mine)[1:]:  # every rank gets the same result
        for key in mine:
            np.testing.assert_array_equal(other[key], mine[key], err_msg=key)
    if dist.get_rank() == 0:
        np.savez(out / "topk.npz", **mine)


def hits(result) -> dict[str, np.ndarray]:
    arrays = {}
    for c in result.channels:
        hits = result.hits[c]
        arrays[f"{c}.index"] = np.array([h.index for h in hits])
        arrays[f"{c}.value"] = np.array([h.value for h in hits])
        arrays[f"{c}.position"] = np.array([h.position for h in hits])
        arrays[f"{c}.projection"] = np.stack([h.projection for h in hits])
    return arrays


def fail(out: Path, mode: str) -> None:
    rank = dist.get_rank()
    x = np.ones(3)
    dist.all_reduce(x)
    if mode == "raise" and rank == 1:
        raise RuntimeError("rank 1 failed on purpose")
    if mode == "mismatch":
        net = cases.model(seed=0, sync_bn=rank == 1)
        nn.parallel.DistributedDataParallel(net)
    if mode == "checkpoint":  # rank 1 fails while rank 0 is writing checkpoints: the file must stay whole
        rng = np.random.default_rng(rank)
        if rank == 0:
            for i in range(10_000):
                nn.save({"step": i, "w": rng.standard_normal(1_000_000)}, out / "ckpt.npz")
                if i == 2:
                    (out / "saved").write_text("3")
        else:
            import time

            while not (out / "saved").exists():
                time.sleep(0.01)
            time.sleep(0.05)
            raise RuntimeError("rank 1 failed during rank 0's checkpoint")
    dist.barrier()


def main(argv: list[str]) -> None:
    case, out, *options = argv
    dist.init_process_group()
    values = [int(v) for v in options if v.lstrip("-").isdigit()]
    words = [v for v in options if not v.lstrip("-").isdigit()]
    {"ddp": lambda: ddp(Path(out), bool(values[0]), *values[1:], *words),
     "collectives": lambda: collectives(Path(out)),
     "topk": lambda: top_k(Path(out), *values),
     "fail": lambda: fail(Path(out), *words)}[case]()
    dist.destroy_process_group()


if __name__ == "__main__":
    main(sys.argv[1:])
