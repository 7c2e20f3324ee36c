"""The convolution's array routines: the same bits on any thread count; the direct 3x3 path against the columns."""

from __future__ import annotations

import numpy as np
import pytest
from tapegrad.autograd import runtime
from tapegrad.nn.functional import conv_arrays, conv_wide
from tapegrad.nn.functional.geometry import Geometry

# (batch, channels, size, out channels, kernel, stride, padding, groups): the wide columns, their bands, the
# stride phases, im2col's columns (a 1x1 kernel of stride 2) and groups
CASES = {
    "wide": (12, 3, 10, 5, 3, 1, 1, 1),
    "wide, banded": (7, 2, 16, 4, 3, 1, 1, 1),
    "stride phases": (9, 3, 17, 4, 5, 2, 0, 1),
    "im2col": (24, 4, 9, 6, 1, 2, 0, 1),
    "groups": (11, 4, 8, 6, 3, 1, 1, 2),
    "direct 3x3": (6, 3, 64, 4, 3, 1, 1, 1),  # no columns: kernels.conv3x3_weight_grad
}


@pytest.mark.parametrize("case", CASES)
def test_weight_gradient_has_the_same_bits_on_one_two_and_four_threads(monkeypatch, case: str) -> None:
    """The weight gradient sums the batch in blocks fixed by the shapes; it summed each thread's slice, whose last
    bits then changed with the thread count.  Small chunks and bands so that these small convolutions split."""
    n, c, size, o, k, stride, pad, groups = CASES[case]
    monkeypatch.setattr(conv_arrays, "MIN_COLUMNS_PER_THREAD", 1)
    monkeypatch.setattr(conv_arrays, "CHUNK_BYTES", 2048)
    monkeypatch.setattr(conv_wide, "CHUNK_BYTES", 2048)
    monkeypatch.setattr(conv_wide, "BAND_BYTES", 2048 if case == "wide, banded" else conv_wide.BAND_BYTES)
    rng = np.random.default_rng(7)
    x = rng.standard_normal((n, c, size, size), dtype=np.float32)
    geo = Geometry.make("conv2d", (size, size), (k, k), stride, (pad, pad), (1, 1))
    grad = rng.standard_normal((n, o, geo.grid_h, geo.grid_w), dtype=np.float32)
    slices = []
    original = conv_arrays.over_batch

    def counting(units, *args, **kwargs):  # noqa: ANN001, ANN202
        slices.append(min(runtime.get_num_threads(), units))
        return original(units, *args, **kwargs)

    monkeypatch.setattr(conv_arrays, "over_batch", counting)
    results = {}
    for threads in (1, 2, 4):
        with runtime.num_threads(threads):
            results[threads] = conv_arrays.conv2d_weight_grad(grad, x, geo, groups)
    assert max(slices) >= 2, "the case must split over the pool to test anything"
    np.testing.assert_array_equal(results[2], results[1])
    np.testing.assert_array_equal(results[4], results[1])
    # and it is the weight gradient: the float64 sum over the batch of each sample's product
    reference = conv_arrays.conv2d_weight_grad(grad.astype(np.float64), x.astype(np.float64), geo, groups)
    np.testing.assert_allclose(results[1], reference, rtol=1e-4, atol=1e-4)


