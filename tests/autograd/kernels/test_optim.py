"""SGD and Adam/AdamW one-pass updates: compiled == NumPy reference over several steps and every option."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from tapegrad.autograd import kernels
from tapegrad.autograd.kernels import optim

from .strategies import DTYPES, assert_same, float_arrays

shapes = st.lists(st.integers(1, 6), min_size=1, max_size=3).map(tuple)


def _tol(dtype) -> float:  # noqa: ANN001
    return 2e-6 if dtype == np.float32 else 1e-14


@given(st.data(), shapes, st.sampled_from(DTYPES), st.sampled_from([0.0, 0.9]), st.sampled_from([0.0, 0.1]),
       st.sampled_from([0.0, 1e-2]), st.booleans(), st.booleans())
def test_sgd_step(data, shape, dtype, momentum, dampening, wd, nesterov, maximize) -> None:  # noqa: ANN001
    nesterov = nesterov and momentum > 0 and dampening == 0
    p = np.ascontiguousarray(data.draw(float_arrays(shape, dtype, special=False)))
    ref_p, ref_buf, buf = p.copy(), np.zeros_like(p), np.zeros_like(p)
    for step in range(3):
        grad = data.draw(float_arrays(shape, dtype, special=False))
        optim.sgd_numpy(ref_p, grad, ref_buf, 0.1, momentum, dampening, wd, nesterov, maximize, step == 0)
        kernels.sgd_step(p, grad, buf, 0.1, momentum, dampening, wd, nesterov, maximize, step == 0)
    assert_same(p, ref_p, rtol=_tol(dtype), atol=_tol(dtype))
    assert_same(buf, ref_buf, rtol=_tol(dtype), atol=_tol(dtype))


@given(st.data(), shapes, st.sampled_from(DTYPES), st.sampled_from([0.0, 1e-2]), st.booleans(), st.booleans(),
       st.booleans())
def test_adam_step(data, shape, dtype, wd, decoupled, amsgrad, maximize) -> None:  # noqa: ANN001
    p = np.ascontiguousarray(data.draw(float_arrays(shape, dtype, special=False)))
    state = [np.zeros_like(p) for _ in range(3)]
    ref_p, ref_state = p.copy(), [np.zeros_like(p) for _ in range(3)]
    for step in range(1, 4):
        grad = data.draw(float_arrays(shape, dtype, special=False))
        m, v, vmax = ref_state
        optim.adam_numpy(ref_p, grad, m, v, vmax if amsgrad else None, 1e-2, 0.9, 0.999, 1e-8, wd, decoupled,
                         amsgrad, maximize, float(step))
        m, v, vmax = state
        kernels.adam_step(p, grad, m, v, vmax if amsgrad else None, 1e-2, 0.9, 0.999, 1e-8, wd, decoupled,
                          amsgrad, maximize, float(step))
    for ours, ref in zip([p] + state, [ref_p] + ref_state, strict=True):
        assert_same(ours, ref, rtol=10 * _tol(dtype), atol=_tol(dtype))
