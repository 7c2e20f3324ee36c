"""Spearman and SSIM against brute-force definitions (and scikit-image when present); normalisation; grids."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image
from tapegrad.viz import feature_map_grid, filter_grid, grid, normalize, spearman, ssim, to_pil
from tapegrad.viz.render import save, top_activations_grid
from tapegrad.viz.similarity import rank


def brute_rank(a: np.ndarray) -> np.ndarray:
    a = a.ravel()
    return np.array([(a < v).sum() + ((a == v).sum() + 1) / 2 for v in a])


def brute_ssim(x: np.ndarray, y: np.ndarray, win: int, data_range: float) -> float:
    """Every win x win window, population statistics, the mean of the local SSIMs (Wang et al. 2004)."""
    c1, c2 = (0.01 * data_range) ** 2, (0.03 * data_range) ** 2
    values = []
    for i in range(x.shape[0] - win + 1):
        for j in range(x.shape[1] - win + 1):
            a, b = x[i : i + win, j : j + win], y[i : i + win, j : j + win]
            ma, mb = a.mean(), b.mean()
            va, vb, cov = a.var(), b.var(), ((a - ma) * (b - mb)).mean()
            values.append(((2 * ma * mb + c1) * (2 * cov + c2)) / ((ma**2 + mb**2 + c1) * (va + vb + c2)))
    return float(np.mean(values))


@settings(max_examples=20)
@given(st.integers(2, 40), st.integers(0, 5), st.integers(0, 10_000))
def test_spearman_is_pearson_of_average_ranks(n: int, levels: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    a = rng.integers(0, levels, n).astype(float) if levels else rng.standard_normal(n)  # ties when levels > 0
    b = rng.standard_normal(n) + a
    np.testing.assert_allclose(rank(a), brute_rank(a))
    ra, rb = brute_rank(a), brute_rank(b)
    if ra.std() == 0:
        assert spearman(a, b) == 0.0
    else:
        np.testing.assert_allclose(spearman(a, b), np.corrcoef(ra, rb)[0, 1], rtol=1e-10, atol=1e-12)
    assert -1.0 <= spearman(a, b) <= 1.0
    assert spearman(b, b) == pytest.approx(1.0) and spearman(b, -b) == pytest.approx(-1.0)


@settings(max_examples=10)
@given(st.integers(7, 14), st.integers(7, 12), st.integers(0, 10_000))
def test_ssim_uniform_window_matches_brute_force(h: int, w: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    x = rng.random((h, w))
    y = np.clip(x + 0.3 * rng.standard_normal((h, w)), 0, 1)
    ours = ssim(x, y, data_range=1.0, window=7, sigma=None)
    np.testing.assert_allclose(ours, brute_ssim(x, y, 7, 1.0), rtol=1e-10)
    assert ssim(x, x, data_range=1.0) == pytest.approx(1.0)
    assert ssim(x, y) == pytest.approx(ssim(y, x))
    assert -1.0 <= ssim(x, 1 - x, data_range=1.0) < 0.0  # an inverted image is anti-similar


def test_ssim_matches_scikit_image_when_installed() -> None:
    metrics = pytest.importorskip("skimage.metrics")
    rng = np.random.default_rng(0)
    x = rng.random((20, 17))
    y = np.clip(x + 0.2 * rng.standard_normal(x.shape), 0, 1)
    uniform = metrics.structural_similarity(x, y, win_size=7, data_range=1.0, use_sample_covariance=False)
    np.testing.assert_allclose(ssim(x, y, data_range=1.0, window=7, sigma=None), uniform, rtol=1e-10)
    gauss = metrics.structural_similarity(
        x, y, data_range=1.0, gaussian_weights=True, sigma=1.5, use_sample_covariance=False
    )
    np.testing.assert_allclose(ssim(x, y, data_range=1.0, window=11, sigma=1.5), gauss, rtol=1e-10)


def test_normalisation_modes() -> None:
    a = np.array([[-2.0, 0.0], [1.0, 6.0]])
    np.testing.assert_allclose(normalize(a, "minmax"), [[0, 0.25], [0.375, 1]])
    np.testing.assert_allclose(normalize(a, "symmetric"), [[1 / 3, 0.5], [7 / 12, 1]])
    spiky = np.concatenate([np.linspace(0, 1, 999), [1000.0]])
    p = normalize(spiky, "percentile", percentile=99)
    assert p.max() == 1.0 and p[-1] == 1.0 and p[500] > 0.4  # the outlier is clipped, the rest keeps contrast
    assert normalize(spiky, "minmax")[500] < 0.001  # ...which minmax squashes flat
    np.testing.assert_allclose(normalize(np.full((3, 3), 7.0)), 0.5)
    with pytest.raises(ValueError, match="unknown mode"):
        normalize(a, "log")


def test_pictures_have_the_right_sizes_and_save(tmp_path) -> None:  # noqa: ANN001
    rng = np.random.default_rng(0)
    assert to_pil(rng.random((1, 5, 7))).size == (7, 5) and to_pil(rng.random((3, 5, 7))).mode == "RGB"
    assert to_pil(rng.random((5, 7)), scale=3).size == (21, 15)
    g = grid([rng.random((4, 4)) for _ in range(5)], columns=3, pad=1)
    assert g.size == (3 * 5 + 1, 2 * 5 + 1)
    assert feature_map_grid(rng.random((6, 4, 4)), scale=1, columns=3).size == (3 * 6 + 2, 2 * 6 + 2)
    filters = filter_grid(rng.standard_normal((8, 3, 3, 3)), scale=2, columns=4, min_tile=1, pad=2)
    assert filters.mode == "RGB" and filters.size == (4 * 8 + 2, 2 * 8 + 2)
    with pytest.raises(ValueError, match="first-layer"):
        filter_grid(rng.random((8, 4, 3, 3)))
    path = save(g, tmp_path / "sub" / "g.png")
    assert Image.open(path).size == g.size


def test_zf_grid_puts_each_projection_beside_its_patch() -> None:
    from tapegrad.viz import Hit, TopActivations

    patch, proj = np.zeros((1, 3, 3)), np.ones((1, 3, 3))
    proj[0, 0, 0] = 0
    hits = {c: [Hit(i, (0, 0), 1.0, (0, 0, 3, 3), patch + i, proj) for i in range(2)] for c in (0, 4)}
    picture = top_activations_grid(TopActivations("x", [0, 4], hits, None), scale=1, pad=1, min_tile=1,
                                   labels=False)
    # a pair is 3 + 1 + 3 wide; a row holds 2 pairs padded by 2: 20 x 7; two rows stacked, padded by 2
    assert picture.size == (24, 20)
    pixels = np.asarray(picture.convert("L"))
    first_row, first_pair = (2, 2), (2, 2)
    top, left = first_row[0] + first_pair[0], first_row[1] + first_pair[1]
    assert pixels[top, left] == 0 and pixels[top, left + 1] == 255  # the projection, min-max normalised
    assert (pixels[top : top + 3, left + 4 : left + 7] == 128).all()  # its (constant) patch beside it

    zf = top_activations_grid(TopActivations("x", [0, 4], hits, None), scale=1, pad=1, layout="zf", min_tile=1)
    # per channel: 2 hits in a 2-column square (2 * (3 + 1) + 1 = 9 wide, 5 high) beside the same for the
    # patches (9 + 2 + 9 = 20); 2 channels in a 2-column grid padded by 2: 2 * (20 + 2) + 2 = 46, 5 + 4 = 9
    assert zf.size == (46, 9)
    with pytest.raises(ValueError, match="layout"):
        top_activations_grid(TopActivations("x", [0], hits, None), layout="columns")


def test_filters_are_enlarged_and_separated_by_a_visible_colour() -> None:
    from tapegrad.viz.render import SEPARATOR

    w = np.random.default_rng(1).standard_normal((4, 1, 3, 3))
    picture = filter_grid(w, columns=2)  # defaults: 3x3 filters drawn at least 64 px, 3 px blue gaps
    tile = -(-64 // 3) * 3
    assert picture.size == (2 * (tile + 3) + 3, 2 * (tile + 3) + 3)
    pixels = np.asarray(picture)
    assert (pixels[:3, :] == SEPARATOR).all() and (pixels[:, tile + 3 : tile + 6] == SEPARATOR).all()
    assert not (pixels[3 : 3 + tile, 3 : 3 + tile] == SEPARATOR).all(axis=-1).any()  # none inside a filter


def test_labelled_top9_grid_reads_on_its_own() -> None:
    from tapegrad.viz import Hit, TopActivations

    patch = np.random.default_rng(2).random((1, 5, 5))
    hits = {c: [Hit(i, (0, 0), 10.0 - i, (0, 0, 5, 5), patch, -patch) for i in range(3)] for c in (0, 7)}
    result = TopActivations("relu1", [0, 7], hits, None)
    picture = top_activations_grid(result)  # labels on, tiles at least 64 px
    unlabelled = top_activations_grid(result, labels=False)
    assert picture.height > 2 * unlabelled.height - 20  # pairs stacked (projection above patch), with labels
    grey = np.asarray(picture.convert("L"))
    scale = -(-64 // 5)
    inked = int((grey < 250).sum())  # 2 channels x 3 hits x (projection + patch), each >= 64 x 64 px
    assert inked >= 0.8 * 12 * (5 * scale) ** 2
    label_column = grey[:, : 20]  # "ch 0" / "ch 7" left of the rows
    assert (label_column < 128).sum() > 20
    heading_band = grey[: 16, :]  # the title line names the layer
    assert (heading_band < 128).sum() > 50
    with pytest.raises(ValueError, match="no hits"):
        top_activations_grid(TopActivations("x", [1], {1: []}, None))
