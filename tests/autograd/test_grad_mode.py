"""no_grad / enable_grad / set_grad_enabled: context manager and decorator, re-entrant, per thread."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from tapegrad.autograd import Tensor, enable_grad, is_grad_enabled, no_grad, set_grad_enabled


def _leaf() -> Tensor:
    return Tensor(np.array([1.0, 2.0]), requires_grad=True)


def test_no_grad_context_records_nothing() -> None:
    x = _leaf()
    with no_grad():
        y = x * 2.0 + 1.0
        assert not is_grad_enabled()
    assert y.grad_fn is None and not y.requires_grad
    assert is_grad_enabled()
    assert (x * 2.0).requires_grad


def test_no_grad_as_a_decorator() -> None:
    @no_grad()
    def step(t: Tensor) -> Tensor:
        assert not is_grad_enabled()
        return t * 3.0

    out = step(_leaf())
    assert not out.requires_grad
    assert is_grad_enabled()
    assert step.__name__ == "step"


def test_nested_and_the_same_instance_entered_twice() -> None:
    ng = no_grad()
    with ng:
        with ng:
            assert not is_grad_enabled()
        assert not is_grad_enabled()
        with enable_grad():
            assert is_grad_enabled()
            assert (_leaf() * 2.0).requires_grad
        assert not is_grad_enabled()
    assert is_grad_enabled()


def test_recursive_decorated_function_restores_the_mode() -> None:
    @no_grad()
    def depth(n: int) -> int:
        assert not is_grad_enabled()
        return 0 if n == 0 else 1 + depth(n - 1)

    assert depth(5) == 5
    assert is_grad_enabled()


def test_mode_is_restored_when_the_block_raises() -> None:
    with pytest.raises(RuntimeError):
        with no_grad():
            raise RuntimeError("boom")
    assert is_grad_enabled()


def test_set_grad_enabled() -> None:
    try:
        set_grad_enabled(False)
        assert not (_leaf() * 2.0).requires_grad
    finally:
        set_grad_enabled(True)
    assert (_leaf() * 2.0).requires_grad


def test_no_grad_in_one_thread_does_not_affect_another() -> None:
    inside, release = threading.Event(), threading.Event()
    seen: dict[str, bool] = {}
    shared = no_grad()  # one instance used by two threads at once

    def worker() -> None:
        with shared:
            seen["worker_inside"] = is_grad_enabled()
            inside.set()
            release.wait(timeout=10)
            seen["worker_still"] = is_grad_enabled()
        seen["worker_after"] = is_grad_enabled()

    thread = threading.Thread(target=worker)
    thread.start()
    assert inside.wait(timeout=10)
    try:
        assert is_grad_enabled()  # this thread is untouched by the worker's no_grad
        assert (_leaf() * 2.0).requires_grad
        with shared:
            assert not is_grad_enabled()
        assert is_grad_enabled()
    finally:
        release.set()
        thread.join(timeout=10)
    assert seen == {"worker_inside": False, "worker_still": False, "worker_after": True}


def test_a_new_thread_starts_with_grad_enabled() -> None:
    result: list[bool] = []
    with no_grad():
        thread = threading.Thread(target=lambda: result.append(is_grad_enabled()))
        thread.start()
        thread.join(timeout=10)
    assert result == [True]
