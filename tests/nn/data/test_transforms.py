"""Transforms: values and layouts against direct NumPy/Pillow computations, randomness under a seed."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image
from tapegrad.autograd import Tensor, manual_seed
from tapegrad.nn.data import DataError
from tapegrad.nn.data import transforms as T


@pytest.fixture
def rgb() -> np.ndarray:
    return np.random.default_rng(0).integers(0, 256, (12, 10, 3), dtype=np.uint8)


def test_to_tensor_scales_and_moves_channels(rgb: np.ndarray) -> None:
    t = T.ToTensor()(rgb)
    assert isinstance(t, Tensor) and t.shape == (3, 12, 10) and t.dtype == np.float32
    np.testing.assert_allclose(t.numpy(), rgb.transpose(2, 0, 1) / 255.0, rtol=1e-6)
    grey = T.ToTensor()(rgb[:, :, 0])
    assert grey.shape == (1, 12, 10)
    np.testing.assert_allclose(T.ToTensor()(Image.fromarray(rgb)).numpy(), t.numpy())


def test_normalize_per_channel(rgb: np.ndarray) -> None:
    x = T.ToTensor()(rgb)
    mean, std = [0.1, 0.5, 0.9], [0.2, 0.3, 0.4]
    got = T.Normalize(mean, std)(x).numpy()
    want = (x.numpy() - np.array(mean)[:, None, None]) / np.array(std)[:, None, None]
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    with pytest.raises(DataError, match="ToTensor"):
        T.Normalize(0.5, 0.5)(rgb)
    with pytest.raises(DataError, match="std"):
        T.Normalize(0.5, 0.0)
    with pytest.raises(DataError, match="channels"):
        T.Normalize([0.1, 0.2], [1, 1])(x)


def test_resize_layouts_agree(rgb: np.ndarray) -> None:
    small = T.Resize((6, 5))(rgb)
    assert small.shape == (6, 5, 3) and small.dtype == np.uint8
    pil = np.asarray(Image.fromarray(rgb).resize((5, 6), Image.Resampling.BILINEAR))
    np.testing.assert_array_equal(small, pil)
    as_tensor = T.Resize((6, 5))(T.ToTensor()(rgb))  # float path: per channel in Pillow's float mode
    assert as_tensor.shape == (3, 6, 5)
    np.testing.assert_allclose(as_tensor.numpy() * 255, small.transpose(2, 0, 1), atol=1.0)
    assert T.Resize(7)(Image.fromarray(rgb)).size == (7, 7)


def test_center_crop_both_layouts(rgb: np.ndarray) -> None:
    np.testing.assert_array_equal(T.CenterCrop((6, 4))(rgb), rgb[3:9, 3:7])
    t = T.ToTensor()(rgb)
    np.testing.assert_array_equal(T.CenterCrop(4)(t).numpy(), t.numpy()[:, 4:8, 3:7])
    with pytest.raises(DataError, match="only 12x10"):
        T.CenterCrop(11)(rgb)


def test_random_crop_is_a_window_of_the_padded_image(rgb: np.ndarray) -> None:
    padded = np.pad(rgb, ((2, 2), (2, 2), (0, 0)))
    seen = set()
    for seed in range(20):
        out = T.RandomCrop((12, 10), padding=2, rng=np.random.default_rng(seed))(rgb)
        matches = [(i, j) for i in range(5) for j in range(5)
                   if np.array_equal(padded[i:i + 12, j:j + 10], out)]
        assert matches
        seen.add(matches[0])
    assert len(seen) > 3  # the offset really varies
    manual_seed(5)
    a = T.RandomCrop(8, padding=1)(rgb)
    manual_seed(5)
    np.testing.assert_array_equal(T.RandomCrop(8, padding=1)(rgb), a)


def test_horizontal_flip(rgb: np.ndarray) -> None:
    np.testing.assert_array_equal(T.RandomHorizontalFlip(1.0)(rgb), rgb[:, ::-1])
    assert T.RandomHorizontalFlip(0.0)(rgb) is rgb
    t = T.ToTensor()(rgb)
    np.testing.assert_array_equal(T.RandomHorizontalFlip(1.0)(t).numpy(), t.numpy()[:, :, ::-1])
    flips = [T.RandomHorizontalFlip(0.5, rng=np.random.default_rng(s))(rgb)[0, 0, 0] != rgb[0, 0, 0]
             for s in range(40)]
    assert 5 < sum(flips) < 35


def test_grayscale_and_rgb(rgb: np.ndarray) -> None:
    grey = T.Grayscale()(rgb)
    pil = np.asarray(Image.fromarray(rgb).convert("L"))
    assert np.abs(grey[:, :, 0].astype(int) - pil.astype(int)).max() <= 1
    three = T.Grayscale(3)(rgb)
    assert three.shape == (12, 10, 3) and np.array_equal(three[..., 0], three[..., 2])
    t = T.ToRGB()(T.ToTensor()(pil))
    assert t.shape == (3, 12, 10)
    np.testing.assert_array_equal(t.numpy()[0], t.numpy()[1])


def test_compose_applies_in_order(rgb: np.ndarray) -> None:
    pipeline = T.Compose([T.CenterCrop(8), T.ToTensor(), T.Normalize(0.5, 0.5)])
    out = pipeline(rgb)
    np.testing.assert_allclose(out.numpy(), (rgb[2:10, 1:9].transpose(2, 0, 1) / 255 - 0.5) / 0.5, atol=1e-6)
    assert "CenterCrop" in repr(pipeline)
