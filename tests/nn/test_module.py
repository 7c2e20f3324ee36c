"""``Module``: registration, traversal, modes, devices/dtypes, state_dict (with PyTorch interop), hooks, repr,
and the containers ``Sequential`` / ``ModuleList``."""

from __future__ import annotations

import warnings
from collections import OrderedDict

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from tapegrad.autograd import Tensor
from tapegrad.autograd import grad as tapegrad_grad
from tapegrad.autograd.errors import ShapeError

from tapegrad import nn
from tests.support import assert_close, random_like


class Net(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.features = nn.Sequential(nn.Linear(4, 6), nn.ReLU(), nn.BatchNorm1d(6))
        self.head = nn.Linear(6, 3)
        self.scale = nn.Parameter(np.ones(3, dtype=np.float32))
        self.register_buffer("offset", Tensor(np.zeros(3, dtype=np.float32)))

    def forward(self, x):
        return self.head(self.features(x)) * self.scale + self.offset


class TorchNet(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.features = torch.nn.Sequential(torch.nn.Linear(4, 6), torch.nn.ReLU(), torch.nn.BatchNorm1d(6))
        self.head = torch.nn.Linear(6, 3)
        self.scale = torch.nn.Parameter(torch.ones(3))
        self.register_buffer("offset", torch.zeros(3))

    def forward(self, x):
        return self.head(self.features(x)) * self.scale + self.offset


def test_registration_and_traversal_match_torch():
    ours, theirs = Net(), TorchNet()
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    assert [n for n, _ in ours.named_buffers()] == [n for n, _ in theirs.named_buffers()]
    assert [n for n, _ in ours.named_modules()] == [n for n, _ in theirs.named_modules()]
    assert [n for n, _ in ours.named_children()] == [n for n, _ in theirs.named_children()]
    assert [n for n, _ in ours.named_parameters(recurse=False)] == ["scale"]
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert all(isinstance(p, nn.Parameter) and p.requires_grad for p in ours.parameters())
    assert len(list(ours.modules())) == 6 and len(list(ours.children())) == 2


def test_shared_parameters_are_listed_once():
    layer = nn.Linear(2, 2)
    seq = nn.Sequential(layer, nn.ReLU(), layer)
    assert len(list(seq.parameters())) == 2
    assert [n for n, _ in seq.named_parameters()] == ["0.weight", "0.bias"]


def test_attribute_reassignment_and_deletion():
    net = Net()
    net.head = nn.Identity()
    assert "head.weight" not in net.state_dict()
    with pytest.raises(TypeError, match="cannot assign"):
        net.scale = np.zeros(3)
    net.offset = np.ones(3, dtype=np.float32)  # a buffer may be replaced by an array
    assert isinstance(net.offset, Tensor)
    del net.scale
    assert "scale" not in dict(net.named_parameters())
    with pytest.raises(AttributeError, match="no attribute 'missing'"):
        _ = net.missing


def test_train_eval_propagate_and_zero_grad_sets_none():
    net = Net()
    assert net.training and net.features[2].training
    net.eval()
    assert not net.training and not net.features[2].training
    net.train()
    assert net.features[2].training
    out = net(Tensor(random_like((5, 4), np.float32, 0)))
    out.sum().backward()
    assert all(p.grad is not None for p in net.parameters())
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())


def test_to_dtype_converts_parameters_and_float_buffers_only():
    net = Net().double()
    assert all(p.dtype == np.float64 for p in net.parameters())
    assert net.features[2].running_mean.dtype == np.float64
    assert net.features[2].num_batches_tracked.dtype == np.int64
    out = net(Tensor(random_like((3, 4), np.float64, 0)))
    assert out.dtype == np.float64
    assert net.to("cpu") is net
    net.to(np.float32)
    assert net.head.weight.dtype == np.float32


def test_state_dict_round_trip_with_torch_both_ways():
    ours, theirs = Net(), TorchNet()
    x = random_like((5, 4), np.float32, 1)
    theirs.train()(torch.tensor(x))  # move torch's running statistics away from their initial values
    ours.load_state_dict(theirs.state_dict())  # torch tensors are accepted as they are
    ours.eval()
    theirs.eval()
    assert_close(ours(Tensor(x)), theirs(torch.tensor(x)))
    # and back: our arrays load into torch through torch.from_numpy
    ours.head.weight.data[...] = 0.5
    theirs.load_state_dict({k: torch.from_numpy(v) for k, v in ours.state_dict().items()})
    np.testing.assert_array_equal(theirs.head.weight.detach().numpy(), 0.5)
    assert_close(ours(Tensor(x)), theirs(torch.tensor(x)))


def test_state_dict_is_a_snapshot_and_loading_is_in_place():
    net = nn.Linear(3, 2)
    weight = net.weight
    state = net.state_dict()
    state["weight"][...] = 7.0
    assert not np.any(net.weight.numpy() == 7.0)
    net.load_state_dict(state)
    assert net.weight is weight
    np.testing.assert_array_equal(net.weight.numpy(), 7.0)


def test_load_state_dict_reports_missing_unexpected_and_mis_shaped_keys():
    net = Net()
    state = net.state_dict()
    del state["head.bias"]
    state["head.extra"] = np.zeros(2)
    state["scale"] = np.zeros(4)
    with pytest.raises(nn.StateDictError) as info:
        net.load_state_dict(state)
    message = str(info.value)
    assert "Missing key(s)" in message and '"head.bias"' in message
    assert "Unexpected key(s)" in message and '"head.extra"' in message
    assert "size mismatch for scale" in message and "(4,)" in message and "(3,)" in message
    del state["scale"]
    result = net.load_state_dict(state, strict=False)
    assert result.missing_keys == ["scale", "head.bias"]
    assert result.unexpected_keys == ["head.extra"]
    with pytest.raises(TypeError, match="mapping"):
        net.load_state_dict([1, 2])


def test_forward_hooks_and_pre_hooks_with_removable_handles():
    net = Net()
    seen = []
    handle = net.head.register_forward_hook(
        lambda m, inputs, out: seen.append((m, inputs[0].shape, out.shape))
    )
    pre = net.head.register_forward_pre_hook(lambda m, inputs: (inputs[0] * 0,))
    net(Tensor(random_like((2, 4), np.float32, 0)))
    assert seen == [(net.head, (2, 6), (2, 3))]
    out = net.head(Tensor(np.ones((1, 6), np.float32)))
    assert_close(out, net.head.bias.numpy()[None])  # the pre-hook zeroed the input
    handle.remove()
    pre.remove()
    net(Tensor(random_like((2, 4), np.float32, 0)))
    assert len(seen) == 2  # the second call was the direct net.head call above
    with net.head.register_forward_hook(lambda m, i, o: o * 0) as h:
        assert np.all(net.head(Tensor(np.ones((1, 6), np.float32))).numpy() == 0)
    assert h.id not in net.head._forward_hooks


def test_repr_matches_torch():
    ours = nn.Sequential(
        nn.Conv2d(1, 8, 3),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(8, 4, (3, 5), stride=2, padding=1, bias=False),
        nn.BatchNorm2d(4),
        nn.LeakyReLU(0.2),
        nn.AvgPool2d(2),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Dropout(0.25),
        nn.Linear(4, 2),
        nn.Sigmoid(),
        nn.Tanh(),
        nn.Identity(),
    )
    theirs = torch.nn.Sequential(
        torch.nn.Conv2d(1, 8, 3),
        torch.nn.ReLU(),
        torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(8, 4, (3, 5), stride=2, padding=1, bias=False),
        torch.nn.BatchNorm2d(4),
        torch.nn.LeakyReLU(0.2),
        torch.nn.AvgPool2d(2),
        torch.nn.AdaptiveAvgPool2d(1),
        torch.nn.Flatten(),
        torch.nn.Dropout(0.25),
        torch.nn.Linear(4, 2),
        torch.nn.Sigmoid(),
        torch.nn.Tanh(),
        torch.nn.Identity(),
    )
    assert repr(ours) == repr(theirs)
    assert repr(nn.ConvTranspose2d(2, 3, 3, stride=2, output_padding=1)) == repr(
        torch.nn.ConvTranspose2d(2, 3, 3, stride=2, output_padding=1)
    )
    assert repr(nn.MaxUnpool2d(2)) == repr(torch.nn.MaxUnpool2d(2))
    assert repr(nn.Conv2d(4, 4, 1, groups=2, dilation=2)) == repr(
        torch.nn.Conv2d(4, 4, 1, groups=2, dilation=2)
    )
    assert repr(Net()) == repr(TorchNet()).replace("TorchNet(", "Net(", 1)


def test_sequential_indexing_slicing_and_names():
    a, b, c = nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1)
    seq = nn.Sequential(a, b, c)
    assert len(seq) == 3 and seq[0] is a and seq[-1] is c and list(seq) == [a, b, c]
    head = seq[:2]
    assert isinstance(head, nn.Sequential) and list(head) == [a, b]
    assert [n for n, _ in head.named_children()] == ["0", "1"]
    with pytest.raises(IndexError, match="out of range"):
        seq[3]
    named = nn.Sequential(OrderedDict([("fc", a), ("act", b)]))
    assert named.fc is a and [n for n, _ in named.named_parameters()] == ["fc.weight", "fc.bias"]
    seq.append(nn.Sigmoid())
    assert len(seq) == 4
    x = Tensor(random_like((5, 2), np.float32, 0))
    np.testing.assert_allclose(seq(x).numpy(), seq[3](c(b(a(x)))).numpy())
    del seq[1]
    assert len(seq) == 3


