"""The ``Tensor``: an array (NumPy or CuPy) plus the edge to the op that made it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from . import backend as _backend
from .backend import array_module, device_of, is_gpu_array, normalize_device, to_device
from .errors import DTypeError, GraphError

DEFAULT_DTYPE = np.float32
Hook = Callable[["Tensor"], "Tensor | None"]


def _as_array(data: Any, dtype: Any, device: str | None) -> Any:
    if isinstance(data, Tensor):
        data = data.data
    xp = array_module(data)
    if dtype is not None:
        array = xp.asarray(data, dtype=dtype)
    elif hasattr(data, "dtype"):
        array = xp.asarray(data)
    else:  # Python scalars and lists: floats become float32 (PyTorch's default), ints int64, bools bool
        array = np.asarray(data)
        if array.dtype.kind == "f":
            array = array.astype(DEFAULT_DTYPE)
        elif array.dtype.kind in "iu":
            array = array.astype(np.int64)
    if device is None and _backend._default_device != "cpu" and not is_gpu_array(array):
        device = _backend._default_device  # set_default_device('cuda'): host data goes to the GPU, as in torch
    if device is not None:
        array = to_device(array, device)
    return array


class _Size(int):
    """The element count (an int, NumPy's ``x.size``) that, called, answers like ``torch.Tensor.size``."""

    shape: tuple[int, ...]

    def __new__(cls, count: int, shape: tuple[int, ...]) -> _Size:
        self = super().__new__(cls, count)
        self.shape = shape
        return self

    def __call__(self, dim: int | None = None) -> Any:
        if dim is None:
            return self.shape
        ndim = len(self.shape)
        if not -ndim <= dim < ndim:
            raise IndexError(f"size: dimension {dim} is out of range for a tensor with {ndim} dimensions")
        return int(self.shape[dim])


class Tensor:
    """An n-dimensional array that remembers how it was computed.

    ``Tensor(data, requires_grad=False, dtype=None, device=None)``: floats default to float32, a float64 array
    stays float64.  ``.data`` is the backend array itself (NumPy or CuPy).

    The other attributes: ``requires_grad`` (whether ops on it are recorded; only floating tensors can),
    ``grad`` (the gradient a leaf has accumulated by :meth:`backward`, or None) and ``grad_fn`` (the tape node
    of the op that made it, None for a leaf).  Methods take PyTorch's ``dim``/``keepdim`` and NumPy's
    ``axis``/``keepdims`` alike; the methods and operators (``+ - * / ** @``, comparisons, ``x[index]``) are the
    op functions of :mod:`tapegrad.autograd`, installed on this class from the ops' declarations.
    """

    __slots__ = ("data", "requires_grad", "grad", "grad_fn", "_output_index", "_hooks", "__weakref__")
    __array_priority__ = 1000  # so that ndarray + Tensor calls Tensor.__radd__

    def __init__(self, data: Any, requires_grad: bool = False, dtype: Any = None, device: Any = None) -> None:
        self.data = _as_array(data, dtype, device)
        self.grad: Tensor | None = None
        self.grad_fn = None
        self._output_index = 0
        self._hooks: list[Hook] | None = None
        self.requires_grad = False
        if requires_grad:
            self.requires_grad_(True)

    @classmethod
    def _make(cls, data: Any, grad_fn: Any, index: int) -> Tensor:
        """Wrap an op's output without copying or checking (the fast path used by ``Function.apply``)."""
        t = cls.__new__(cls)
        t.data = data
        t.grad = None
        t.grad_fn = grad_fn
        t._output_index = index
        t._hooks = None
        t.requires_grad = grad_fn is not None
        return t

    # ----------------------------------------------------------------- properties
    @property
    def shape(self) -> tuple[int, ...]:
        """The sizes of the axes, a tuple of ints (``torch.Size`` in PyTorch)."""
        return self.data.shape  # already a tuple (NumPy and CuPy)

    @property
    def ndim(self) -> int:
        """The number of axes (``dim()``)."""
        return self.data.ndim

    @property
    def dtype(self) -> Any:
        """The element type, a NumPy dtype (``numpy.float32`` rather than ``torch.float32``)."""
        return self.data.dtype

    @property
    def size(self) -> _Size:
        """``x.size()`` is the shape and ``x.size(d)`` one extent, as in torch; ``x.size`` alone is still NumPy's
        element count (an int, the same as :meth:`numel`), so code of either habit keeps working."""
        return _Size(self.data.size, self.data.shape)

    @property
    def device(self) -> str:
        """``'cpu'`` (NumPy data) or ``'cuda'`` (CuPy data)."""
        return device_of(self.data)

    @property
    def is_leaf(self) -> bool:
        """True for a tensor not made by a recorded op (created by the user, or detached).

        Only leaves that require grad get ``.grad`` filled by :meth:`backward`; see :meth:`retain_grad` for the others.
        """
        return self.grad_fn is None

    @property
    def T(self) -> Tensor:
        """All axes reversed (``x.transpose()``); the usual transpose for a matrix."""
        return self.transpose()

    def numel(self) -> int:
        """The number of elements (``torch.Tensor.numel``)."""
        return int(self.data.size)

    def dim(self) -> int:
        """The number of axes (``torch.Tensor.dim``); the same as :attr:`ndim`."""
        return self.data.ndim

    def __len__(self) -> int:
        if self.data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return int(self.data.shape[0])

    # ----------------------------------------------------------------- conversion
    def numpy(self) -> np.ndarray:
        """The data as a NumPy array (copied from the GPU when it lives there)."""
        return to_device(self.data, "cpu")

    def item(self) -> Any:
        """The value of a one-element tensor as a Python number (``torch.Tensor.item``)."""
        if self.data.size != 1:
            raise ValueError(f"item(): only a tensor with one element can be converted, got shape {self.shape}")
        return self.data.reshape(()).item()

    def tolist(self) -> Any:
        """The data as (nested) Python lists of Python numbers, copied to the CPU first if needed."""
        return self.numpy().tolist()

    def to(self, device: Any = None, dtype: Any = None) -> Tensor:
        """A copy on ``device`` and/or of ``dtype`` (differentiable); ``self`` when nothing changes."""
        out = self
        if dtype is not None and np.dtype(dtype) != self.dtype:
            out = out.astype(dtype)
        if device is not None and normalize_device(device) != self.device:
            out = _ops.ToDevice.apply(out, device=normalize_device(device))
        return out

    def cpu(self) -> Tensor:
        """This tensor on the CPU (``self`` when already there); differentiable, see :meth:`to`."""
        return self.to("cpu")

    def cuda(self) -> Tensor:
        """This tensor on the GPU (needs CuPy and a GPU); differentiable, see :meth:`to`."""
        return self.to("cuda")

    def float(self) -> Tensor:
        """Convert to float32 (``torch.Tensor.float``), differentiably."""
        return self.astype(np.float32)

    def double(self) -> Tensor:
        """Convert to float64 (``torch.Tensor.double``), differentiably."""
        return self.astype(np.float64)

    def long(self) -> Tensor:
        """Convert to int64 (``torch.Tensor.long``); the result carries no gradient."""
        return self.astype(np.int64)

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        if self.device != "cpu":  # as torch: no silent copy from the GPU (a synchronisation) in np.asarray(t)
            raise TypeError(
                f"can't convert a {self.device} tensor to a NumPy array implicitly: use .numpy() or .cpu() to copy "
                "it to the host first"
            )
        array = self.data
        return array if dtype is None else array.astype(dtype)

    # ----------------------------------------------------------------- autograd
    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        """Set, in place, whether gradients are collected for this leaf; returns ``self`` (as in torch).

        Only floating tensors can require gradients (:class:`~tapegrad.autograd.DTypeError` otherwise); a non-leaf
        cannot be switched off (:class:`~tapegrad.autograd.GraphError`: use :meth:`detach`).
        """
        if requires_grad and self.data.dtype.kind not in "fc":
            raise DTypeError(f"requires_grad: only floating tensors can require gradients, got {self.dtype}")
        if not requires_grad and self.grad_fn is not None:
            raise GraphError("requires_grad_(False) on a non-leaf tensor: use .detach() instead")
        self.requires_grad = requires_grad
        return self

    def detach(self) -> Tensor:
        """The same data, cut from the graph."""
        return Tensor._make(self.data, None, 0)

    def zero_grad(self) -> None:
        """Forget the accumulated gradient: ``.grad`` becomes None (as ``set_to_none=True`` in PyTorch)."""
        self.grad = None

    def register_hook(self, hook: Hook) -> Callable[[], None]:
        """Call ``hook(grad)`` when this tensor's gradient is computed; a returned tensor replaces the gradient.

        Returns a function that removes the hook.
        """
        if not self.requires_grad:
            raise GraphError("register_hook: cannot register a hook on a tensor that does not require grad")
        if self.grad_fn is None:
            if self._hooks is None:
                self._hooks = []
            hooks = self._hooks
        else:
            node = self.grad_fn
            if node.output_hooks is None:
                node.output_hooks = {}
            hooks = node.output_hooks.setdefault(self._output_index, [])
        hooks.append(hook)
        return lambda: hooks.remove(hook) if hook in hooks else None

    def retain_grad(self) -> None:
        """Keep ``.grad`` on a non-leaf tensor too (like PyTorch)."""
        if self.grad_fn is None:
            return

        def keep(grad: Tensor) -> None:
            self.grad = grad if self.grad is None else self.grad + grad

        self.register_hook(keep)

    def backward(self, grad: Any = None, retain_graph: bool = False, create_graph: bool = False) -> None:
        """Accumulate d(self)/d(leaf) into every leaf's ``.grad``; ``grad`` defaults to 1 for a scalar."""
        from .engine import backward

        backward([self], None if grad is None else [grad], retain_graph=retain_graph, create_graph=create_graph)

    # ----------------------------------------------------------------- printing
    def __repr__(self) -> str:
        body = np.array2string(self.numpy(), precision=4, separator=", ", prefix="tensor(")
        extra = []
        if self.dtype != DEFAULT_DTYPE:
            extra.append(f"dtype={self.dtype}")
        if self.device != "cpu":
            extra.append(f"device='{self.device}'")
        if self.grad_fn is not None:
            extra.append(f"grad_fn=<{self.grad_fn.name}Backward>")
        elif self.requires_grad:
            extra.append("requires_grad=True")
        return "tensor(" + body + "".join(", " + e for e in extra) + ")"

    def __bool__(self) -> bool:
        if self.data.size != 1:
            raise ValueError(f"the truth value of a tensor with {self.data.size} elements is ambiguous")
        return bool(self.data.reshape(()))

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __index__(self) -> int:
        if self.data.dtype.kind not in "iu" or self.data.size != 1:
            raise TypeError("only integer tensors with one element can be used as an index")
        return int(self.item())

    __hash__ = object.__hash__

    def __pos__(self) -> Tensor:
        return self

    # The ops' methods and operators (x.sum(), x + y, x[i], ...) are not written here: each op declares them
    # (``Function.names``/``method``/``operators``) and tapegrad.autograd.ops installs them on this class.


def tensor(data: Any, requires_grad: bool = False, dtype: Any = None, device: Any = None) -> Tensor:
    """Make a :class:`Tensor` from a list, number or array, like ``torch.tensor``.

    Python floats become float32 and ints int64; an existing array keeps its dtype unless ``dtype`` is given.
    The data is always copied, as in PyTorch (``as_tensor`` and ``from_numpy`` share memory instead).
    """
    source = data.data if isinstance(data, Tensor) else data
    return Tensor(source.copy() if hasattr(source, "copy") else source, requires_grad=requires_grad, dtype=dtype,
                  device=device)


from . import ops as _ops  # noqa: E402  (the ops need Tensor defined first)
