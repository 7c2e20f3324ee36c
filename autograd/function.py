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
from collections.abc import Callable
from typing import Any

import numpy as np

from . import backend as _backend
from .backend import device_of
from .errors import DeviceError, DTypeError, GraphError, ShapeError, TapegradError, describe
from .grad_mode import _state as _grad_state

_modules = sys.modules
_generic = np.generic
_Tensor: Any = None  # tapegrad.autograd.tensor.Tensor, bound on first use (the modules import each other)


def _tensor_class() -> Any:
    global _Tensor
    from .tensor import Tensor

    _Tensor = Tensor
    return Tensor


class Context:
    """The node a ``Function`` call leaves on the tape; passed to ``forward`` and ``backward`` as ``ctx``.

    Attributes a backward may read: ``needs_input_grad`` (one bool per forward argument), ``saved_tensors``
    (the inputs and outputs the op declared in ``retain_inputs`` / ``retain_outputs``, or what a user op passed
    to ``save_for_backward``), and anything forward stored on it (``ctx.stride = ...``).  The tape's own fields
    are slots; what an op stores goes to the instance ``__dict__``, which ``release`` empties.
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
        self._to_save: tuple[Any, ...] = ()  # a user op's save_for_backward, resolved when read
        self._saved: tuple[Any, ...] | None = None  # the forward's arguments, kept when it retains inputs
        self._outputs: tuple[Any, ...] = ()  # the forward's output arrays, kept when it retains outputs
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
        """PyTorch's way for a user op: keep arrays (or tensors) for backward.

        Built-in ops declare ``retain_inputs`` / ``retain_outputs`` by index instead (nothing to match).  Here an
        input's or output's array comes back as that very tensor: matched when ``saved_tensors`` is read (once,
        in backward), never on the forward path.
        """
        self._to_save = values

    def mark_non_differentiable(self, *outputs: Any) -> None:  # pragma: no cover - API parity, nothing to do
        """Accepted for PyTorch parity; integer outputs are never differentiable here anyway."""

    @property
    def saved_tensors(self) -> tuple[Any, ...]:
        """The retained inputs (in ``retain_inputs`` order), then the retained outputs, as tensors."""
        if self.released:
            raise GraphError(
                f"{self.name}: trying to run backward through the graph a second time; its saved arrays "
                "were freed after the first backward. Call backward(retain_graph=True) the first time if you "
                "need to."
            )
        if self._to_save:
            return self._resolve_saved()
        function = self.function
        args = self._saved
        if args is None:
            result: tuple[Any, ...] = ()
        else:
            index = function.retain_inputs
            if not (function._retain_prefix and len(index) == len(args)):
                args = tuple([_as_constant(args[i]) for i in index])
            elif args is not self.parents:  # not all tensors: numbers stay, arrays become constants
                args = tuple([_as_constant(v) for v in args])
            result = args
        outputs = self._outputs
        if outputs:
            make = _Tensor._make
            return result + tuple([make(outputs[j], self, j) for j in function.retain_outputs])
        return result

    @property
    def retained(self) -> tuple[Any, ...]:
        """What this node keeps for its backward (read-only; empty once released): tensors, or numbers."""
        return () if self.released else self.saved_tensors

    def _resolve_saved(self) -> tuple[Any, ...]:
        """A user op's saved values: an input's array becomes the input tensor, an output's the output tensor."""
        make = _Tensor._make
        resolved = []
        for value in self._to_save:
            found: Any = None
            for parent in self.parents:
                if parent is not None and parent.data is value:
                    found = parent
                    break
            if found is None:
                for j, out in enumerate(self._outputs):
                    if out is value:
                        found = make(out, self, j)
                        break
            resolved.append(_as_constant(value) if found is None else found)
        return tuple(resolved)

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


# What a Function may declare as its projection kind for the deconvnet / guided backprop (tapegrad.viz.rules):
# "linear" walks back with the op's own backward (its adjoint), "rectifier" and "leaky_rectifier" are ZF's
# rectification of the signal, "switch" is pooling's (the backward scatters through the recorded switches), and
# None says there is no agreed rule (the projection raises NoProjectionRule naming the op).
PROJECTION_KINDS = ("linear", "rectifier", "leaky_rectifier", "switch", None)
UNDECLARED = "undeclared"

