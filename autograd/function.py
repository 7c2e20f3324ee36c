"""``Function``: how an op (built in or user defined) is put on the tape.

A subclass gives ``forward(ctx, *inputs)`` on backend arrays (NumPy or CuPy) and ``backward(ctx, *grads)`` on
Tensors.  Forward runs on raw arrays because that is where the speed is; backward is written with tapegrad ops
so that, when ``create_graph=True``, the backward pass is itself recorded and can be differentiated again.

The ``ctx`` object is the graph node: it holds the op's inputs (the edges of the graph), what forward saved,
and it is released after backward unless the graph is retained.

``Function.apply`` runs once per op, so it is written for speed (it is most of the tape's own overhead): one
pass over the arguments, ``__slots__`` on the node, shared ``needs_input_grad`` tuples, and as few objects
kept per node as possible (each one kept makes CPython's cyclic garbage collector walk a larger heap).
"""

from __future__ import annotations

import sys
from typing import Any

import numpy as np

from . import backend as _backend
from .backend import device_of
from .errors import DeviceError, DTypeError, GraphError, ShapeError, TapegradError, describe
from .grad_mode import _state as _grad_state

_modules = sys.modules
_generic = np.generic
_SCALARS = (int, float, bool, complex)
_Tensor: Any = None  # tapegrad.autograd.tensor.Tensor, bound on first use (the modules import each other)


def _tensor_class() -> Any:
    global _Tensor
    from .tensor import Tensor

    _Tensor = Tensor
    return Tensor


class _SavedOutput:
    """Marks a saved array that is one of the op's own outputs (re-wrapped at backward, not kept twice)."""

    __slots__ = ("index",)

    def __init__(self, index: int) -> None:
        self.index = index


# markers are immutable: one per output index, and the tuple of an op that saves only its first output
# (exp, sqrt, relu, tanh, sigmoid) is shared too, so such a node keeps no saved-tuple object of its own
_OUTPUT_MARKERS = tuple(_SavedOutput(i) for i in range(8))
_ONLY_FIRST_OUTPUT = (_OUTPUT_MARKERS[0],)


class Context:
    """The node a ``Function`` call leaves on the tape; passed to ``forward`` and ``backward`` as ``ctx``.

    Attributes a backward may read: ``needs_input_grad`` (one bool per forward argument), ``saved_tensors``,
    and anything forward stored on it (``ctx.stride = ...``).  The tape's own fields are slots; what an op
    stores goes to the instance ``__dict__``, which ``release`` empties.
    """

    __slots__ = (
        "function", "needs_input_grad", "requires_grad", "parents", "output_hooks", "released", "_to_save",
        "_saved", "_outputs", "n_outputs", "_meta", "_dtype", "__dict__", "__weakref__",
    )

    def __init__(
        self, function: type[Function], needs_input_grad: tuple[bool, ...], requires_grad: bool | None = None
    ) -> None:
        self.function = function
        self.needs_input_grad = needs_input_grad
        self.requires_grad = any(needs_input_grad) if requires_grad is None else requires_grad
        self.parents: tuple[Any, ...] = ()
        self.output_hooks: dict[int, list[Any]] | None = None
        self.released = False
        self._to_save: tuple[Any, ...] = ()
        self._saved: tuple[Any, ...] | None = None
        self._outputs: tuple[Any, ...] = ()  # kept only when an output was saved
        self.n_outputs = 1
        # output shapes and dtypes: one output keeps (shape, dtype) in _meta/_dtype, several a tuple of pairs
        self._meta: Any = ()
        self._dtype: Any = None

    @property
    def output_meta(self) -> tuple[tuple[tuple[int, ...], Any], ...]:
        """``((shape, dtype), ...)`` of the op's outputs (the engine's zero gradient for an unused output)."""
        if self._dtype is None:
            return self._meta
        return ((self._meta, self._dtype),)

    @output_meta.setter
    def output_meta(self, meta: tuple[tuple[tuple[int, ...], Any], ...]) -> None:
        self._meta = tuple(meta)
        self._dtype = None
        self.n_outputs = len(self._meta)

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
                f"{self.name}: trying to run backward through the graph a second time; its saved arrays "
                "were freed after the first backward. Call backward(retain_graph=True) the first time if you "
                "need to."
            )
        saved = self._saved
        if saved is None:
            saved = tuple(_as_constant(v) for v in self._to_save)
        outputs = self._outputs
        if not outputs:
            return saved
        make = _Tensor._make
        if saved is _ONLY_FIRST_OUTPUT:  # exp, relu, tanh...: the op's own output, re-wrapped
            return (make(outputs[0], self, 0),)
        return tuple([make(outputs[v.index], self, v.index) if type(v) is _SavedOutput else v for v in saved])

    def release(self) -> None:
        """Free saved arrays and graph edges (after backward, unless the graph is retained)."""
        self.released = True
        self.parents = ()
        self._saved = None
        self._to_save = ()
        self._outputs = ()
        self.__dict__.clear()  # whatever forward stored (ctx.stride = ...)

    def __repr__(self) -> str:
        return f"<{self.name}Backward>"