def test_module_list_registers_its_modules():
    layers = nn.ModuleList([nn.Linear(2, 2) for _ in range(3)])
    assert len(layers) == 3 and len(list(layers.parameters())) == 6
    layers.append(nn.Linear(2, 1))
    layers.insert(0, nn.Identity())
    assert [n for n, _ in layers.named_children()] == ["0", "1", "2", "3", "4"]
    assert isinstance(layers[0], nn.Identity) and isinstance(layers[1:], nn.ModuleList)
    del layers[0]
    assert len(layers) == 4 and "0.weight" in layers.state_dict()


def test_parameter_is_a_leaf_tensor_that_keeps_its_dtype():
    p = nn.Parameter(np.zeros(3))
    assert p.requires_grad and p.is_leaf and p.dtype == np.float64
    assert isinstance(p, Tensor)
    assert repr(p).startswith("Parameter containing:")
    frozen = nn.Parameter(Tensor(np.ones(2, np.float32)), requires_grad=False)
    assert not frozen.requires_grad
    module = nn.Module()
    with pytest.raises(TypeError, match="Parameter or None"):
        module.register_parameter("w", Tensor(np.ones(2)))


# --------------------------------------------------------------------------- conv and pooling layer modules
TORCH_DTYPES = {np.float32: torch.float32, np.float64: torch.float64}


