"""The stride-1 convolution's wide-layout copies (output plus bias, widening): compiled == NumPy reference, exactly."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from tapegrad.autograd import kernels
from tapegrad.autograd.kernels import conv_wide

from .strategies import DTYPES, float_arrays


@given(st.data(), st.integers(1, 3), st.integers(1, 5), st.integers(1, 6), st.integers(1, 9), st.integers(0, 3),
       st.sampled_from(DTYPES), st.booleans(), st.booleans())
def test_wide_output(data, n, o, rows, width, extra, dtype, with_bias, strided_out) -> None:  # noqa: ANN001
    product = data.draw(float_arrays((n, o, rows, width + extra), dtype))
    bias = data.draw(float_arrays((o,), dtype)) if with_bias else None
    shape = (n, o, rows, width)
    # the output is a band of a larger array when strided_out (as the convolution writes bands of rows)
    def target() -> np.ndarray:
        return np.full((n, o, rows + 2, width), 7, dtype)[:, :, 1:-1] if strided_out else np.full(shape, 7, dtype)

    compiled, reference, chosen = target(), target(), target()
    conv_wide.wide_output_compiled(product, bias, compiled)
    conv_wide.wide_output_numpy(product, bias, reference)
    kernels.wide_output(product, bias, chosen)
    np.testing.assert_array_equal(compiled, reference)
    np.testing.assert_array_equal(chosen, reference)


@given(st.data(), st.integers(1, 3), st.integers(1, 5), st.integers(1, 6), st.integers(1, 9), st.integers(0, 3),
       st.sampled_from(DTYPES), st.booleans())
def test_widen(data, n, o, rows, width, extra, dtype, side_by_side) -> None:  # noqa: ANN001
    source = data.draw(float_arrays((n, o, rows, width), dtype))  # any layout, NaN/inf included
    shape = (o, n, rows, width + extra) if side_by_side else (n, o, rows, width + extra)
    compiled, reference, chosen = (np.full(shape, 7, dtype) for _ in range(3))
    conv_wide.widen_compiled(source, compiled, side_by_side)
    conv_wide.widen_numpy(source, reference, side_by_side)
    kernels.widen(source, chosen, side_by_side)
    np.testing.assert_array_equal(compiled, reference)
    np.testing.assert_array_equal(chosen, reference)
