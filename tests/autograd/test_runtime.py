"""The runtime room: one thread budget that also sets the BLAS threads, restored by the context form."""

from __future__ import annotations

import numpy as np
import pytest
from tapegrad.autograd import runtime
from threadpoolctl import threadpool_info

from tapegrad import nn


def _blas() -> list[int]:
    return [info["num_threads"] for info in threadpool_info() if info["user_api"] == "blas"]


def test_set_num_threads_sets_the_pool_and_the_blas_and_num_threads_restores_them() -> None:
    before, blas_before = runtime.get_num_threads(), _blas()
    with runtime.num_threads(1):
        assert nn.get_num_threads() == runtime.get_num_threads() == 1
        assert set(_blas()) <= {1}
        assert runtime.blas_threads() in (1, None)
    with runtime.num_threads(3, blas=1):
        assert runtime.get_num_threads() == 3 and set(_blas()) <= {1}
    assert runtime.get_num_threads() == before and _blas() == blas_before
    assert nn.set_num_threads is runtime.set_num_threads


@pytest.mark.parametrize("bad", [0, -2, 1.5, "2", True])
def test_set_num_threads_refuses_what_is_not_a_positive_int(bad) -> None:
    with pytest.raises(ValueError, match="set_num_threads"):
        runtime.set_num_threads(bad)


def test_over_batch_covers_the_batch_once_on_the_pool(monkeypatch) -> None:
    monkeypatch.setattr(runtime, "_threads", 3)
    seen = np.zeros(10, dtype=np.int64)

    def kernel(start: int, stop: int) -> None:
        seen[start:stop] += 1

    runtime.over_batch(10, 10, kernel, min_elements=1)
    np.testing.assert_array_equal(seen, np.ones(10, dtype=np.int64))


def test_scratch_is_reused_per_role_and_thread() -> None:
    like = np.zeros(1, np.float32)
    a = runtime.scratch("test-role", (4, 5), np.float32, like)
    b = runtime.scratch("test-role", (2, 3), np.float64, like)
    assert a.shape == (4, 5) and b.shape == (2, 3) and b.dtype == np.float64
    assert np.shares_memory(a, b)
    runtime.clear_scratch()
    c = runtime.scratch("test-role", (4, 5), np.float32, like)
    assert not np.shares_memory(a, c)


def test_over_batch_with_blas_runs_one_blas_thread_per_slice_and_restores_the_setting() -> None:
    """Slices that call BLAS run with one BLAS thread each (no oversubscription), and the budget comes back."""
    seen = []

    def slice_kernel(lo: int, hi: int) -> None:
        seen.append([info["num_threads"] for info in threadpool_info() if info["user_api"] == "blas"])

    with runtime.num_threads(2):
        runtime.over_batch(4, 1 << 30, slice_kernel, blas=True, min_elements=1)
        after = [info["num_threads"] for info in threadpool_info() if info["user_api"] == "blas"]
    assert len(seen) == 2 and all(counts == [1] * len(counts) for counts in seen)
    assert all(count == 2 for count in after)


def test_a_blas_loaded_after_the_first_product_is_single_threaded_in_the_slices_too(monkeypatch) -> None:
    """The quick BLAS setter's list of libraries is taken again after ``set_num_threads``: a list taken before
    another BLAS was loaded (here: an empty one) left that library at two threads inside the slices."""
    monkeypatch.setattr(runtime, "_blas_libraries", [])
    seen = []

    def slice_kernel(lo: int, hi: int) -> None:
        seen.append([info["num_threads"] for info in threadpool_info() if info["user_api"] == "blas"])

    with runtime.num_threads(2):
        runtime.over_batch(4, 1 << 30, slice_kernel, blas=True, min_elements=1)
    assert seen and all(counts and counts == [1] * len(counts) for counts in seen)


def test_concurrently_runs_the_second_call_on_the_pool_each_kept_to_its_thread() -> None:
    """Two calls at once: the first on this thread, the second on the pool; inside both, slices run inline and
    BLAS runs one thread; the results come back in order and the BLAS setting after."""
    import threading

    def call(tag: str) -> tuple[str, str, list[tuple[int, int]], list[int]]:
        slices: list[tuple[int, int]] = []
        runtime.over_batch(8, 1 << 30, lambda lo, hi: slices.append((lo, hi)), min_elements=1)
        return tag, threading.current_thread().name, slices, _blas()

    with runtime.num_threads(2):
        first, second = runtime.concurrently(lambda: call("first"), lambda: call("second"))
        after = _blas()
    assert first[0] == "first" and first[1] == threading.current_thread().name
    assert second[0] == "second" and second[1].startswith("tapegrad")
    assert first[2] == second[2] == [(0, 8)]  # no slices handed to the (busy) pool
    assert all(set(counts) <= {1} for counts in (first[3], second[3]))
    assert all(count == 2 for count in after)