def _compare_layer(ours, theirs, x, dtype, *extra, **kwargs):
    """Copy our parameters into the torch twin, then compare outputs and input/parameter gradients."""
    ours.to(dtype=dtype)
    theirs.to(TORCH_DTYPES[dtype])
    theirs.load_state_dict({k: torch.from_numpy(v) for k, v in ours.state_dict().items()})
    ox, tx = Tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    out, ref = ours(ox, *extra, **kwargs), theirs(tx, *extra, **kwargs)
    assert_close(out, ref, dtype)
    g = random_like(tuple(ref.shape), dtype, 9)
    params, tparams = list(ours.parameters()), list(theirs.parameters())
    got = tapegrad_grad(out, [ox, *params], Tensor(g))
    want = torch.autograd.grad(ref, [tx, *tparams], torch.tensor(g))
    for a, b in zip(got, want, strict=True):
        assert_close(a, b, dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@settings(max_examples=15)
@given(
    groups=st.sampled_from([1, 2]),
    kernel=st.tuples(st.integers(1, 3), st.integers(1, 3)),
    stride=st.tuples(st.integers(1, 2), st.integers(1, 2)),
    padding=st.tuples(st.integers(0, 1), st.integers(0, 1)),
    dilation=st.tuples(st.integers(1, 2), st.integers(1, 2)),
    bias=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_conv2d_module_matches_torch(dtype, groups, kernel, stride, padding, dilation, bias, seed):
    args = dict(stride=stride, padding=padding, dilation=dilation, groups=groups, bias=bias)
    ours, theirs = nn.Conv2d(2, 4, kernel, **args), torch.nn.Conv2d(2, 4, kernel, **args)
    _compare_layer(ours, theirs, random_like((2, 2, 7, 6), dtype, seed), dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@settings(max_examples=15)
@given(
    groups=st.sampled_from([1, 2]),
    kernel=st.tuples(st.integers(1, 3), st.integers(1, 3)),
    stride=st.tuples(st.integers(1, 3), st.integers(1, 2)),
    padding=st.tuples(st.integers(0, 1), st.integers(0, 1)),
    bias=st.booleans(),
    extra=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_conv_transpose2d_module_matches_torch(dtype, groups, kernel, stride, padding, bias, extra, seed):
    output_padding = (int(extra and stride[0] > 1), 0)
    args = dict(stride=stride, padding=padding, output_padding=output_padding, groups=groups, bias=bias)
    ours, theirs = nn.ConvTranspose2d(4, 2, kernel, **args), torch.nn.ConvTranspose2d(4, 2, kernel, **args)
    _compare_layer(ours, theirs, random_like((2, 4, 4, 5), dtype, seed), dtype)


@pytest.mark.parametrize("padding", ["same", "valid"])
@pytest.mark.parametrize("dilation", [1, 2])
def test_conv2d_string_padding_matches_torch(padding, dilation):
    args = dict(padding=padding, dilation=dilation)
    ours, theirs = nn.Conv2d(2, 3, (3, 4), **args), torch.nn.Conv2d(2, 3, (3, 4), **args)
    assert repr(ours) == repr(theirs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # torch's note about even kernels with 'same'
        _compare_layer(ours, theirs, random_like((2, 2, 6, 7), np.float64, 5), np.float64)


def test_conv_transpose2d_output_size_matches_torch():
    ours, theirs = (
        nn.ConvTranspose2d(3, 2, 3, stride=2, padding=1),
        torch.nn.ConvTranspose2d(3, 2, 3, stride=2, padding=1),
    )
    x = random_like((1, 3, 4, 4), np.float64, 0)
    _compare_layer(ours, theirs, x, np.float64, output_size=(8, 8))
    with pytest.raises(ShapeError, match=r"ConvTranspose2d\(3, 2.*output size \(11, 8\)"):
        ours(Tensor(x), output_size=(11, 8))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(
    "make",
    [
        lambda m: m.MaxPool2d(2),
        lambda m: m.MaxPool2d(2, stride=1),
        lambda m: m.MaxPool2d((3, 2), stride=(2, 1), padding=1, ceil_mode=True),
        lambda m: m.MaxPool2d(2, dilation=2),
        lambda m: m.AvgPool2d(2),
        lambda m: m.AvgPool2d(3, stride=2, padding=1, count_include_pad=False),
        lambda m: m.AvgPool2d(2, stride=1, ceil_mode=True),
        lambda m: m.AdaptiveAvgPool2d((2, 3)),
        lambda m: m.AdaptiveAvgPool2d(1),
    ],
)
def test_pooling_modules_match_torch(dtype, make):
    ours, theirs = make(nn), make(torch.nn)
    assert repr(ours) == repr(theirs)
    _compare_layer(ours, theirs, random_like((2, 3, 7, 6), dtype, 1), dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("kernel,stride", [(2, None), (2, 1), (3, 2)])
def test_max_pool_switches_and_unpool_modules_match_torch(dtype, kernel, stride):
    """Non-overlapping windows: torch's MaxUnpool2d.  Overlapping ones (stride < kernel): tapegrad accumulates
    a value that is the max of several windows (the issue's spec, like max_pool2d's backward), where torch's
    unpool writes it once, so the reference there is torch's max_pool2d vjp applied to the pooled values."""
    x = random_like((2, 2, 6, 7), dtype, 3)
    pool = nn.MaxPool2d(kernel, stride, return_indices=True)
    tpool = torch.nn.MaxPool2d(kernel, stride, return_indices=True)
    unpool, tunpool = nn.MaxUnpool2d(kernel, stride), torch.nn.MaxUnpool2d(kernel, stride)
    ox, tx = Tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    pooled, indices = pool(ox)
    tpooled, tindices = tpool(tx)
    assert_close(pooled, tpooled, dtype)
    np.testing.assert_array_equal(indices.numpy(), tindices.numpy())
    out = unpool(pooled, indices, output_size=x.shape[-2:])
    overlapping = stride is not None and stride < kernel
    if overlapping:
        (ref,) = torch.autograd.grad(tpooled, [tx], tpooled.detach(), retain_graph=True)
    else:
        ref = tunpool(tpooled, tindices, output_size=x.shape[-2:])
    assert_close(out, ref, dtype)
    g = random_like(x.shape, dtype, 4)
    out.backward(Tensor(g))
    if not overlapping:
        ref.backward(torch.tensor(g))
        assert_close(ox.grad, tx.grad, dtype)


def test_a_model_trains_and_checkpoints_on_each_device(device, tmp_path):
    """Parameters, buffers and optimizer state follow ``.to(device)``; state_dict returns host arrays."""
    model = nn.Sequential(
        nn.Conv2d(1, 2, 3),
        nn.BatchNorm2d(2),
        nn.ReLU(),
        nn.Flatten(),
        nn.Dropout(0.1),
        nn.Linear(2 * 3 * 3, 3),
    ).to(device)
    assert all(p.device == device for p in model.parameters())
    assert model[1].running_mean.device == device
    opt = nn.optim.Adam(model.parameters(), lr=0.01)
    x = Tensor(random_like((4, 1, 5, 5), np.float32, 0), device=device)
    for _ in range(2):
        opt.zero_grad()
        loss = nn.CrossEntropyLoss(Tensor(np.ones(3, np.float32), device=device))(
            model(x), np.array([0, 1, 2, 1])
        )
        loss.backward()
        opt.step()
    assert np.isfinite(loss.item())
    state = model.state_dict()
    assert all(isinstance(v, np.ndarray) for v in state.values())
    nn.save({"model": state, "opt": opt.state_dict()}, tmp_path / "ckpt.npz")
    fresh = nn.Sequential(
        nn.Conv2d(1, 2, 3),
        nn.BatchNorm2d(2),
        nn.ReLU(),
        nn.Flatten(),
        nn.Dropout(0.1),
        nn.Linear(2 * 3 * 3, 3),
    ).to(device)
    fresh.load_state_dict(nn.load(tmp_path / "ckpt.npz")["model"])
    assert fresh[0].weight.device == device
    model.eval()
    fresh.eval()
    np.testing.assert_array_equal(fresh(x).numpy(), model(x).numpy())
