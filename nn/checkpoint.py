"""Checkpoints: ``save(state_dict, path)`` / ``load(path)`` as a NumPy ``.npz`` archive, without pickle.

Layout: every array leaf of the (possibly nested) state is one entry, named by its dotted key path
(``model.conv1.weight``, ``optimizer.state.0.exp_avg``).  The structure (dict keys and their types, lists,
numbers, strings, None) is a small JSON document stored as a uint8 array under ``__tapegrad_meta__``, so
loading needs ``allow_pickle=False`` only and a file from anything else is recognised as foreign.

Writing is atomic: the archive goes to a temporary file in the same directory, is fsync'ed, and replaces
the target with ``os.replace``; a crash mid-write leaves the previous checkpoint intact.
"""

from __future__ import annotations

import json
import os
import tempfile
import zipfile
from collections import OrderedDict
from typing import Any

import numpy as np
from tapegrad.autograd.errors import TapegradError

from .modules.module import _as_numpy

META_KEY = "__tapegrad_meta__"
FORMAT = "tapegrad-checkpoint"
VERSION = 1


class CheckpointError(TapegradError, ValueError):
    """A file that is not a (complete) tapegrad checkpoint."""


def _is_array(value: Any) -> bool:
    return hasattr(value, "shape") and hasattr(value, "dtype")


def _encode(value: Any, path: str, arrays: dict[str, np.ndarray]) -> Any:
    if isinstance(value, dict):
        items = []
        for key, item in value.items():
            if not isinstance(key, (str, int)) or isinstance(key, bool):
                raise TypeError(f"save: dict keys must be str or int, got {key!r} at '{path}'")
            items.append([key, _encode(item, f"{path}.{key}" if path else str(key), arrays)])
        return {"dict": items, "ordered": isinstance(value, OrderedDict)}
    if isinstance(value, (list, tuple)):
        return {
            "list" if isinstance(value, list) else "tuple": [
                _encode(v, f"{path}.{i}" if path else str(i), arrays) for i, v in enumerate(value)
            ]
        }
    if _is_array(value) or type(value).__name__ in ("Tensor", "Parameter"):
        name = path or "array"
        while name in arrays or name == META_KEY:
            name += "_"
        arrays[name] = _as_numpy(value)
        return {"array": name}
    if isinstance(value, np.generic):
        value = value.item()
    if value is None or isinstance(value, (bool, int, float, str)):
        return {"value": value}
    raise TypeError(
        f"save: cannot store a {type(value).__name__} at '{path}' (arrays, numbers, strings, None, "
        "and dicts/lists of them only)"
    )


def _decode(node: Any, arrays: Any) -> Any:
    if "dict" in node:
        cls = OrderedDict if node.get("ordered") else dict
        return cls((key, _decode(item, arrays)) for key, item in node["dict"])
    if "list" in node:
        return [_decode(v, arrays) for v in node["list"]]
    if "tuple" in node:
        return tuple(_decode(v, arrays) for v in node["tuple"])
    if "array" in node:
        return arrays[node["array"]]
    return node["value"]


def save(state: Any, path: str | os.PathLike[str]) -> None:
    """Write ``state`` (a state_dict, or nested dicts/lists of arrays and values) to ``path`` atomically."""
    path = os.fspath(path)
    arrays: dict[str, np.ndarray] = {}
    tree = _encode(state, "", arrays)
    meta = json.dumps({"format": FORMAT, "version": VERSION, "tree": tree}).encode("utf-8")
    arrays[META_KEY] = np.frombuffer(meta, dtype=np.uint8)
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise FileNotFoundError(f"save: cannot write '{path}': the directory '{directory}' does not exist")
    fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", suffix=".tmp", dir=directory)
    try:
        os.chmod(tmp, 0o644)  # mkstemp makes it private; a checkpoint is an ordinary file
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **arrays)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    try:  # make the rename itself durable (not possible on every platform)
        dir_fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dir_fd)
    except OSError:
        pass
    finally:
        os.close(dir_fd)


def load(path: str | os.PathLike[str]) -> Any:
    """Read a checkpoint written by ``save``; arrays come back as NumPy arrays."""
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"load: no checkpoint at '{path}'")
    try:
        with np.load(path, allow_pickle=False) as archive:
            if not isinstance(archive, np.lib.npyio.NpzFile):
                raise CheckpointError(
                    f"load: '{path}' is a bare .npy array, not a tapegrad checkpoint (.npz)"
                )
            names = set(archive.files)
            if META_KEY not in names:
                raise CheckpointError(
                    f"load: '{path}' is an .npz archive but not a tapegrad checkpoint "
                    f"(no '{META_KEY}' entry); it holds {sorted(names)[:5]}"
                )
            meta = json.loads(archive[META_KEY].tobytes().decode("utf-8"))
            arrays = {name: archive[name] for name in names if name != META_KEY}
    except CheckpointError:
        raise
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, KeyError, UnicodeDecodeError) as exc:
        raise CheckpointError(
            f"load: '{path}' is not a readable tapegrad checkpoint (truncated, corrupt or "
            f"another format): {type(exc).__name__}: {exc}"
        ) from exc
    if not isinstance(meta, dict) or meta.get("format") != FORMAT or "tree" not in meta:
        raise CheckpointError(f"load: '{path}' has a metadata entry that is not tapegrad's")
    if meta.get("version", 0) > VERSION:
        raise CheckpointError(
            f"load: '{path}' was written by a newer tapegrad (format version {meta['version']})"
        )
    try:
        return _decode(meta["tree"], arrays)
    except (KeyError, TypeError) as exc:
        raise CheckpointError(f"load: '{path}' has inconsistent metadata: {exc}") from exc
