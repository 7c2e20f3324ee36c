"""Reading a checkpoint's ``.npz`` archive as untrusted input: the zip and each ``.npy`` entry checked first.

``np.load`` alone is not enough for a file from elsewhere: on a file that is not a zip it says it "cannot load
pickled data" and suggests ``allow_pickle=True`` (advice to run someone else's code); an entry that is not an
``.npy`` comes back as raw bytes; and an entry's header may declare an array far larger than the bytes behind
it, which NumPy allocates before it notices.  Here each entry's header is read and its declared size compared
with the entry's real size before any array is allocated, and every refusal says what the file is not.
"""

from __future__ import annotations

import json
import math
import zipfile
from typing import Any

import numpy as np

META_KEY = "__tapegrad_meta__"
ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")  # a zip's first entry, or an empty zip's end record
NPY_MAGIC = b"\x93NUMPY"
MAX_META_BYTES = 64 << 20  # tapegrad's own metadata is a few kB; a JSON document this big is not ours


class ArchiveError(ValueError):
    """What is wrong with the archive, in words for the user (``load`` adds the file's name)."""


def describe_failure(exc: BaseException) -> str:
    """An exception from a parser as a reason, never repeating NumPy's advice to allow pickle."""
    text = str(exc)
    if "pickle" in text.lower():
        return "an entry holds pickled Python objects, which a checkpoint never contains and tapegrad never loads"
    return f"{type(exc).__name__}: {text[:300]}"


def _sniff(path: str) -> None:
    with open(path, "rb") as f:
        head = f.read(8)
    if head.startswith(NPY_MAGIC):
        raise ArchiveError("is a bare .npy array, not a tapegrad checkpoint (.npz)")
    if not head.startswith(ZIP_MAGIC):
        raise ArchiveError(f"is not a zip archive (a tapegrad checkpoint is a NumPy .npz file, which is one); "
                           f"it starts with {head!r}" if head else "is empty, not a tapegrad checkpoint")


def _read_entry(archive: zipfile.ZipFile, info: zipfile.ZipInfo, name: str) -> np.ndarray:
    with archive.open(info) as f:
        if f.read(len(NPY_MAGIC)) != NPY_MAGIC:
            raise ArchiveError(f"entry '{name}' is not a NumPy array (.npy)")
        major = f.read(2)
        if len(major) != 2 or major[0] not in (1, 2, 3):
            raise ArchiveError(f"entry '{name}' has an unknown .npy version")
        read_header = np.lib.format.read_array_header_1_0 if major[0] == 1 else np.lib.format.read_array_header_2_0
        try:
            shape, _, dtype = read_header(f)
        except ValueError as exc:
            raise ArchiveError(f"entry '{name}' has a broken .npy header ({describe_failure(exc)})") from None
        if dtype.hasobject:
            raise ArchiveError(f"entry '{name}' holds Python objects (dtype {dtype}), which a checkpoint never "
                               "contains and tapegrad never unpickles")
        declared = math.prod(shape) * dtype.itemsize
        if declared > info.file_size:
            raise ArchiveError(f"entry '{name}' declares a {shape} {dtype} array ({declared} bytes) but holds "
                               f"only {info.file_size} bytes (truncated or crafted)")
    with archive.open(info) as f:
        array = np.lib.format.read_array(f, allow_pickle=False)
    if not isinstance(array, np.ndarray):
        raise ArchiveError(f"entry '{name}' is not a NumPy array")
    return array


def read_archive(path: str) -> tuple[Any, dict[str, np.ndarray]]:
    """(the parsed metadata document, the other entries by name) of the ``.npz`` at ``path``."""
    _sniff(path)
    arrays: dict[str, np.ndarray] = {}
    meta: Any = None
    with zipfile.ZipFile(path) as archive:
        infos = archive.infolist()
        names = [i.filename[:-4] if i.filename.endswith(".npy") else i.filename for i in infos]
        if META_KEY not in names:
            raise ArchiveError(f"is an .npz archive but not a tapegrad checkpoint (no '{META_KEY}' entry); "
                               f"it holds {sorted(names)[:5]}")
        for info, name in zip(infos, names, strict=True):
            if info.is_dir():
                continue
            if name == META_KEY:
                if info.file_size > MAX_META_BYTES:
                    raise ArchiveError(f"has a metadata entry of {info.file_size} bytes, not tapegrad's")
                raw = _read_entry(archive, info, name)
                if raw.dtype != np.uint8 or raw.ndim != 1:
                    raise ArchiveError(f"has a metadata entry of dtype {raw.dtype}, shape {raw.shape}, "
                                       "not tapegrad's (uint8 text)")
                meta = json.loads(raw.tobytes().decode("utf-8"))
            else:
                arrays[name] = _read_entry(archive, info, name)
    return meta, arrays
