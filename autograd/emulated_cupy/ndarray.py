"""The emulated device array: a NumPy array behind a wall that behaves like ``cupy.ndarray``'s.

What it enforces, as CuPy does on a GPU:

- no implicit conversion to NumPy: ``np.asarray(x)`` / ``__array__`` raise CuPy's ``TypeError``, and so do NumPy
  ufuncs (``np.exp(x)``, ``np.add.at(x, ...)``: ``__array_ufunc__ = None``) and NumPy functions
  (``np.concatenate([x])``: ``__array_function__`` raises).  Real CuPy dispatches some of these to its own
  implementations; the double is stricter on purpose, because a ``np.`` call in an op is a bug on the day CuPy
  lacks the function, and ``array_module(x)`` is the project's rule;
- a NumPy array never meets a device array in an operation (``TypeError: Unsupported type``);
- reductions and scalar indexing give 0-d device arrays, never host scalars;
- only explicit copies reach the host (``.get()``, ``cupy.asnumpy``, ``.item()``, ``.tolist()``, ``float(x)``,
  ``int(x)``, ``bool(x)``, printing), and each is counted in :mod:`.transfers`;
- only the attributes real ``cupy.ndarray`` has (cupy_names.txt).
"""

from __future__ import annotations

import operator
from typing import Any

import numpy as np

from .names import public_names
from .transfers import counter

_SCALARS = (bool, int, float, complex, np.generic)
_IMPLICIT = (
    "Implicit conversion to a NumPy array is not allowed. Please use `.get()` to construct a NumPy array explicitly."
)


def _unsupported(value: Any) -> TypeError:
    if isinstance(value, np.ndarray):
        return TypeError(
            f"Unsupported type {type(value)}: a NumPy (host) array met a device array; move it with "
            "cupy.asarray first (emulated CuPy, as on a GPU)"
        )
    return TypeError(f"Unsupported type {type(value)}")


def unwrap(value: Any, host_ok: bool = False) -> Any:
    """The NumPy array behind a device array, recursively through lists/tuples/dicts; NumPy arrays are refused
    unless ``host_ok`` (then they count as an upload)."""
    if type(value) is ndarray:
        return value._a
    if isinstance(value, np.ndarray):
        if not host_ok:
            raise _unsupported(value)
        counter.device("implicit upload")
        return value
    if isinstance(value, (list, tuple)):
        return type(value)(unwrap(v, host_ok) for v in value)
    if isinstance(value, dict):
        return {k: unwrap(v, host_ok) for k, v in value.items()}
    return value


def wrap(value: Any) -> Any:
    """NumPy arrays and NumPy scalars (a reduction's result) become device arrays; tuples/lists recursively."""
    if isinstance(value, (np.ndarray, np.generic)):
        return ndarray._of(np.asarray(value))
    if isinstance(value, tuple):
        return tuple(wrap(v) for v in value)
    if isinstance(value, list):
        return [wrap(v) for v in value]
    return value


def wrap_function(function: Any, name: str, host_ok: bool = False) -> Any:
    """``function`` (NumPy's) on device arrays: unwrap the arguments, call, wrap the result."""

    def device_function(*args: Any, **kwargs: Any) -> Any:
        return wrap(function(*unwrap(args, host_ok), **unwrap(kwargs, host_ok)))

    device_function.__name__ = device_function.__qualname__ = name
    device_function.__doc__ = f"Emulated ``cupy.{name}`` (NumPy's, on the emulated device)."
    return device_function


class _Device:
    """``cupy.cuda.Device``: the one emulated GPU."""

    id = 0

    def __init__(self, device: int | None = None) -> None:
        self.id = device or 0

    def synchronize(self) -> None:
        pass

    def use(self) -> None:
        pass

    def __enter__(self) -> _Device:
        return self

    def __exit__(self, *exc: Any) -> None:
        pass

    def __eq__(self, other: Any) -> bool:
        return isinstance(other, _Device) and other.id == self.id

    def __hash__(self) -> int:
        return self.id

    def __repr__(self) -> str:
        return f"<CUDA Device {self.id}>"


class _MemoryPointer:
    """``ndarray.data`` on a GPU is a device pointer, not a buffer NumPy could read."""

    def __init__(self, array: np.ndarray) -> None:
        self.ptr = array.__array_interface__["data"][0]

    def __repr__(self) -> str:
        return f"<emulated device MemoryPointer 0x{self.ptr:x}>"


