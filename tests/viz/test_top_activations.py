"""Receptive fields against a perturbation check; the streaming top-k against a brute-force top-k."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tapegrad.autograd import Tensor, manual_seed, no_grad
from tapegrad.viz import DeconvNet, receptive_field, top_activations
from tapegrad.viz.receptive_field import crop
from tapegrad.viz.top_activations import RunningTopK

from tapegrad import nn
from tests.viz.nets import small_cnn


def positive_net(spec: list[tuple[str, int, int, int]]) -> nn.Sequential:
    """conv/pool layers with all-positive weights: a unit is > 0 exactly when a pixel it sees is > 0."""
    manual_seed(0)
    layers = []
    channels = 1
    for kind, k, s, p in spec:
        if kind == "conv":
            conv = nn.Conv2d(channels, 2, k, stride=s, padding=p, bias=False)
            conv.weight.data[...] = abs(conv.weight.data) + 0.1  # abs, not np.abs: the data may be on a GPU
            layers += [conv, nn.ReLU()]
            channels = 2
        elif kind == "max":
            layers.append(nn.MaxPool2d(k, stride=s, padding=p))
        else:
            layers.append(nn.AvgPool2d(k, stride=s, padding=p))
    return nn.Sequential(*layers).to(dtype=np.float64)


layer_spec = st.tuples(
    st.sampled_from(["conv", "max", "avg"]), st.integers(1, 3), st.integers(1, 2), st.integers(0, 1)
)


@settings(max_examples=25)
@given(st.lists(layer_spec, min_size=1, max_size=4), st.integers(6, 13), st.integers(6, 13))
def test_receptive_field_matches_a_perturbation_check(spec: list, h: int, w: int) -> None:
    # padding at most half a kernel (as torch requires); strides at most the kernel (a larger stride leaves
    # holes in the field, and the box is then only an outer bound: see receptive_field's docstring)
    spec = [(kind, k, min(s, k), min(p, k // 2)) for kind, k, s, p in spec]
    model = positive_net(spec)
    with no_grad():
        try:
            out = model(Tensor(np.zeros((1, 1, h, w))))
        except ValueError:
            return  # the image is too small for this stack
    last = str(len(model) - 1)
    field = receptive_field(model, last, (1, h, w))
    ho, wo = out.shape[2:]
    one_hot = np.eye(h * w).reshape(h * w, 1, h, w)  # one image per lit pixel, all in one batch
    with no_grad():
        response = model(Tensor(one_hot)).numpy()[:, 0]
    for pos in {(0, 0), (ho - 1, wo - 1), (ho // 2, wo // 3)}:
        seen = (response[(slice(None),) + pos] > 0).reshape(h, w)
        rows, cols = np.nonzero(seen)
        # the field is the bounding box of what the unit sees (a stride larger than a kernel leaves holes)
        bounding = (rows.min(), cols.min(), rows.max() + 1, cols.max() + 1)
        assert field.box(pos) == bounding, f"{spec} at {pos}"


def test_receptive_field_of_a_linear_layer_is_the_whole_image_and_crops_pad() -> None:
    model = small_cnn((1, 12, 10))
    assert receptive_field(model, "9", (1, 12, 10)).box(()) == (0, 0, 12, 10)
    pooled = nn.Sequential(nn.Conv2d(1, 2, 3), nn.AdaptiveAvgPool2d(1), nn.Flatten())
    assert receptive_field(pooled, "1", (1, 9, 8)).box((0, 0)) == (0, 0, 9, 8)  # global pooling sees it all
    field = receptive_field(
        model, "3", (1, 12, 10)
    )  # conv3x3 pad 1, pool 3/2, conv (3,2) stride (1,2) pad (1,0)
    assert field.size == (3 + 2 + 2 * 2, 3 + 2 + 1 * 2) and field.jump == (2, 4) and field.offset == (-3, -1)
    image = np.arange(120.0).reshape(1, 12, 10)
    patch = crop(image, field, (0, 0))
    assert patch.shape == (1, 9, 7)
    assert (patch[:, :3] == 0).all() and (patch[:, 3:, 1:] == image[:, :6, :6]).all()


class Images:
    """A tiny data set of (image, label) pairs, indexable like a torch Dataset."""

    def __init__(self, n: int, shape: tuple[int, int, int], seed: int = 0) -> None:
        self.x = np.random.default_rng(seed).standard_normal((n,) + shape)

    def __len__(self) -> int:
        return len(self.x)

    def __getitem__(self, i: int) -> tuple[np.ndarray, int]:
        return self.x[i], i % 3


def test_running_top_k_merges_like_a_sort() -> None:
    rng = np.random.default_rng(0)
    values = rng.standard_normal((3, 50))
    top = RunningTopK(3, 7)
    for start in range(0, 50, 8):
        part = values[:, start : start + 8]
        top.update(part, np.arange(start, start + part.shape[1])[None], np.zeros(part.shape, dtype=np.int64))
    for c in range(3):
        np.testing.assert_array_equal(top.images[c], np.argsort(-values[c])[:7])


def test_running_top_k_breaks_ties_by_image_index_whatever_the_batching() -> None:
    rng = np.random.default_rng(1)
    values = rng.integers(0, 3, (2, 40)).astype(np.float64)  # many ties
    images = np.arange(40)
    want = [np.lexsort((images, -values[c]))[:9] for c in range(2)]
    for batch in (1, 7, 40):
        for order in (images, images[::-1]):  # batches in any order, as shards merged from other ranks
            top = RunningTopK(2, 9)
            for start in range(0, 40, batch):
                part = order[start : start + batch]
                top.update(values[:, part], part[None], np.zeros((2, len(part)), dtype=np.int64))
            for c in range(2):
                np.testing.assert_array_equal(top.images[c], want[c])


@pytest.mark.parametrize("layer", ["3", "9"])
def test_top_activations_match_brute_force(layer: str) -> None:
    data = Images(23, (1, 12, 10))
    model = small_cnn((1, 12, 10))
    result = top_activations(model, data, layer, k=4, batch_size=5, progress=False)
    model.eval()
    acts = []
    handle = model[int(layer)].register_forward_hook(lambda m, i, o: acts.append(o.numpy()))
    with no_grad():  # in the same batches of 5: BLAS may round a product of another batch size differently
        for start in range(0, 23, 5):
            model(Tensor(data.x[start : start + 5]))
    handle.remove()
    acts = [np.concatenate(acts)]
    act = acts[0].reshape(23, acts[0].shape[1], -1)
    best = act.max(axis=2)  # each image once per channel, at its strongest position
    assert result.channels == list(range(act.shape[1]))
    for c in result.channels:
        hits = result.hits[c]
        order = np.argsort(-best[:, c], kind="stable")[:4]
        assert [h.index for h in hits] == list(order)
        np.testing.assert_allclose([h.value for h in hits], best[order, c])
        for h in hits:
            spatial = acts[0].shape[2:]
            assert act[h.index, c, np.ravel_multi_index(h.position, spatial) if spatial else 0] == h.value
            assert h.patch.shape == h.projection.shape == (1,) + result.field.size
            assert h.box == result.field.box(h.position)
        if c == 0:  # the projection is the deconvnet's, cropped to the receptive field
            h = hits[0]
            full = DeconvNet(model).project(data.x[h.index], layer, channel=c, position=h.position).maps[0]
            assert np.abs(full).max() > 0
            np.testing.assert_allclose(h.projection, crop(full, result.field, h.position))
            outside = full.copy()
            top, left, bottom, right = h.box
            outside[:, top:bottom, left:right] = 0
            assert not outside.any()  # nothing outside the receptive field, as it must be


def test_top_activations_channel_subset_and_progress_bar(capsys) -> None:  # noqa: ANN001
    data = Images(6, (1, 12, 10), seed=1)
    model = small_cnn((1, 12, 10))
    result = top_activations(
        model,
        [x for x, _ in (data[i] for i in range(6))],
        "7",
        channels=[2, 0],
        k=2,
        batch_size=4,
        progress=True,
    )
    assert result.channels == [2, 0] and all(len(result.hits[c]) == 2 for c in (0, 2))
    assert "top activations of 7" in capsys.readouterr().err


def test_one_pass_for_several_layers_equals_one_pass_per_layer() -> None:
    from tapegrad.viz import top_activations_of_layers

    data = Images(11, (1, 12, 10), seed=3)
    model = small_cnn((1, 12, 10))
    together = top_activations_of_layers(model, data, ["2", "4"], [[0, 2], None], k=3, batch_size=4,
                                         progress=False)
    for layer, channels, result in zip(["2", "4"], [[0, 2], None], together, strict=True):
        alone = top_activations(model, data, layer, channels=channels, k=3, batch_size=4, progress=False)
        assert result.layer == alone.layer and result.channels == alone.channels
        for c in alone.channels:
            assert [(h.index, h.position, h.value) for h in result.hits[c]] == [
                (h.index, h.position, h.value) for h in alone.hits[c]
            ]
            for ours, theirs in zip(result.hits[c], alone.hits[c], strict=True):
                np.testing.assert_array_equal(ours.projection, theirs.projection)