def _as_constant(value: Any) -> Any:
    Tensor = _Tensor or _tensor_class()
    if value is None or isinstance(value, Tensor) or not hasattr(value, "shape"):
        return value
    return Tensor._make(_ensure_array(value), None, 0)


class Function:
    """Base class of every op.  Subclass it and call ``MyOp.apply(*inputs, **options)``.

    * ``forward(ctx, *arrays, **options)`` gets the backend arrays of tensor arguments (other arguments as
      they are) and returns an array or a tuple of arrays.
    * ``backward(ctx, *grad_outputs)`` gets one Tensor per output and returns one gradient per forward
      argument (a Tensor, an array, or None).  Gradients may have the broadcast shape: the engine sums them
      back to each input's shape, once, for every op.
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
        Tensor = _Tensor or _tensor_class()
        grad_enabled = cls.differentiable and getattr(_grad_state, "enabled", True)
        arrays = []
        mask = 0  # bit i set: argument i needs a gradient
        bit = 1
        all_tensors = True
        for arg in args:
            if isinstance(arg, Tensor):
                arrays.append(arg.data)
                if grad_enabled and arg.requires_grad:
                    mask |= bit
            else:
                arrays.append(arg)
                all_tensors = False
            bit <<= 1
        if _backend._cupy is not None or "cupy" in _modules:  # a GPU module (real or emulated) is loaded
            _check_same_device(cls.__name__, args)
        needs = _NEEDS_CACHE.get((mask << 8) | len(args))
        ctx = Context(cls, needs or _needs_tuple(mask, len(args)), mask != 0)
        try:
            raw = cls.forward(ctx, *arrays, **kwargs)
        except TapegradError:
            raise
        except (ValueError, IndexError, TypeError) as exc:
            raise _named_error(cls.__name__, exc, args) from exc
        make = Tensor._make
        multiple = isinstance(raw, tuple)
        if multiple:
            outs = tuple(np.asarray(o) if isinstance(o, _generic) else o for o in raw)
            if not mask:
                return tuple(make(o, None, 0) for o in outs)
            ctx._meta = tuple((o.shape, o.dtype) for o in outs)
            ctx.n_outputs = len(outs)
        else:
            if isinstance(raw, _generic):  # NumPy turns 0-d results into scalars; a tensor holds an ndarray
                raw = np.asarray(raw)
            if not mask:
                return make(raw, None, 0)
            outs = (raw,)
            ctx._meta = raw.shape
            ctx._dtype = raw.dtype
        # the args tuple itself is the edge list when every argument is a tensor (one object less per node)
        parents = args if all_tensors else tuple([a if isinstance(a, Tensor) else None for a in args])
        ctx.parents = parents
        to_save = ctx._to_save
        if to_save:
            count = len(to_save)
            if count == len(arrays) and (
                to_save[0] is arrays[0] and (count == 1 or (count == 2 and to_save[1] is arrays[1]))
                if all_tensors
                else _saved_its_arguments(to_save, arrays, args, Tensor)
            ):
                ctx._saved = args  # saved exactly its arguments (a * b, x * 0.5, matmul): no tuple of its own
            elif count == 1 and to_save[0] is raw and len(arrays) == 1 and raw is not arrays[0]:
                ctx._saved = _ONLY_FIRST_OUTPUT  # a unary op that saved its output (exp, tanh, relu...)
                ctx._outputs = outs
            else:
                ctx._saved = _resolve_saved(ctx, to_save, parents, arrays, outs, Tensor)
            ctx._to_save = ()
        if multiple:
            return tuple(make(o, ctx, i) for i, o in enumerate(outs))
        return make(raw, ctx, 0)


_NEEDS_CACHE: dict[int, tuple[bool, ...]] = {}


def _saved_its_arguments(saved: tuple[Any, ...], arrays: list[Any], args: tuple[Any, ...], Tensor: Any) -> bool:
    """Whether ``saved[i]`` is tensor argument i's array, or the Python number passed there, for every i.

    Then the resolved saved tuple *is* ``args``: the input tensors themselves and the numbers as they are.
    """
    for i in range(len(saved)):
        value = saved[i]
        if value is not arrays[i] or (type(value) not in _SCALARS and not isinstance(args[i], Tensor)):
            return False
    return True


def _needs_tuple(mask: int, count: int) -> tuple[bool, ...]:
    """``needs_input_grad`` from a bit mask; the few distinct tuples are shared, not built per op."""
    key = (mask << 8) | count if count < 256 else -1
    needs = _NEEDS_CACHE.get(key)
    if needs is None:
        needs = tuple(bool(mask >> i & 1) for i in range(count))
        if key >= 0 and len(_NEEDS_CACHE) < 4096:
            _NEEDS_CACHE[key] = needs
    return needs


def _ensure_array(value: Any) -> Any:
    """NumPy turns 0-d results into scalars (np.float32); a tensor always holds an ndarray."""
    return np.asarray(value) if isinstance(value, _generic) else value


def _resolve_saved(
    ctx: Context, values: tuple[Any, ...], parents: tuple[Any, ...], arrays: list[Any], outs: tuple[Any, ...],
    Tensor: Any,
) -> tuple[Any, ...]:
    """Saved arrays become references: the input Tensor itself, a marker for an output, or a constant.

    When what was saved is exactly the op's inputs (``a * b`` saves ``a, b``) the edge tuple is shared.
    """
    resolved = []
    shared = len(values) == len(parents)
    count = len(arrays)
    for i, value in enumerate(values):
        if i < count and arrays[i] is value and parents[i] is not None:  # the common case: input i itself
            resolved.append(parents[i])
            continue
        shared = False
        if value is None or type(value) in _SCALARS or isinstance(value, Tensor):
            resolved.append(value)  # Python scalars, tensors and other constants stay as they are
            continue
        found = None
        for parent, array in zip(parents, arrays, strict=True):
            if array is value and parent is not None:
                found = parent
                break
        if found is None:
            for index, out in enumerate(outs):
                if out is value:
                    found = _OUTPUT_MARKERS[index] if index < 8 else _SavedOutput(index)
                    ctx._outputs = outs
                    break
        if found is None:
            found = Tensor._make(_ensure_array(value), None, 0) if hasattr(value, "shape") else value
        resolved.append(found)
    if shared:
        return parents
    if len(resolved) == 1 and resolved[0] is _ONLY_FIRST_OUTPUT[0]:
        return _ONLY_FIRST_OUTPUT
    return tuple(resolved)


def _named_error(name: str, exc: Exception, args: tuple[Any, ...]) -> Exception:
    """A backend error raised inside forward, re-raised with the op's name and its inputs' shapes and dtypes.

    Broadcasting failures become ShapeErrors and NumPy's dtype errors (no loop for these dtypes) DTypeErrors;
    both stay ValueError/TypeError subclasses.  Some NumPy exception classes cannot be built from a message
    alone, so the fallback is the plain built-in class.
    """
    message = f"{name}: {exc} (inputs: {', '.join(describe(a) for a in args)})"
    if isinstance(exc, ValueError) and "broadcast" in str(exc):
        return ShapeError(message)
    if isinstance(exc, TypeError) and type(exc).__module__.startswith("numpy"):
        return DTypeError(message)
    try:
        return type(exc)(message)
    except Exception:
        for base in (ValueError, IndexError, TypeError):
            if isinstance(exc, base):
                return base(message)
        return exc


def _check_same_device(name: str, args: tuple[Any, ...]) -> None:
    Tensor = _Tensor or _tensor_class()
    devices = {device_of(a.data) for a in args if isinstance(a, Tensor)}
    if len(devices) > 1:
        shapes = ", ".join(f"{describe(a)} on {device_of(a.data)}" for a in args if isinstance(a, Tensor))
        raise DeviceError(
            f"{name}: all tensors must be on one device, got {shapes}; move them with .to(device)"
        )
