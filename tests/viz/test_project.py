"""DeconvNet / GuidedBackprop / Saliency: the tape walk equals PyTorch backprop with another relu rule."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tapegrad.autograd import Function, Tensor, grad, no_grad
from tapegrad.autograd.ops.unary import Relu
from tapegrad.viz import DeconvNet, GuidedBackprop, NoProjectionRule, Saliency, project, register_rule
from tapegrad.viz.rules import rule_for

from tapegrad import nn
from tests.support import assert_close
from tests.viz.nets import small_cnn, torch_projection

METHODS = {"deconvnet": DeconvNet, "guided": GuidedBackprop, "saliency": Saliency}


def mlp(dtype: type = np.float64) -> nn.Sequential:
    from tapegrad.autograd import manual_seed

    manual_seed(3)
    layers = (nn.Flatten(), nn.Linear(12, 7), nn.ReLU(), nn.Linear(7, 6), nn.ReLU())
    return nn.Sequential(*layers).to(dtype=dtype)


@pytest.mark.parametrize("method", list(METHODS))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_mlp_projection_matches_torch(method: str, dtype: type) -> None:
    model = mlp(dtype)
    images = np.random.default_rng(1).standard_normal((4, 1, 3, 4)).astype(dtype)
    with no_grad():
        acts = model(Tensor(images)).numpy()
    selections = [(int(a.argmax()), ()) for a in acts]  # explicit, and alive (a dead unit projects to 0)
    ours = METHODS[method](model).project(images, "4", selections=selections)
    theirs = torch_projection(model, images, 4, selections, method)
    assert (np.abs(ours.maps).reshape(4, -1).max(axis=1) > 0).all()  # no dead unit: a real comparison
    assert_close(ours.maps, theirs, dtype)
    assert ours.selections == selections


@settings(max_examples=8)
@given(
    h=st.integers(9, 16),
    w=st.integers(10, 15),
    channels=st.sampled_from([1, 3]),
    seed=st.integers(0, 1000),
    layer=st.sampled_from([0, 2, 4, 7, 9]),
)
def test_cnn_projection_matches_torch_with_replaced_relu(
    h: int, w: int, channels: int, seed: int, layer: int
) -> None:
    """Non-square images, overlapping max pooling (3 at stride 2), strided/padded convs, dropout, linear head:
    each method's projection equals PyTorch's autograd with only the relu's backward replaced."""
    model = small_cnn((channels, h, w), np.float64, seed)
    images = np.random.default_rng(seed).standard_normal((3, channels, h, w))
    for method, cls in METHODS.items():
        ours = cls(model).project(images, str(layer))
        assert (ours.values > 0).all()
        theirs = torch_projection(model, images, layer, ours.selections, method)
        assert_close(ours.maps, theirs, np.float64)


def test_cnn_float32_matches_torch() -> None:
    model = small_cnn((1, 12, 12), np.float32, 5)
    images = np.random.default_rng(5).standard_normal((2, 1, 12, 12)).astype(np.float32)
    for method, cls in METHODS.items():
        ours = cls(model).project(images, "4")
        assert ours.maps.dtype == np.float32 and (ours.values > 0).all()
        assert_close(ours.maps, torch_projection(model, images, 4, ours.selections, method), np.float32)


