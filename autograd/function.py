"""``Function``: how an op (built in or user defined) is put on the tape.

A subclass gives ``forward(ctx, *inputs)`` on backend arrays (NumPy or CuPy) and ``backward(ctx, *grads)`` on
Tensors.  Forward runs on raw arrays because that is where the speed is; backward is written with tapegrad ops
so that, when ``create_graph=True``, the backward pass is itself recorded and can be differentiated again.

The ``ctx`` object is the graph node: it holds the op's inputs (the edges of the graph), what forward saved, and
it is released after backward unless the graph is retained.
"""

from __future__ import annotations

import sys
from typing import Any

import numpy as np

from .backend import device_of
from .errors import DeviceError, GraphError, TapegradError, describe
from .grad_mode import is_grad_enabled


class _SavedOutput:
    """Marks a saved array that is one of the op's own outputs (re-wrapped at backward, not kept twice)."""

    __slots__ = ("index",)

    def __init__(self, index: int) -> None:
        self.index = index


class Context:
    """The node a ``Function`` call leaves on the tape; passed to ``forward`` and ``backward`` as ``ctx``.

    Attributes a backward may read: ``needs_input_grad`` (one bool per forward argument), ``saved_tensors``,
    and anything forward stored on it (``ctx.stride = ...``).
    """

    def __init__(self, function: type[Function], needs_input_grad: tuple[bool, ...]) -> None:
        self.function = function
        self.needs_input_grad = needs_input_grad
        self.requires_grad = any(needs_input_grad)
        self.parents: tuple[Any, ...] = ()
        self.output_hooks: dict[int, list[Any]] | None = None
        self.released = False
        self._to_save: tuple[Any, ...] = ()
        self._saved: list[Any] | None = None
        self._outputs: tuple[Any, ...] = ()
        self.output_meta: tuple[tuple[tuple[int, ...], Any], ...] = ()

    @property
    def name(self) -> str:
        return self.function.__name__

    def save_for_backward(self, *values: Any) -> None:
        """Keep arrays (or tensors) for backward; an input or output array comes back as that very tensor."""
        self._to_save = values

    def mark_non_differentiable(self, *outputs: Any) -> None:  # pragma: no cover - API parity, nothing to do
        """Accepted for PyTorch parity; integer outputs are never differentiable here anyway."""

    @property
    def saved_tensors(self) -> tuple[Any, ...]:
        if self.released:
            raise GraphError(
                f"{self.name}: trying to run backward through the graph a second time; its saved arrays were "
                "freed after the first backward. Call backward(retain_graph=True) the first time if you need to."
            )
        from .tensor import Tensor

        saved = self._saved if self._saved is not None else [_as_constant(v) for v in self._to_save]
        result = []
        for value in saved:
            if isinstance(value, _SavedOutput):
                value = Tensor._make(self._outputs[value.index], self, value.index)
            result.append(value)
        return tuple(result)

    def release(self) -> None:
        """Free saved arrays and graph edges (after backward, unless the graph is retained)."""
        self.released = True
        self.parents = ()
        self._saved = None
        self._to_save = ()
        self._outputs = ()
        extra = [k for k in self.__dict__ if k not in _CONTEXT_FIELDS]
        for key in extra:
            del self.__dict__[key]

    def __repr__(self) -> str:
        return f"<{self.name}Backward>"


_CONTEXT_FIELDS = frozenset(Context(object, ()).__dict__) | {"function"}  # type: ignore[arg-type]


def _as_constant(value: Any) -> Any:
    from .tensor import Tensor

    if value is None or isinstance(value, Tensor) or not hasattr(value, "shape"):
        return value
    return Tensor._make(_ensure_array(value), None, 0)


class Function:
    """Base class of every op.  Subclass it and call ``MyOp.apply(*inputs, **options)``.

    * ``forward(ctx, *arrays, **options)`` gets the backend arrays of tensor arguments (other arguments as they
      are) and returns an array or a tuple of arrays.
    * ``backward(ctx, *grad_outputs)`` gets one Tensor per output and returns one gradient per forward argument
      (a Tensor, an array, or None).  Gradients may have the broadcast shape: the engine sums them back to each
      input's shape, once, for every op.
    """

    differentiable = True

    @staticmethod
    def forward(ctx: Context, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError

    @staticmethod
    def backward(ctx: Context, *grad_outputs: Any) -> Any:
        raise NotImplementedError

    @classmethod
    def apply(cls, *args: Any, **kwargs: Any) -> Any:
        from .tensor import Tensor

        arrays = []
        needs = []
        record = False
        grad_enabled = is_grad_enabled() and cls.differentiable
        for arg in args:
            if isinstance(arg, Tensor):
                arrays.append(arg.data)
                needs.append(grad_enabled and arg.requires_grad)
                record = record or needs[-1]
            else:
                arrays.append(arg)
                needs.append(False)
        if "cupy" in sys.modules:
            _check_same_device(cls.__name__, args)
        ctx = Context(cls, tuple(needs))
        try:
            raw = cls.forward(ctx, *arrays, **kwargs)
        except TapegradError:
            raise
        except (ValueError, IndexError, TypeError) as exc:
            shapes = ", ".join(describe(a) for a in args)
            raise type(exc)(f"{cls.__name__}: {exc} (inputs: {shapes})") from exc
        multiple = isinstance(raw, tuple)
        outs = tuple(_ensure_array(o) for o in raw) if multiple else (_ensure_array(raw),)
        if not record:
            results = tuple(Tensor._make(o, None, 0) for o in outs)
            return results if multiple else results[0]
        ctx.parents = tuple(a if isinstance(a, Tensor) else None for a in args)
        ctx.output_meta = tuple((o.shape, o.dtype) for o in outs)
        if ctx._to_save:
            ctx._saved = [_resolve_saved(v, args, arrays, outs) for v in ctx._to_save]
            if any(isinstance(v, _SavedOutput) for v in ctx._saved):
                ctx._outputs = outs
            ctx._to_save = ()
        results = tuple(Tensor._make(o, ctx, i) for i, o in enumerate(outs))
        return results if multiple else results[0]


def _ensure_array(value: Any) -> Any:
    """NumPy turns 0-d results into scalars (np.float32); a tensor always holds an ndarray."""
    return np.asarray(value) if isinstance(value, np.generic) else value


def _resolve_saved(value: Any, args: tuple[Any, ...], arrays: list[Any], outs: tuple[Any, ...]) -> Any:
    from .tensor import Tensor

    if value is None or isinstance(value, Tensor) or not hasattr(value, "shape"):
        return value  # Python scalars and other constants stay as they are
    for arg, array in zip(args, arrays):
        if array is value and isinstance(arg, Tensor):
            return arg
    for index, out in enumerate(outs):
        if out is value:
            return _SavedOutput(index)
    return Tensor._make(_ensure_array(value), None, 0)


def _check_same_device(name: str, args: tuple[Any, ...]) -> None:
    from .tensor import Tensor

    devices = {device_of(a.data) for a in args if isinstance(a, Tensor)}
    if len(devices) > 1:
        shapes = ", ".join(f"{describe(a)} on {device_of(a.data)}" for a in args if isinstance(a, Tensor))
        raise DeviceError(f"{name}: all tensors must be on one device, got {shapes}; move them with .to(device)")
