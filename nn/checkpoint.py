"""Checkpoints: ``save(state_dict, path)`` / ``load(path)`` as a NumPy ``.npz`` archive, without pickle.

Layout: every array leaf of the (possibly nested) state is one entry, named by its dotted key path
(``model.conv1.weight``, ``optimizer.state.0.exp_avg``).  The structure (dict keys and their types, lists,
numbers, strings, None) is a small JSON document stored as a uint8 array under ``__tapegrad_meta__``, so
loading needs ``allow_pickle=False`` only and a file from anything else is recognised as foreign.

Writing is atomic: the archive goes to a temporary file in the same directory, is fsync'ed, and replaces
the target with ``os.replace``; a crash mid-write leaves the previous checkpoint intact.  A hard kill (``kill -9``,
power loss) can still leave that temporary file, ``.NAME.XXXXXXXX.tmp`` beside ``NAME``; the next successful
save of the same ``NAME`` deletes such files, and only those: exactly that pattern (mkstemp's eight random
characters), for that target, last modified before the save began.

Loading treats the file as untrusted (see ``_archive.py``): anything malformed is a ``CheckpointError`` that
names the file, and nothing is ever unpickled.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
import time
from collections import OrderedDict
from typing import Any

import numpy as np
from tapegrad.autograd.errors import TapegradError

from ._archive import META_KEY, ArchiveError, describe_failure, read_archive
from .modules.module import _as_numpy

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


_NODE_KINDS = ("dict", "list", "tuple", "array", "value")
MAX_DEPTH = 64  # tapegrad's own states nest 5 deep (optimizer.state.0.exp_avg); crafted ones may not


class _Malformed(Exception):
    """Raised inside ``_decode``; ``load`` turns it into a CheckpointError naming the file."""


def _decode(node: Any, arrays: dict[str, np.ndarray], where: str = "", depth: int = 0) -> Any:
    """The state described by one metadata node, every node checked (the metadata may be hostile)."""
    if depth > MAX_DEPTH:
        raise _Malformed(f"the structure is nested more than {MAX_DEPTH} deep at '{where}'")
    kinds = [k for k in _NODE_KINDS if isinstance(node, dict) and k in node]
    if len(kinds) != 1:
        raise _Malformed(f"at '{where or '(top)'}': {str(node)[:60]!r} is not one of {_NODE_KINDS}")
    kind, body = kinds[0], node[kinds[0]]
    if kind == "value":
        if body is not None and not isinstance(body, (bool, int, float, str)):
            raise _Malformed(f"at '{where}': a value must be a number, string, bool or null")
        return body
    if kind == "array":
        if not isinstance(body, str) or body not in arrays:
            raise _Malformed(f"at '{where}': names the array {str(body)[:60]!r}, which the archive lacks")
        return arrays[body]
    if not isinstance(body, list):
        raise _Malformed(f"at '{where}': '{kind}' must hold a list")
    if kind != "dict":
        items = [_decode(v, arrays, f"{where}.{i}", depth + 1) for i, v in enumerate(body)]
        return items if kind == "list" else tuple(items)
    out: dict[Any, Any] = OrderedDict() if node.get("ordered") else {}
    for pair in body:
        if not isinstance(pair, list) or len(pair) != 2 or isinstance(pair[0], bool) \
                or not isinstance(pair[0], (str, int)):
            raise _Malformed(f"at '{where}': a dict entry must be a [str or int key, node] pair")
        out[pair[0]] = _decode(pair[1], arrays, f"{where}.{pair[0]}" if where else str(pair[0]), depth + 1)
    return out


def _remove_orphans(directory: str, name: str, started: float) -> None:
    """Delete the temporary files earlier saves of ``name`` left behind when they were killed.

    A ``kill -9`` (or power loss) between ``mkstemp`` and ``os.replace`` leaves ``.NAME.XXXXXXXX.tmp``
    (measured: 20 kills of a training run left 16 such files, 214 MB).  Only files of exactly that pattern
    (mkstemp's 8 random characters) for this target, last modified before this save began, are removed: a
    save of the same file still writing in another process keeps its file fresh and is left alone.
    """
    pattern = re.compile(r"\." + re.escape(name) + r"\.[a-z0-9_]{8}\.tmp")
    try:
        entries = list(os.scandir(directory))
    except OSError:
        return
    for entry in entries:
        if not pattern.fullmatch(entry.name):
            continue
        try:
            if entry.is_file(follow_symlinks=False) and entry.stat(follow_symlinks=False).st_mtime < started:
                os.unlink(entry.path)
        except OSError:  # gone already, or not ours to remove: never fail a save that succeeded
            pass


def save(state: Any, path: str | os.PathLike[str]) -> None:
    """Write ``state`` (a state_dict, or nested dicts/lists of arrays and values) to ``path`` atomically.

    Afterwards, temporary files that killed earlier saves of ``path`` left beside it are deleted (see above).
    """
    path = os.fspath(path)
    arrays: dict[str, np.ndarray] = {}
    tree = _encode(state, "", arrays)
    meta = json.dumps({"format": FORMAT, "version": VERSION, "tree": tree}).encode("utf-8")
    arrays[META_KEY] = np.frombuffer(meta, dtype=np.uint8)
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise FileNotFoundError(f"save: cannot write '{path}': the directory '{directory}' does not exist")
    started = time.time()
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
    _remove_orphans(directory, os.path.basename(path), started)
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
    """Read a checkpoint written by ``save``; arrays come back as NumPy arrays.

    The file is treated as untrusted: anything wrong with it (not a zip, truncated, an entry that is not a
    plain array, metadata that is not ours or is nested absurdly deep) is a ``CheckpointError`` naming the
    file.  Nothing is ever unpickled, and the message never suggests ``allow_pickle``.
    """
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"load: no checkpoint at '{path}'")
    if os.path.isdir(path):
        raise CheckpointError(f"load: '{path}' is a folder, not a checkpoint file")
    if not os.path.isfile(path):  # a FIFO or a device would block or never end
        raise CheckpointError(f"load: '{path}' is not a regular file, so not a checkpoint")
    try:
        meta, arrays = read_archive(path)
    except ArchiveError as exc:
        raise CheckpointError(f"load: '{path}' {exc}") from None
    except RecursionError:
        raise CheckpointError(f"load: '{path}' has metadata nested too deep to be a tapegrad checkpoint") from None
    except (MemoryError, OverflowError) as exc:
        raise CheckpointError(f"load: '{path}' declares more data than can be read ({type(exc).__name__})") from None
    except Exception as exc:  # noqa: BLE001 - any failure to parse an untrusted file is the file's fault
        raise CheckpointError(
            f"load: '{path}' is not a readable tapegrad checkpoint (truncated, corrupt or another format): "
            f"{describe_failure(exc)}"
        ) from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT or "tree" not in meta:
        raise CheckpointError(f"load: '{path}' has a metadata entry that is not tapegrad's")
    version = meta.get("version", 0)
    if isinstance(version, bool) or not isinstance(version, int):
        raise CheckpointError(f"load: '{path}' has a format version {str(version)[:20]!r} that is not a number")
    if version > VERSION:
        raise CheckpointError(f"load: '{path}' was written by a newer tapegrad (format version {version})")
    try:
        return _decode(meta["tree"], arrays)
    except _Malformed as exc:
        raise CheckpointError(f"load: '{path}' has inconsistent metadata {exc}") from None
    except RecursionError:
        raise CheckpointError(f"load: '{path}' has metadata nested too deep to be a tapegrad checkpoint") from None