def test_selection_keeps_exactly_one_activation_and_picks_the_strongest() -> None:
    model = small_cnn((1, 12, 10))
    images = np.random.default_rng(0).standard_normal((2, 1, 12, 10))
    acts = []
    handle = model[3].register_forward_hook(lambda m, i, o: acts.append(o.numpy()))
    result = DeconvNet(model).project(images, model[3])  # by module; pre-relu conv output
    handle.remove()
    act = acts[0]
    for i, (c, pos) in enumerate(result.selections):
        assert act[i, c][pos] == act[i].max()  # the strongest channel at its strongest position
        assert result.values[i] == act[i].max()
    # a chosen channel without a position: that channel's maximum
    chosen = DeconvNet(model).project(images, "3", channel=4)
    for i, (c, pos) in enumerate(chosen.selections):
        assert c == 4 and act[i, 4][pos] == act[i, 4].max()
    # exactly one unit is seeded: compare with a hand-made seed walked by plain tapegrad grad (saliency)
    x = Tensor(images, requires_grad=True)
    model.eval()
    out = model[:4](x)
    seed = np.zeros(out.shape)
    for i, (c, pos) in enumerate(result.selections):
        seed[(i, c) + pos] = act[i, c][pos]
    (expected,) = grad(out, x, grad_outputs=Tensor(seed))
    sal = Saliency(model).project(images, "3", selections=result.selections)
    assert_close(sal.maps, expected.numpy(), np.float64)


def test_one_image_many_selections_and_captured_tensor() -> None:
    model = small_cnn((1, 11, 11))
    image = np.random.default_rng(2).standard_normal((1, 11, 11))
    picks = [(0, (1, 0)), (3, (0, 0)), (4, (2, 0))]  # layer 6 is (5, 4, 1) for 11x11 images
    batched = DeconvNet(model).project(image, "6", selections=picks)
    assert batched.maps.shape == (3, 1, 11, 11) and batched.selections == picks
    assert (np.abs(batched.maps).reshape(3, -1).max(axis=1) > 0).all()
    for k, pick in enumerate(picks):
        single = DeconvNet(model).project(image, "6", channel=pick[0], position=pick[1])
        assert_close(single.maps[0], batched.maps[k], np.float64)
    # the same through a tensor captured by the caller's own hook (the parameters still require grad here)
    captured = []
    model.eval()
    handle = model[6].register_forward_hook(lambda m, i, o: captured.append(o))
    x = Tensor(np.repeat(image[None], 3, axis=0), requires_grad=True)
    model(x)
    handle.remove()
    via_tensor = DeconvNet(model).project(x, captured[0], selections=picks)
    assert_close(via_tensor.maps, batched.maps, np.float64)
    assert all(p.grad is None for p in model.parameters())


def test_model_state_is_restored_and_parameter_gradients_are_never_computed() -> None:
    model = small_cnn((1, 10, 10))
    model.train()
    flags = [p.requires_grad for p in model.parameters()]
    seen: list[tuple[bool, ...]] = []
    from tapegrad.nn.functional.conv import Conv2d

    original = rule_for(Conv2d, "deconvnet")

    def spy(ctx, *grads):  # noqa: ANN001, ANN202 - a rule has the backward signature
        seen.append(ctx.needs_input_grad)
        return original(ctx, *grads)

    register_rule(Conv2d, spy, methods="deconvnet")
    try:
        DeconvNet(model).project(np.ones((1, 10, 10)), "7")
    finally:
        register_rule(Conv2d, original, methods="deconvnet")
    assert model.training and [p.requires_grad for p in model.parameters()] == flags
    assert seen and all(needs[1:3] == (False, False) for needs in seen)  # weight and bias: never
    assert len(seen) == 3 and all(needs[0] for needs in seen)  # the data path: down to the image
    assert all(p.grad is None for p in model.parameters())


class Square(Function):
    @staticmethod
    def forward(ctx, x):  # noqa: ANN001, ANN205
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, g):  # noqa: ANN001, ANN205
        (x,) = ctx.saved_tensors
        return g * x * 2


class SquareLayer(nn.Module):
    def forward(self, x: Tensor) -> Tensor:
        return Square.apply(x)


def test_an_op_without_a_rule_is_an_error_naming_it_until_registered() -> None:
    model = nn.Sequential(nn.Flatten(), nn.Linear(6, 4), SquareLayer(), nn.Linear(4, 3)).to(dtype=np.float64)
    images = np.random.default_rng(0).standard_normal((2, 1, 2, 3))
    for cls in (DeconvNet, GuidedBackprop):
        with pytest.raises(NoProjectionRule, match="Square: no .* projection rule"):
            cls(model).project(images, "3")
    Saliency(model).project(images, "3")  # the plain gradient needs no rule
    from tapegrad.viz.rules import _TABLE

    register_rule(Square, "gradient", methods=("deconvnet", "guided"))
    try:
        a = DeconvNet(model).project(images, "3").maps
        b = Saliency(model).project(images, "3").maps
    finally:
        _TABLE.pop(Square)  # leave the global table as it was
    assert_close(a, b, np.float64)  # no relu on the path: every method is the gradient