# The public surface generated from the declarations: name -> function (``tapegrad.autograd.ops``), and Tensor
# attribute -> function (methods and operators).  Filled as op modules are imported.
PUBLIC: dict[str, Callable[..., Any]] = {}
TENSOR_ATTRIBUTES: dict[str, Callable[..., Any]] = {}
_installed_on: list[Any] = []  # the Tensor class, once install_tensor_methods ran


def _names(value: str | tuple[str, ...]) -> tuple[str, ...]:
    return (value,) if isinstance(value, str) else tuple(value)


def _reflected(fn: Callable[..., Any], name: str) -> Callable[..., Any]:
    def reflected(self: Any, other: Any) -> Any:
        return fn(other, self)

    reflected.__name__ = reflected.__qualname__ = name
    reflected.__doc__ = f"``other {name[3:-2]} self``: see :func:`~tapegrad.autograd.{fn.__name__}`."
    return reflected


def declare(
    fn: Callable[..., Any],
    names: str | tuple[str, ...],
    method: bool | str | tuple[str, ...] = False,
    operators: tuple[str, ...] = (),
    reflected: tuple[str, ...] = (),
) -> Callable[..., Any]:
    """Publish ``fn`` under ``names`` (in ``tapegrad.autograd``), as Tensor method(s) and operator(s).

    ``method=True`` makes every name a method; a string or tuple gives the method names.  ``reflected``
    operators (``__radd__``) call ``fn(other, self)``.
    """
    names = _names(names)
    for name in names:
        PUBLIC[name] = fn
    methods = names if method is True else (_names(method) if method else ())
    attributes = {m: fn for m in (*methods, *operators)}
    attributes.update({r: _reflected(fn, r) for r in reflected})
    TENSOR_ATTRIBUTES.update(attributes)
    for tensor_class in _installed_on:
        for attribute, value in attributes.items():
            setattr(tensor_class, attribute, value)
    return fn


