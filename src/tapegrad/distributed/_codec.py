"""Objects to bytes and back for ``all_gather_object``, without pickle.

Why not pickle (what ``torch.distributed`` and mpi4py's lower-case methods use): unpickling runs code chosen by
the sender, and tapegrad never unpickles.  Ranks exchange JSON-like data (None, bools, numbers, strings, lists,
tuples, dicts) and NumPy arrays / Tensors, which covers metrics, shapes and top-k tables.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import numpy as np


def _encode(value: Any) -> Any:
    from tapegrad.autograd import Tensor

    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, (int, float)):
        return value
    if isinstance(value, list):
        return [_encode(v) for v in value]
    if isinstance(value, tuple):
        return {"__tuple__": [_encode(v) for v in value]}
    if isinstance(value, dict):
        return {"__dict__": [[_encode(k), _encode(v)] for k, v in value.items()]}
    if isinstance(value, Tensor):
        return {"__tensor__": _encode(value.numpy())}
    if isinstance(value, np.generic):
        return {"__scalar__": _encode(np.asarray(value))}
    if hasattr(value, "__array__") and hasattr(value, "dtype"):
        array = np.ascontiguousarray(value.get() if hasattr(value, "get") else np.asarray(value))
        if array.dtype.hasobject:
            raise TypeError("all_gather_object: object arrays cannot be sent (tapegrad never pickles)")
        return {"__array__": [array.dtype.str, list(array.shape), base64.b64encode(array.tobytes()).decode()]}
    raise TypeError(f"all_gather_object: cannot send a {type(value).__name__}; send None, numbers, strings, "
                    "lists, tuples, dicts, NumPy arrays or Tensors (tapegrad never pickles)")


def _decode(value: Any) -> Any:
    if isinstance(value, list):
        return [_decode(v) for v in value]
    if not isinstance(value, dict):
        return value
    if "__tuple__" in value:
        return tuple(_decode(v) for v in value["__tuple__"])
    if "__dict__" in value:
        return {_decode(k): _decode(v) for k, v in value["__dict__"]}
    if "__tensor__" in value:
        from tapegrad.autograd import Tensor

        return Tensor(_decode(value["__tensor__"]))
    if "__scalar__" in value:
        return _decode(value["__scalar__"])[()]
    dtype, shape, data = value["__array__"]
    return np.frombuffer(base64.b64decode(data), dtype=np.dtype(dtype)).reshape(shape).copy()


def dumps(value: Any) -> bytes:
    # freeze hashable keys decoded from lists: dict keys are kept as they were sent (str/int/float/tuple)
    return json.dumps(_encode(value), separators=(",", ":")).encode()


def loads(data: bytes) -> Any:
    return _decode(json.loads(data.decode()))