def test_concurrently_carries_the_grad_mode_and_the_errors_over() -> None:
    from tapegrad.autograd import is_grad_enabled, no_grad

    with runtime.num_threads(2):
        with no_grad():
            assert runtime.concurrently(is_grad_enabled, is_grad_enabled) == (False, False)
        assert runtime.concurrently(is_grad_enabled, is_grad_enabled) == (True, True)
        finished = []

        def slow_then_record() -> None:
            import time

            time.sleep(0.05)
            finished.append(True)

        def fail() -> None:
            raise KeyError("from the first call")

        with pytest.raises(KeyError, match="from the first call"):
            runtime.concurrently(fail, slow_then_record)
        assert finished == [True]  # the second call was waited for before the error came out
        with pytest.raises(ValueError, match="from the pool"):
            runtime.concurrently(lambda: 1, lambda: (_ for _ in ()).throw(ValueError("from the pool")))


def test_concurrently_runs_in_order_on_one_thread_or_for_device_arrays() -> None:
    import threading

    order: list[tuple[str, str]] = []

    def record(tag: str) -> str:
        order.append((tag, threading.current_thread().name))
        return tag

    with runtime.num_threads(1):
        assert runtime.concurrently(lambda: record("a"), lambda: record("b")) == ("a", "b")
    here = threading.current_thread().name
    assert order == [("a", here), ("b", here)]


def test_keep_freed_memory_defers_to_the_users_malloc_settings(monkeypatch) -> None:
    monkeypatch.setenv("MALLOC_TRIM_THRESHOLD_", "1000")
    assert runtime.keep_freed_memory() is False
    monkeypatch.delenv("MALLOC_TRIM_THRESHOLD_")
    assert isinstance(runtime.keep_freed_memory(), bool)


@pytest.mark.parametrize("shape_a, shape_b", [((300, 200), (200, 50)), ((3, 400), (400, 3000)), ((0, 5), (5, 7)),
                                              ((64, 0), (0, 9)), ((2, 3, 4), (4, 5))])
def test_matmul_on_the_pool_equals_numpy_and_restores_the_blas(shape_a, shape_b) -> None:
    """Rows split, columns split (fewer rows than threads), empty products and a stacked one (left to NumPy)."""
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal(shape_a), rng.standard_normal(shape_b)
    with runtime.num_threads(2):
        result = runtime.matmul(a, b)
        after = [info["num_threads"] for info in threadpool_info() if info["user_api"] == "blas"]
    np.testing.assert_allclose(result, a @ b, rtol=1e-12, atol=1e-12)
    assert result.shape == (a @ b).shape and all(count == 2 for count in after)
    ints = rng.integers(0, 5, (40, 30)), rng.integers(0, 5, (30, 3000))
    np.testing.assert_array_equal(runtime.matmul(*ints), ints[0] @ ints[1])


@pytest.mark.parametrize("environment, expected", [
    ({"TAPEGRAD_NUM_THREADS": "3", "OMP_NUM_THREADS": "1"}, 3),  # tapegrad's own setting wins
    ({"OMP_NUM_THREADS": "1"}, 1),  # what mpiexec / a batch system sets per process, as PyTorch reads it
    ({"OMP_NUM_THREADS": "2,1"}, 2),  # nested levels: the first
    ({"OMP_NUM_THREADS": "many"}, None),  # not a count: ignored
    ({}, None),
])
def test_the_thread_budget_at_import_reads_tapegrad_then_openmp_then_the_cores(monkeypatch, environment,
                                                                                  expected) -> None:
    import os

    for name in ("TAPEGRAD_NUM_THREADS", "OMP_NUM_THREADS"):
        monkeypatch.delenv(name, raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    cores = min(os.cpu_count() or 1, 8)
    assert runtime._threads_from_environment() == (cores if expected is None else expected)
