"""``DistributedDataParallel`` in a world of 1 (the multi-rank runs are tests/distributed): its buckets, its
gradients (those of the bare model, now views of the buckets) and its errors."""

from __future__ import annotations

import numpy as np
import pytest
from tapegrad.autograd import Tensor, array_module

import tapegrad.distributed as dist
from tapegrad import nn
from tests.distributed import cases


def batch(n: int = 6) -> tuple[Tensor, Tensor]:
    x, y = cases.arrays(n)
    return Tensor(x), Tensor(y)


def test_buckets_follow_reverse_registration_order_and_the_cap(world_of_one):
    # sizes: 4.bias 12 B, 4.weight 768 B, 0.bias 16 B, 0.weight 288 B; a cap of 400 B
    model = nn.parallel.DistributedDataParallel(cases.model(0, False), bucket_cap_mb=400 / 2**20)
    names = [b.names for b in model.reducer.buckets]
    assert names == [["4.bias"], ["4.weight"], ["0.bias", "0.weight"]]
    one = nn.parallel.DistributedDataParallel(cases.model(0, False))
    assert len(one.reducer.buckets) == 1 and "buckets (MiB)" in repr(one)


def test_gradients_are_the_bare_models_and_views_of_the_buckets(world_of_one):
    bare, wrapped = cases.model(3, False), cases.model(3, False)
    model = nn.parallel.DistributedDataParallel(wrapped, bucket_cap_mb=0.0005)
    x, y = batch()
    for _ in range(2):  # twice without zero_grad: accumulation as in torch
        nn.functional.cross_entropy(bare(x), y).backward()
        nn.functional.cross_entropy(model(x), y).backward()
    for (name, p), q in zip(bare.named_parameters(), wrapped.parameters(), strict=True):
        np.testing.assert_allclose(q.grad.numpy(), p.grad.numpy(), rtol=1e-6, atol=1e-7, err_msg=name)
        bucket, i = model.reducer.where[id(q)]
        assert array_module(bucket.buffer).shares_memory(q.grad.data, bucket.buffer)  # a view, on any device
    assert model.reducer.stats["steps"] == 2


def test_no_sync_and_eval_leave_the_reducer_out(world_of_one):
    model = nn.parallel.DistributedDataParallel(cases.model(0, False))
    x, y = batch()
    with model.no_sync():
        nn.functional.cross_entropy(model(x), y).backward()
    assert model.reducer.stats["steps"] == 0 and not model.reducer.armed
    nn.functional.cross_entropy(model(x), y).backward()
    assert model.reducer.stats["steps"] == 1


def test_a_parameter_without_gradient_is_named_at_the_next_forward(world_of_one):
    model = nn.parallel.DistributedDataParallel(cases.model(0, False))
    x, y = batch()
    features = model(x)  # arms the reducer; only the conv's parameters get gradients below
    model.module[0].weight.grad = None
    hidden = model.module[1](model.module[0](x))
    hidden.sum().backward()
    with pytest.raises(dist.DistributedError, match=r"no gradient for 4\.bias, 4\.weight"):
        model(x)
    assert features is not None


def test_two_backwards_after_one_forward_are_refused(world_of_one):
    model = nn.parallel.DistributedDataParallel(cases.model(0, False))
    x, y = batch()
    loss = nn.functional.cross_entropy(model(x), y)
    loss.backward(retain_graph=True)
    model.reducer.armed = True  # as if the first backward had not finished its reduction
    model.reducer.fired = 1
    for b in model.reducer.buckets:
        b.seen = {id(p) for p in b.params}
    with pytest.raises(dist.DistributedError, match="received a gradient twice"):
        loss.backward()


def test_wrapping_needs_a_process_group_and_a_module():
    with pytest.raises(dist.DistributedError, match="init_process_group"):
        nn.parallel.DistributedDataParallel(cases.model(0, False))


def test_sync_batchnorm_is_batchnorm_in_a_world_of_one_and_converts_in_place(world_of_one):
    model = cases.model(1, True)
    reference = cases.model(1, True)
    converted = nn.SyncBatchNorm.convert_sync_batchnorm(model)
    assert isinstance(converted[1], nn.SyncBatchNorm) and converted[1].weight is model[1].weight
    x, _ = batch()
    np.testing.assert_array_equal(converted(x).numpy(), reference(x).numpy())
    np.testing.assert_array_equal(converted[1].running_var.numpy(), reference[1].running_var.numpy())