def test_relu_rules_differ_as_documented() -> None:
    """At a relu with input x and signal g: deconvnet relu(g), guided relu(g)*(x>0), saliency g*(x>0)."""
    x = Tensor(np.array([-1.0, -2.0, 3.0, 4.0]), requires_grad=True)
    g = np.array([1.0, -1.0, 2.0, -2.0])
    expected = {"deconvnet": [1, 0, 2, 0], "guided": [0, 0, 2, 0], "saliency": [0, 0, 2, -2]}
    from tapegrad.viz.tape import walk

    for method, want in expected.items():
        out = Relu.apply(x)
        np.testing.assert_array_equal(walk(out, x, Tensor(g), method).numpy(), want)


def test_project_function_and_bad_arguments() -> None:
    model = small_cnn((1, 10, 10))
    images = np.zeros((2, 1, 10, 10)) + np.arange(10) / 10
    r = project(model, images, "2", method="guided", channel=1)
    assert r.maps.shape == (2, 1, 10, 10)
    with pytest.raises(ValueError, match="unknown method"):
        project(model, images, "2", method="lrp")
    with pytest.raises(KeyError, match="no layer named 'nope'"):
        DeconvNet(model).project(images, "nope")
    with pytest.raises(ValueError, match="out of range"):
        DeconvNet(model).project(images, "2", channel=99)
    with pytest.raises(ValueError, match="out of range"):
        DeconvNet(model).project(images, "2", channel=0, position=(50, 0))
    with pytest.raises(ValueError, match="3 channels for 2 images|got 3 channels"):
        DeconvNet(model).project(images, "2", channel=[0, 1, 2])


def test_batch_norm_avg_pool_and_leaky_relu_match_torch() -> None:
    """Batch norm in eval is its affine scale, average pooling its adjoint, leaky relu a leaky rectifier."""
    from tapegrad.autograd import manual_seed

    manual_seed(7)
    model = nn.Sequential(
        nn.Conv2d(2, 3, 3, padding=1), nn.BatchNorm2d(3), nn.AvgPool2d(2), nn.ReLU(), nn.Conv2d(3, 4, 2)
    ).to(dtype=np.float64)
    model.train()
    model(Tensor(np.random.default_rng(0).standard_normal((8, 2, 8, 8))))  # non-trivial running statistics
    model[1].weight.data[...] = np.array([0.5, -1.5, 2.0])
    images = np.random.default_rng(1).standard_normal((2, 2, 8, 8))
    for method, cls in METHODS.items():
        ours = cls(model).project(images, "4")
        assert_close(ours.maps, torch_projection(model, images, 4, ours.selections, method), np.float64)

    leaky = nn.Sequential(nn.Flatten(), nn.Linear(4, 3), nn.LeakyReLU(0.2)).to(dtype=np.float64)
    x = Tensor(np.array([[[[1.0, -2.0], [0.5, 3.0]]]]))
    out = leaky[:2](x).numpy()[0]
    for c in range(3):
        maps = DeconvNet(leaky).project(x.numpy(), "2", channel=c).maps
        value = out[c] if out[c] > 0 else 0.2 * out[c]  # the kept activation
        signal = value if value > 0 else 0.2 * value  # through the leaky rectification
        expected = signal * leaky[1].weight.numpy()[c]
        np.testing.assert_allclose(maps.ravel(), expected, rtol=1e-12)