class ndarray:  # noqa: N801 - CuPy's name
    """A device array of the emulated CuPy (see the module docstring for what it refuses)."""

    __slots__ = ("_a", "__weakref__")
    __array_priority__ = 100  # cupy.ndarray's: a Tensor (1000) wins ``array + tensor``
    __array_ufunc__ = None  # np.exp(x), np.add.at(x, ...), host_array + x: TypeError / defer to our operators
    __hash__ = None  # type: ignore[assignment]

    def __init__(self, shape: Any, dtype: Any = float, *args: Any, **kwargs: Any) -> None:
        self._a = np.empty(shape, dtype=dtype)

    @classmethod
    def _of(cls, array: np.ndarray) -> ndarray:
        out = cls.__new__(cls)
        out._a = array
        return out

    # ---------------------------------------------------------------- the wall around NumPy
    def __array__(self, *args: Any, **kwargs: Any) -> Any:
        raise TypeError(_IMPLICIT)

    def __array_function__(self, func: Any, types: Any, args: Any, kwargs: Any) -> Any:
        raise TypeError(
            f"numpy.{func.__name__} was called on an (emulated) CuPy device array: use the array module of the "
            "data (tapegrad.autograd.backend.array_module) so the GPU runs it, or .get() to copy to the host"
        )

    # ---------------------------------------------------------------- explicit and counted copies to the host
    def get(self, stream: Any = None, order: str = "C", out: Any = None, blocking: bool = True) -> np.ndarray:
        counter.host("get")
        if out is not None:
            out[...] = self._a
            return out
        return np.array(self._a, order=order)

    def item(self, *args: Any) -> Any:
        counter.host("item")
        return self._a.item(*args)

    def tolist(self) -> Any:
        counter.host("tolist")
        return self._a.tolist()

    def tobytes(self, order: str = "C") -> bytes:
        counter.host("tobytes")
        return self._a.tobytes(order)

    def __float__(self) -> float:
        if self._a.size != 1:
            raise TypeError("only size-1 arrays can be converted to Python scalars")
        counter.host("float()")
        return float(self._a)

    def __int__(self) -> int:
        if self._a.size != 1:
            raise TypeError("only size-1 arrays can be converted to Python scalars")
        counter.host("int()")
        return int(self._a)

    def __complex__(self) -> complex:
        if self._a.size != 1:
            raise TypeError("only size-1 arrays can be converted to Python scalars")
        counter.host("complex()")
        return complex(self._a)

    def __bool__(self) -> bool:
        counter.host("bool()")
        return bool(self._a)

    def __index__(self) -> int:
        if self._a.dtype.kind not in "iub":
            raise TypeError("only integer scalar arrays can be converted to a scalar index")
        counter.host("index")
        return operator.index(self._a)

    def __repr__(self) -> str:
        counter.host("repr")
        return repr(self._a)

    def __str__(self) -> str:
        counter.host("str")
        return str(self._a)

    def __format__(self, spec: str) -> str:
        counter.host("format")
        return format(self._a if self._a.ndim else self._a.item(), spec)

    def __copy__(self) -> ndarray:  # copy.copy / copy.deepcopy copy on the device, as CuPy's do
        return ndarray._of(self._a.copy())

    def __deepcopy__(self, memo: Any) -> ndarray:
        return ndarray._of(self._a.copy())

    def __reduce__(self) -> Any:
        raise TypeError("emulated device arrays do not pickle; copy them to the host with .get() first")

    # ---------------------------------------------------------------- metadata: no copy
    @property
    def shape(self) -> tuple[int, ...]:
        return self._a.shape

    @shape.setter
    def shape(self, value: Any) -> None:
        self._a.shape = value

    @property
    def dtype(self) -> np.dtype:
        return self._a.dtype

    @property
    def ndim(self) -> int:
        return self._a.ndim

    @property
    def size(self) -> int:
        return self._a.size

    @property
    def nbytes(self) -> int:
        return self._a.nbytes

    @property
    def itemsize(self) -> int:
        return self._a.itemsize

    @property
    def strides(self) -> tuple[int, ...]:
        return self._a.strides

    @property
    def flags(self) -> Any:
        return self._a.flags

    @property
    def base(self) -> Any:
        return None if self._a.base is None else ndarray._of(self._a.base)

    @property
    def device(self) -> _Device:
        return _Device(0)

    @property
    def data(self) -> _MemoryPointer:
        return _MemoryPointer(self._a)

    @property
    def flat(self) -> ndarray:
        return ndarray._of(self._a.reshape(-1))

    @property
    def T(self) -> ndarray:  # noqa: N802
        return ndarray._of(self._a.T)

    @property
    def mT(self) -> ndarray:  # noqa: N802
        return ndarray._of(self._a.mT)

    @property
    def real(self) -> ndarray:
        return ndarray._of(self._a.real)

    @property
    def imag(self) -> ndarray:
        return ndarray._of(self._a.imag)

    def __len__(self) -> int:
        return len(self._a)

    def __iter__(self) -> Any:
        if self._a.ndim == 0:
            raise TypeError("iteration over a 0-d array")
        return (ndarray._of(self._a[i]) for i in range(len(self._a)))

    # ---------------------------------------------------------------- indexing
    def __getitem__(self, key: Any) -> ndarray:
        return ndarray._of(np.asarray(self._a[unwrap(key, host_ok=True)]))

    def __setitem__(self, key: Any, value: Any) -> None:
        self._a[unwrap(key, host_ok=True)] = unwrap(value, host_ok=True)

    # ---------------------------------------------------------------- methods: those cupy.ndarray has
    def __getattr__(self, name: str) -> Any:
        if name.startswith("_") or name not in public_names("cupy.ndarray"):
            raise AttributeError(f"'cupy.ndarray' object has no attribute {name!r}")
        method = getattr(self._a, name, None)
        if not callable(method):
            raise AttributeError(f"emulated cupy.ndarray does not implement {name!r} yet (real CuPy has it)")
        return wrap_function(method, f"ndarray.{name}")

    def __dir__(self) -> list[str]:
        return sorted(public_names("cupy.ndarray"))