def test_weight_blocks_are_a_power_of_two_of_whole_batch_slices() -> None:
    assert conv_arrays._weight_blocks(64, 6) == [0, 16, 32, 48, 64]  # 11 chunks: blocks of two or more
    assert conv_arrays._weight_blocks(32, 8) == [0, 16, 32]
    assert conv_arrays._weight_blocks(3, 8) == [0, 3]
    assert conv_arrays._weight_blocks(100, 1) == [n * 100 // 8 for n in range(9)]  # at most WEIGHT_BLOCKS


def test_weight_gradient_of_an_empty_batch_is_zero() -> None:
    geo = Geometry.make("conv2d", (6, 6), (3, 3), 1, (1, 1), (1, 1))
    out = conv_arrays.conv2d_weight_grad(np.ones((0, 4, 6, 6), np.float32), np.ones((0, 3, 6, 6), np.float32), geo, 1)
    np.testing.assert_array_equal(out, np.zeros((4, 3, 3, 3), np.float32))


def _direct_case(c: int = 3, size: int = 64, pad: int = 1, dtype=np.float32):  # noqa: ANN001, ANN202
    rng = np.random.default_rng(11)
    x = rng.standard_normal((5, c, size, size)).astype(dtype)
    weight = (rng.standard_normal((4, c, 3, 3)) / 3).astype(dtype)
    bias = rng.standard_normal(4).astype(dtype)
    geo = Geometry.make("conv2d", (size, size), (3, 3), 1, (pad, pad), (1, 1))
    grad = rng.standard_normal((5, 4, geo.grid_h, geo.grid_w)).astype(dtype)
    return x, weight, bias, geo, grad


@pytest.mark.parametrize("pad", [0, 1, 2])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_direct_3x3_path_equals_the_columns(monkeypatch, pad: int, dtype) -> None:  # noqa: ANN001
    """Few input channels on a wide image: forward and weight gradient computed directly, as the columns do (in
    the NumPy kernel set both take the columns; then this compares the columns with themselves)."""
    x, weight, bias, geo, grad = _direct_case(pad=pad, dtype=dtype)
    direct = (conv_arrays.conv2d_forward(x, weight, geo, 1, bias), conv_arrays.conv2d_weight_grad(grad, x, geo, 1))
    monkeypatch.setattr(conv_arrays, "DIRECT_MAX_CHANNELS", 0)
    columns = (conv_arrays.conv2d_forward(x, weight, geo, 1, bias), conv_arrays.conv2d_weight_grad(grad, x, geo, 1))
    tolerance = 2e-5 if dtype == np.float32 else 1e-12
    for got, expected in zip(direct, columns, strict=True):
        np.testing.assert_allclose(got, expected, rtol=tolerance, atol=tolerance * np.abs(expected).max())


def test_direct_3x3_path_is_chosen_for_few_channels_on_wide_images() -> None:
    from tapegrad.autograd import kernels

    x, weight, _, geo, _ = _direct_case()
    compiled = kernels.get_kernels() == "compiled"
    assert conv_arrays._direct(x, weight, geo, 1) is compiled
    wide4, weight4, _, _, _ = _direct_case(c=4)
    assert not conv_arrays._direct(wide4, weight4, geo, 1)  # four channels: the columns' product pays
    small, _, _, small_geo, _ = _direct_case(size=32)
    assert not conv_arrays._direct(small, weight, small_geo, 1)  # short rows
    strided = Geometry.make("conv2d", (64, 64), (3, 3), 2, (1, 1), (1, 1))
    assert not conv_arrays._direct(x, weight, strided, 1)
    previous = kernels.set_kernels("numpy")
    try:
        assert not conv_arrays._direct(x, weight, geo, 1)  # as NumPy loops the columns are faster
    finally:
        kernels.set_kernels(previous)


def test_direct_3x3_path_of_an_empty_batch() -> None:
    geo = Geometry.make("conv2d", (64, 64), (3, 3), 1, (1, 1), (1, 1))
    x, weight = np.ones((0, 3, 64, 64), np.float32), np.ones((4, 3, 3, 3), np.float32)
    assert conv_arrays.conv2d_forward(x, weight, geo, 1).shape == (0, 4, 64, 64)
    out = conv_arrays.conv2d_weight_grad(np.ones((0, 4, 64, 64), np.float32), x, geo, 1)
    np.testing.assert_array_equal(out, np.zeros((4, 3, 3, 3), np.float32))


def test_stride_one_input_gradient_in_bands_equals_the_whole(monkeypatch) -> None:  # noqa: ANN001
    """Columns over BAND_BYTES per sample are multiplied and folded a band of rows at a time."""
    rng = np.random.default_rng(5)
    geo = Geometry.make("conv2d", (20, 20), (3, 3), 1, (1, 1), (1, 1))
    grad = rng.standard_normal((3, 6, 20, 20)).astype(np.float32)
    weight = rng.standard_normal((6, 4, 3, 3)).astype(np.float32)
    whole = conv_arrays.conv2d_input_grad(grad, weight, geo, 1)
    monkeypatch.setattr(conv_arrays, "BAND_BYTES", 4 * 36 * 22 * 3)  # bands of 3 rows (all 3 samples in a chunk)
    banded = conv_arrays.conv2d_input_grad(grad, weight, geo, 1)
    assert not np.array_equal(banded, whole), "the bands must change the order of the sums to test anything"
    np.testing.assert_allclose(banded, whole, rtol=1e-5, atol=1e-5 * np.abs(whole).max())
    # the bands are a sample's, whatever the chunk: the same bits when threads split the batch into smaller chunks
    monkeypatch.setattr(conv_arrays, "MIN_COLUMNS_PER_THREAD", 1)
    for threads in (2, 3):
        with runtime.num_threads(threads):
            np.testing.assert_array_equal(conv_arrays.conv2d_input_grad(grad, weight, geo, 1), banded)
