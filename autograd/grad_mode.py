"""Whether operations are recorded on the tape: ``no_grad`` / ``enable_grad``, per thread and re-entrant."""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import Any, TypeVar

_state = threading.local()
F = TypeVar("F", bound=Callable[..., Any])


def is_grad_enabled() -> bool:
    """Whether ops are recorded on the tape in this thread right now (``torch.is_grad_enabled``); True by default."""
    return getattr(_state, "enabled", True)


def _set(enabled: bool) -> None:
    _state.enabled = bool(enabled)


class _GradMode:
    """Context manager and decorator that sets grad mode and restores the previous one on exit."""

    enabled: bool

    def __enter__(self) -> None:
        # the previous mode goes on a per-thread stack, not on self: one instance may be entered again while
        # active (nesting) or from several threads at once, and each exit must restore its own entry's mode
        stack = getattr(_state, "stack", None)
        if stack is None:
            stack = _state.stack = []
        stack.append(getattr(_state, "enabled", True))
        _set(self.enabled)

    def __exit__(self, *exc: object) -> None:
        _set(_state.stack.pop())

    def __call__(self, fn: F) -> F:
        mode = type(self)

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with mode():
                return fn(*args, **kwargs)

        return wrapper  # type: ignore[return-value]


class no_grad(_GradMode):
    """Operations inside are not recorded: no graph, no saved arrays (inference, parameter updates).

    Use it as ``with no_grad():`` or as a decorator, ``@no_grad()``, like ``torch.no_grad``.  Results made
    inside do not require grad.  It applies to the current thread only, and nests: leaving the block restores
    whatever mode was set before it.
    """

    enabled = False


class enable_grad(_GradMode):
    """Turn recording back on inside a ``no_grad`` block (``with enable_grad():`` or ``@enable_grad()``)."""

    enabled = True


class set_grad_enabled(_GradMode):
    """Turn recording on or off, like ``torch.set_grad_enabled``: as a call it takes effect at once and lasts until
    changed again (this thread); as ``with set_grad_enabled(False):`` or a decorator it restores the previous
    mode on exit, like :class:`no_grad`.
    """

    def __init__(self, mode: bool) -> None:
        self.enabled = bool(mode)
        self._previous = is_grad_enabled()
        _set(self.enabled)  # a plain call takes effect now, as in PyTorch

    def __enter__(self) -> None:
        stack = getattr(_state, "stack", None)
        if stack is None:
            stack = _state.stack = []
        stack.append(self._previous)  # the mode before the call, not the one the call just set

    def __call__(self, fn: F) -> F:
        _set(self._previous)  # used as a decorator: the call that built it must not change the mode
        mode = self.enabled

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with set_grad_enabled(mode):
                return fn(*args, **kwargs)

        return wrapper  # type: ignore[return-value]


class inference_mode(_GradMode):
    """``torch.inference_mode``: here the same as :class:`no_grad` (tapegrad has no version counters to skip);
    ``inference_mode(False)`` records as usual."""

    def __init__(self, mode: bool = True) -> None:
        self.enabled = not mode

    def __call__(self, fn: F) -> F:
        mode = enable_grad if self.enabled else no_grad

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with mode():
                return fn(*args, **kwargs)

        return wrapper  # type: ignore[return-value]