def _binary(op: Any, name: str, reflected: bool = False, inplace: bool = False) -> Any:
    def method(self: ndarray, other: Any) -> Any:
        if type(other) is ndarray:
            b = other._a
        elif isinstance(other, _SCALARS):
            b = other
        elif isinstance(other, np.ndarray):
            raise _unsupported(other)
        elif getattr(other, "__array_priority__", 0) > ndarray.__array_priority__:
            return NotImplemented  # a Tensor: its reflected operator runs
        else:
            raise _unsupported(other)
        if inplace:
            op(self._a, b)
            return self
        return wrap(op(b, self._a) if reflected else op(self._a, b))

    method.__name__ = name
    return method


_OPERATORS = {
    "add": (operator.add, operator.iadd), "sub": (operator.sub, operator.isub), "mul": (operator.mul, operator.imul),
    "truediv": (operator.truediv, operator.itruediv), "floordiv": (operator.floordiv, operator.ifloordiv),
    "mod": (operator.mod, operator.imod), "pow": (operator.pow, operator.ipow),
    "matmul": (operator.matmul, operator.imatmul), "and": (operator.and_, operator.iand),
    "or": (operator.or_, operator.ior), "xor": (operator.xor, operator.ixor),
    "lshift": (operator.lshift, operator.ilshift), "rshift": (operator.rshift, operator.irshift),
}
for _name, (_op, _iop) in _OPERATORS.items():
    setattr(ndarray, f"__{_name}__", _binary(_op, f"__{_name}__"))
    setattr(ndarray, f"__r{_name}__", _binary(_op, f"__r{_name}__", reflected=True))
    setattr(ndarray, f"__i{_name}__", _binary(_iop, f"__i{_name}__", inplace=True))
for _name, _op in {"lt": operator.lt, "le": operator.le, "gt": operator.gt, "ge": operator.ge,
                   "eq": operator.eq, "ne": operator.ne}.items():
    setattr(ndarray, f"__{_name}__", _binary(_op, f"__{_name}__"))
ndarray.__divmod__ = _binary(divmod, "__divmod__")
for _name, _op in {"neg": operator.neg, "pos": operator.pos, "abs": operator.abs, "invert": operator.invert}.items():
    setattr(ndarray, f"__{_name}__", (lambda op: lambda self: wrap(op(self._a)))(_op))