class Reuse(nn.Module):
    """One ReLU module called twice, a functional relu, and F.max_pool2d: every rectifier is a Relu node."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1, self.conv2 = nn.Conv2d(2, 3, 3), nn.Conv2d(3, 4, 2, stride=2)
        self.relu = nn.ReLU()

    def forward(self, x: Tensor) -> Tensor:
        from tapegrad.nn import functional as F

        h = self.relu(F.max_pool2d(self.conv1(x), 2, stride=1))
        return F.relu(self.relu(self.conv2(h)) - 0.1)


def test_reused_and_functional_relus_follow_the_method() -> None:
    import torch
    from tapegrad.autograd import manual_seed

    from tests.viz.nets import RELU

    manual_seed(4)
    model = Reuse().to(dtype=np.float64)
    images = np.random.default_rng(4).standard_normal((2, 2, 9, 8))
    w1, b1, w2, b2 = (torch.tensor(p.numpy()) for p in (model.conv1.weight, model.conv1.bias,
                                                        model.conv2.weight, model.conv2.bias))
    for method, cls in METHODS.items():
        ours = cls(model).project(images, "")  # "" is the model itself: its output
        relu = RELU[method]
        x = torch.tensor(images, requires_grad=True)
        h = relu(torch.nn.functional.max_pool2d(torch.nn.functional.conv2d(x, w1, b1), 2, stride=1))
        out = relu(relu(torch.nn.functional.conv2d(h, w2, b2, stride=2)) - 0.1)
        seed = torch.zeros_like(out)
        for i, (c, pos) in enumerate(ours.selections):
            seed[(i, c) + pos] = out[(i, c) + pos].detach()
        (theirs,) = torch.autograd.grad(out, x, seed)
        assert (ours.values > 0).all() and (np.abs(ours.maps).reshape(2, -1).max(axis=1) > 0).all()
        assert_close(ours.maps, theirs, np.float64)


block = st.tuples(
    st.integers(1, 3), st.integers(1, 2), st.integers(0, 1),  # conv kernel, stride, padding
    st.one_of(st.none(), st.tuples(st.integers(2, 3), st.integers(1, 2), st.integers(0, 1))),  # max pool
    st.integers(1, 3),  # output channels
)


@settings(max_examples=15)
@given(st.lists(block, min_size=1, max_size=3), st.integers(7, 14), st.integers(7, 14), st.integers(0, 99))
def test_random_conv_pool_stacks_match_torch(blocks: list, h: int, w: int, seed: int) -> None:
    """Random stacks of conv (strides, paddings) -> max pool (often overlapping: stride < kernel) -> relu."""
    from tapegrad.autograd import manual_seed

    manual_seed(seed)
    layers, channels = [], 2
    for k, s, p, pool, out in blocks:
        layers.append(nn.Conv2d(channels, out, k, stride=s, padding=min(p, k // 2)))
        if pool is not None:
            pk, ps, pp = pool
            layers.append(nn.MaxPool2d(pk, stride=min(ps, pk), padding=min(pp, pk // 2)))
        layers.append(nn.ReLU())
        channels = out
    model = nn.Sequential(*layers).to(dtype=np.float64)
    images = np.random.default_rng(seed).standard_normal((2, 2, h, w))
    try:
        with no_grad():
            model(Tensor(images))
    except ValueError:
        return  # the image is too small for this stack
    last = len(layers) - 1
    for method, cls in METHODS.items():
        ours = cls(model).project(images, str(last))
        if not (ours.values > 0).all():
            continue  # a dead last layer projects to zero: nothing to compare
        assert_close(ours.maps, torch_projection(model, images, last, ours.selections, method), np.float64)


def test_register_rule_checks_its_arguments_and_lists_the_table() -> None:
    from tapegrad.viz.rules import registered

    with pytest.raises(ValueError, match="unknown method"):
        register_rule(Square, "gradient", methods="lrp")
    with pytest.raises(ValueError, match="unknown rule"):
        register_rule(Square, "identity")
    table = registered()
    assert table["Relu"] == ("deconvnet", "guided") and "MatMul" in table and "Exp" not in table
