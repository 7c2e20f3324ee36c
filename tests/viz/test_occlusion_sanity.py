"""Occlusion sensitivity on a hand-checkable model; the cascading-randomisation sanity check."""

from __future__ import annotations

import copy

import numpy as np
import pytest
from tapegrad.autograd import manual_seed
from tapegrad.viz import format_table, occlusion, sanity_check

from tapegrad import nn


def corner_detector() -> nn.Sequential:
    """Class 0's logit is the sum of the top-left 2x2 pixels of a 1x4x4 image; class 1's logit is 0."""
    model = nn.Sequential(nn.Flatten(), nn.Linear(16, 2)).to(dtype=np.float64)
    w = np.zeros((2, 16))
    w[0, [0, 1, 4, 5]] = 1.0
    model[1].weight.data[...] = w
    model[1].bias.data[...] = 0.0
    return model


@pytest.mark.parametrize("batch_size", [1, 4, 64])
def test_occlusion_by_hand(batch_size: int) -> None:
    """A 2x2 square of zeros at stride 1 hides (2-i)(2-j) of the four pixels class 0 counts, for i, j < 2."""
    image = np.ones((1, 4, 4))
    result = occlusion(corner_detector(), image, size=2, stride=1, fill=0.0, batch_size=batch_size)
    assert result.target == 0 and result.probabilities.shape == (3, 3)
    assert result.baseline == pytest.approx(1 / (1 + np.exp(-4.0)))
    hidden = np.array([[(2 - i) * (2 - j) if i < 2 and j < 2 else 0 for j in range(3)] for i in range(3)])
    np.testing.assert_allclose(result.probabilities, 1 / (1 + np.exp(-(4.0 - hidden))), rtol=1e-12)
    assert result.box(1, 2) == (1, 2, 3, 4)


def test_occlusion_options() -> None:
    image = np.ones((1, 4, 4))
    image[0, 0, 0] = 5.0
    r = occlusion(corner_detector(), image, target=1, size=(2, 4), stride=2, fill="mean")
    assert r.target == 1 and r.probabilities.shape == (2, 1)
    mean = image.mean()
    logit0 = np.array([4 * mean, 8.0])  # row 0 hides the corner (filled with the mean); row 1 hides nothing
    np.testing.assert_allclose(r.probabilities[:, 0], 1 / (1 + np.exp(logit0)), rtol=1e-12)
    with pytest.raises(ValueError, match="does not fit"):
        occlusion(corner_detector(), image, size=5)


def mlp() -> nn.Sequential:
    manual_seed(0)
    layers = (nn.Flatten(), nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 16), nn.ReLU(), nn.Linear(16, 4))
    return nn.Sequential(*layers).to(dtype=np.float64)


def test_sanity_check_randomises_top_down_on_a_copy() -> None:
    model = mlp()
    before = copy.deepcopy([p.numpy().copy() for p in model.parameters()])
    images = np.random.default_rng(0).random((3, 1, 8, 8))
    result = sanity_check(model, images, keep_maps=True)
    assert result["layers"] == ["original", "5", "3", "1"]  # from the top layer down
    for p, q in zip(model.parameters(), before, strict=True):
        np.testing.assert_array_equal(p.numpy(), q)  # the model itself is untouched
    for method in ("deconvnet", "guided", "saliency"):
        scores = result[method]
        assert scores["spearman"][0] == 1.0 and scores["ssim"][0] == 1.0
        for key in ("spearman", "ssim"):
            assert all(-1.0 <= s <= 1.0 for s in scores[key]) and len(scores[key]) == 4
        # once every layer is random the maps no longer look like the original ones
        assert scores["spearman"][-1] < 0.9 and scores["ssim"][-1] < 0.9
        maps = result[method + "_maps"]
        assert len(maps) == 4 and not np.allclose(maps[0][0], maps[-1][0])
    table = format_table(result)
    assert table.splitlines()[0].startswith("randomised down to") and len(table.splitlines()) == 5


def test_sanity_check_is_deterministic_for_a_seed() -> None:
    model = mlp()
    images = np.random.default_rng(1).random((2, 1, 8, 8))
    a = sanity_check(model, images, methods=("saliency",), seed=3)
    b = sanity_check(model, images, methods=("saliency",), seed=3)
    c = sanity_check(model, images, methods=("saliency",), seed=4)
    assert a == b and a != c