def public(
    names: str | tuple[str, ...] | None = None,
    *,
    method: bool | str | tuple[str, ...] = False,
    operators: tuple[str, ...] = (),
    reflected: tuple[str, ...] = (),
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Declare a composite op (a plain function of other ops), like a ``Function``'s ``names``/``method``."""

    def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
        return declare(fn, names or fn.__name__, method, operators, reflected)

    return decorate


def install_tensor_methods(tensor_class: Any) -> None:
    """Give the Tensor class every declared method and operator (and those declared later, as they come)."""
    for attribute, value in TENSOR_ATTRIBUTES.items():
        setattr(tensor_class, attribute, value)
    _installed_on.append(tensor_class)


class Function:
    """Base class of every op, and its single declaration.  Subclass it and call ``MyOp.apply(*inputs, **options)``.

    * ``forward(ctx, *arrays, **options)`` gets the backend arrays of tensor arguments (other arguments as
      they are) and returns an array or a tuple of arrays.
    * ``backward(ctx, *grad_outputs)`` gets one Tensor per output and returns one gradient per forward
      argument (a Tensor, an array, or None).  Gradients may have the broadcast shape: the engine sums them
      back to each input's shape, once, for every op.

    The class attributes declare the rest (all optional for a user op):

    * ``names``: the public function name(s) (``"clip", "clamp"``), generated from the op: ``call`` if the class
      defines it (argument handling, then ``apply``), else ``apply`` itself; the class docstring is its docstring.
    * ``method``: True to make every name a Tensor method too (or the method names); ``operators`` and
      ``reflected`` name the dunder methods (``"__add__"``; ``"__radd__"`` calls it with the operands swapped).
    * ``retain_inputs`` / ``retain_outputs``: the indices of the forward arguments and outputs the backward reads
      (``ctx.saved_tensors``: those inputs, then those outputs), Chainer's declaration by index.
    * ``projection``: the deconvnet / guided backprop kind, one of ``PROJECTION_KINDS``.
    * ``spec``: an :class:`~tapegrad.autograd.opspec.OpSpec` (or a tuple of them), how the op is checked.
    """

    differentiable = True
    names: str | tuple[str, ...] = ()
    method: bool | str | tuple[str, ...] = False
    operators: tuple[str, ...] = ()
    reflected: tuple[str, ...] = ()
    retain_inputs: tuple[int, ...] = ()
    retain_outputs: tuple[int, ...] = ()
    projection: str | None = UNDECLARED
    spec: Any = None
    public: Callable[..., Any] | None = None  # the generated public function, when ``names`` is declared
    _retain_prefix = True
    keeps_parents = False
    """True for an op whose backward reads ``ctx.parents`` (their data): its edges keep the real tensors."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.projection not in PROJECTION_KINDS and cls.projection != UNDECLARED:
            raise TypeError(f"{cls.__name__}.projection must be one of {PROJECTION_KINDS}, got {cls.projection!r}")
        cls.retain_inputs = tuple(cls.retain_inputs)
        cls.retain_outputs = tuple(cls.retain_outputs)
        cls._retain_prefix = cls.retain_inputs == tuple(range(len(cls.retain_inputs)))
        names = cls.__dict__.get("names")
        if names:
            names = _names(names)
            call = cls.__dict__.get("call")
            if call is not None:
                fn = call.__func__ if isinstance(call, staticmethod) else call
            else:
                apply = cls.apply

                def fn(*args: Any, **kwargs: Any) -> Any:
                    return apply(*args, **kwargs)

            fn.__name__ = fn.__qualname__ = names[0]
            fn.__module__ = cls.__module__
            fn.__doc__ = cls.__doc__ or fn.__doc__
            cls.public = staticmethod(fn)
            declare(fn, names, cls.method, cls.operators, cls.reflected)

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
        if not (cls.keeps_parents or ctx._to_save):
            parents = _edges(parents, cls.retain_inputs)
        ctx.parents = parents
        # what backward reads, by index: the arguments tuple and the output arrays, no copies, nothing matched
        if cls.retain_inputs:
            ctx._saved = args
        if cls.retain_outputs or ctx._to_save:
            ctx._outputs = outs
        if multiple:
            return tuple(make(o, ctx, i) for i, o in enumerate(outs))
        return make(raw, ctx, 0)


_NEEDS_CACHE: dict[int, tuple[bool, ...]] = {}

_PLACEHOLDERS: dict[tuple[Any, ...], Any] = {}


def _edges(parents: tuple[Any, ...], retained: tuple[int, ...]) -> tuple[Any, ...]:
    """The node's edges without the intermediate activations it does not keep.

    An edge to another op's output only needs that op (``grad_fn``, the output index) and the output's shape and
    dtype; holding the tensor itself would keep its array alive until backward reaches this node, as PyTorch's
    graph does not.  So such a parent becomes a stand-in tensor on the same node whose data is a zero-byte view
    of the right shape, dtype and array module.  Leaves (their gradient is delivered to them), inputs the op
    retains anyway, and ops that read ``ctx.parents`` (``keeps_parents``) keep the real tensors.  Measured
    (2026-12-02, 16x3x224x224 step of the benchmark CNN): the convolutions' outputs (77 MB) were alive until the
    backward reached their ReLUs; the step's peak fell from 222 to 145 MB above its start (tracemalloc).
    """
    replaced = None
    for i, parent in enumerate(parents):
        if parent is None or parent.grad_fn is None or i in retained:
            continue
        data = parent.data
        key = (data.shape, data.dtype, type(data))
        stand_in = _PLACEHOLDERS.get(key)
        if stand_in is None:
            if len(_PLACEHOLDERS) > 4096:
                _PLACEHOLDERS.clear()
            xp = _backend.array_module(data)
            stand_in = _PLACEHOLDERS[key] = xp.broadcast_to(xp.empty((), dtype=data.dtype), data.shape)
        if replaced is None:
            replaced = list(parents)
        edge = (_Tensor or _tensor_class())._make(stand_in, parent.grad_fn, parent._output_index)
        replaced[i] = edge
    return parents if replaced is None else tuple(replaced)


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
