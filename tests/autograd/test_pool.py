"""The kernel pool: tasks on named workers, results in order, errors handed over, one caller's batch at a time,
workers that spin between tasks (or not: OMP_WAIT_POLICY=passive, the NumPy kernels) and can be parked."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest
from tapegrad.autograd import kernels
from tapegrad.autograd.kernels._spin import wait_until
from tapegrad.autograd.pool import _WORKER_ASLEEP, KernelPool


@pytest.fixture
def pool():
    made = KernelPool(2)
    yield made
    made.shutdown()
    assert not any(thread.is_alive() for thread in made.threads)


def _eventually(condition, seconds: float = 5.0) -> bool:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if condition():
            return True
        time.sleep(0.001)
    return False


def test_tasks_run_on_the_named_workers_and_their_results_come_back_in_order(pool: KernelPool) -> None:
    for round_ in range(50):  # back to back: the workers are spinning between the rounds
        batch = pool.start([lambda r=round_: (r, threading.current_thread().name),
                            lambda r=round_: (-r, threading.current_thread().name)])
        assert batch is not None
        (a, name_a), (b, name_b) = batch.wait()
        assert (a, b) == (round_, -round_)
        assert {name_a, name_b} == {"tapegrad-kernel-0", "tapegrad-kernel-1"}


def test_an_error_of_a_task_comes_out_of_wait_and_the_pool_goes_on(pool: KernelPool) -> None:
    def fail() -> None:
        raise KeyError("in a slice")

    batch = pool.start([lambda: 1, fail])
    with pytest.raises(KeyError, match="in a slice"):
        batch.wait()
    assert pool.start([fail]).wait(raise_errors=False) == [None]
    assert pool.start([lambda: 2]).wait() == [2]


def test_one_batch_at_a_time_and_no_more_tasks_than_workers(pool: KernelPool) -> None:
    release = threading.Event()
    batch = pool.start([release.wait])
    assert pool.start([lambda: 1]) is None  # the pool is busy: the caller runs its work itself
    other: list[object] = []
    caller = threading.Thread(target=lambda: other.append(pool.start([lambda: 1])))
    caller.start()
    caller.join()
    assert other == [None]  # from another thread too
    release.set()
    assert batch.wait() == [True]
    assert pool.start([lambda: 1] * 3) is None
    assert pool.start([lambda: 1] * 2).wait() == [1, 1]


def test_a_worker_that_waited_long_sleeps_and_wakes_for_the_next_task(pool: KernelPool, monkeypatch) -> None:
    import tapegrad.autograd.pool as pool_module

    monkeypatch.setattr(pool_module, "IDLE_SPINS", 1000)
    pool.start([lambda: 0, lambda: 0]).wait()
    assert _eventually(lambda: pool.flags[:, _WORKER_ASLEEP].all())
    assert pool.start([lambda: 3, lambda: 4]).wait() == [3, 4]


def test_park_sends_spinning_workers_to_sleep(pool: KernelPool, monkeypatch) -> None:
    import tapegrad.autograd.pool as pool_module

    monkeypatch.setattr(pool_module, "IDLE_SPINS", 10**13)  # hours: only park puts them to sleep
    assert pool.start([lambda: 0, lambda: 0]).wait() == [0, 0]  # both now spin for their next task
    pool.park()
    assert _eventually(lambda: pool.flags[:, _WORKER_ASLEEP].all())
    assert pool.start([lambda: 5]).wait() == [5]


@pytest.mark.parametrize("how", ["omp-passive", "numpy-kernels"])
def test_without_spinning_the_workers_sleep_between_tasks(how: str, monkeypatch) -> None:
    import tapegrad.autograd.pool as pool_module

    monkeypatch.setattr(pool_module, "IDLE_SPINS", 10**13)  # spinning would last hours
    if how == "omp-passive":
        monkeypatch.setenv("OMP_WAIT_POLICY", "PASSIVE")
    else:
        previous = kernels.set_kernels("numpy")
    try:
        pool = KernelPool(1)
        for value in range(20):
            assert pool.start([lambda v=value: v * v]).wait() == [value * value]
            assert _eventually(lambda: bool(pool.flags[0, _WORKER_ASLEEP]))
        pool.shutdown()
    finally:
        if how == "numpy-kernels":
            kernels.set_kernels(previous)


@pytest.mark.parametrize("kernel_set", ["compiled", "numpy"])
def test_wait_until_sees_the_counter_or_gives_up(kernel_set: str) -> None:
    previous = kernels.set_kernels(kernel_set)
    try:
        flags = np.zeros(16, dtype=np.int64)
        assert not wait_until(flags, 8, 1, 10_000)
        flags[8] = 1
        assert wait_until(flags, 8, 1, 10_000) and wait_until(flags, 8, 0, 1)
        assert not wait_until(flags, 8, 2, 0)
        if kernel_set == "compiled" and kernels.get_kernels() == "compiled":
            flags[8] = 0
            writer = threading.Timer(0.02, lambda: flags.__setitem__(8, 7))
            writer.start()  # another thread raises it while this one spins, without the GIL
            assert wait_until(flags, 8, 7, 10**10)
            writer.join()
    finally:
        kernels.set_kernels(previous)
