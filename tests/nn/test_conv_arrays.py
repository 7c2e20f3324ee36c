"""The convolution's array routines on the kernel pool: the same bits on any thread count."""

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
