"""Malformed checkpoints and interrupted saves (issue 14, defects 2, 5 and 6).

Every malformed input is a ``CheckpointError`` that names the file and never points at ``allow_pickle``; an
interrupted atomic save's orphaned temporary file is removed by the next save of the same target.
"""

from __future__ import annotations

import io
import json
import os
import time
import zipfile

import numpy as np
import pytest
from tapegrad.nn.checkpoint import META_KEY, CheckpointError

from tapegrad import nn


def _with_meta(path, meta, **arrays):
    """A .npz whose metadata entry is ``meta`` (any JSON text) beside ``arrays``."""
    raw = meta if isinstance(meta, bytes) else json.dumps(meta).encode()
    np.savez(path, **{META_KEY: np.frombuffer(raw, np.uint8)}, **arrays)
    return path


def _check(path):
    with pytest.raises(CheckpointError) as info:
        nn.load(path)
    message = str(info.value)
    assert str(path) in message and "allow_pickle" not in message and "pickle=" not in message
    return message


def test_not_a_zip_says_so_and_never_suggests_pickle(tmp_path):
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"not a zip")
    assert "not a zip" in _check(bad)


def test_a_bare_npy_file_is_a_clear_error(tmp_path):
    path = tmp_path / "x.npy"
    np.save(path, np.zeros(3))
    assert ".npy" in _check(path)


def test_an_object_array_entry_is_refused_without_pickle_advice(tmp_path):
    path = tmp_path / "obj.npz"
    tree = {"dict": [["a", {"array": "a"}]], "ordered": False}
    _with_meta(path, {"format": "tapegrad-checkpoint", "version": 1, "tree": tree},
               a=np.array([{"x": 1}], dtype=object))
    assert "Python objects" in _check(path)


def test_metadata_nested_5000_deep_is_a_checkpoint_error(tmp_path):
    tree = '{"list": [' * 5000 + '{"value": 1}' + "]}" * 5000  # json.dumps itself cannot write this
    text = '{"format": "tapegrad-checkpoint", "version": 1, "tree": ' + tree + "}"
    assert "deep" in _check(_with_meta(tmp_path / "deep.npz", text.encode()))
    raw = b'{"format": "tapegrad-checkpoint", "version": 1, "tree": ' + b"[" * 100000 + b"]" * 100000 + b"}"
    _check(_with_meta(tmp_path / "deeper.npz", raw))  # too deep for json itself


@pytest.mark.parametrize("tree", [
    {"dict": [["a"]], "ordered": False},  # a pair without a value
    {"dict": [[["k"], {"value": 1}]]},  # a list as a key
    {"list": {"not": "a list"}},
    {"array": ["not", "a", "name"]},
    {"array": "missing"},
    {"value": {"nested": "object"}},
    {"unknown": 1},
    ["not", "a", "node"],
    {"value": 1, "list": []},
])
def test_inconsistent_metadata_is_a_checkpoint_error(tmp_path, tree):
    _check(_with_meta(tmp_path / "odd.npz", {"format": "tapegrad-checkpoint", "version": 1, "tree": tree}))


@pytest.mark.parametrize("meta", [b"\xff\xfe", b"{", b"[]", b'{"format": "tapegrad-checkpoint", "version": "2"}',
                                  b'{"format": "tapegrad-checkpoint", "version": 1}'])
def test_broken_metadata_document_is_a_checkpoint_error(tmp_path, meta):
    _check(_with_meta(tmp_path / "meta.npz", meta))


def test_a_member_that_is_not_an_npy_array_is_refused(tmp_path):
    path = tmp_path / "raw.npz"
    meta = {"format": "tapegrad-checkpoint", "version": 1, "tree": {"array": "w"}}
    buffer = io.BytesIO()
    np.save(buffer, np.frombuffer(json.dumps(meta).encode(), np.uint8))
    with zipfile.ZipFile(path, "w") as z:
        z.writestr(META_KEY + ".npy", buffer.getvalue())
        z.writestr("w.npy", b"raw bytes, not an array")
    _check(path)


def test_truncated_archive_is_a_checkpoint_error(tmp_path):
    good = tmp_path / "good.npz"
    nn.save({"w": np.arange(1000.0)}, good)
    data = good.read_bytes()
    for cut in (10, len(data) // 2, len(data) - 10):
        bad = tmp_path / f"cut{cut}.npz"
        bad.write_bytes(data[:cut])
        _check(bad)


def test_resume_with_a_non_dict_rng_is_a_checkpoint_error(tmp_path):
    from tapegrad.experiment.state import load_checkpoint

    path = tmp_path / "checkpoint.npz"
    nn.save({"format": "tapegrad-experiment", "rng": [1, 2, 3]}, path)
    with pytest.raises(CheckpointError, match=str(path)):
        load_checkpoint(path)


def _stale(tmp_path, name, age):
    stale = tmp_path / f".{name}.a1b2c3d4.tmp"
    stale.write_bytes(b"x" * 100)
    old = time.time() - age
    os.utime(stale, (old, old))
    return stale


def test_the_next_save_removes_temp_files_orphaned_by_a_hard_kill(tmp_path):
    target = tmp_path / "checkpoint.npz"
    orphans = [_stale(tmp_path, "checkpoint.npz", 60), tmp_path / ".checkpoint.npz.zz_9xy12.tmp"]
    orphans[1].write_bytes(b"y")
    os.utime(orphans[1], (time.time() - 5, time.time() - 5))
    keep = [tmp_path / ".other.npz.a1b2c3d4.tmp", tmp_path / ".checkpoint.npz.notours.tmp",
            tmp_path / "checkpoint.npz.a1b2c3d4.tmp", tmp_path / "notes.txt"]
    for path in keep:
        path.write_bytes(b"user data")
    nn.save({"w": np.zeros(3)}, target)
    assert not any(p.exists() for p in orphans)
    assert all(p.read_bytes() == b"user data" for p in keep)
    np.testing.assert_array_equal(nn.load(target)["w"], np.zeros(3))


def test_a_temp_file_newer_than_the_current_write_is_left_alone(tmp_path, monkeypatch):
    target = tmp_path / "checkpoint.npz"
    newer = tmp_path / ".checkpoint.npz.n3w3r123.tmp"
    real = np.savez

    def concurrent(file, **arrays):  # another writer starts its temp file while this one writes
        newer.write_bytes(b"in progress")
        future = time.time() + 5
        os.utime(newer, (future, future))
        real(file, **arrays)

    monkeypatch.setattr(nn.checkpoint.np, "savez", concurrent)
    nn.save({"w": np.zeros(3)}, target)
    assert newer.exists()


def test_a_folder_or_a_fifo_is_refused_without_blocking(tmp_path):
    with pytest.raises(CheckpointError, match="folder"):
        nn.load(tmp_path)
    fifo = tmp_path / "pipe.npz"
    os.mkfifo(fifo)
    _check(fifo)


@pytest.mark.parametrize("rng", [np.zeros(()), {"bit_generator": "PCG64", "state": np.zeros(2)}, "PCG64",
                                 {"bit_generator": "MT19937"}])
def test_an_rng_entry_numpy_cannot_use_is_a_checkpoint_error(tmp_path, rng):  # found by the mutation fuzzer
    from tapegrad.experiment.state import load_checkpoint

    path = tmp_path / "checkpoint.npz"
    nn.save({"format": "tapegrad-experiment", "model_config": {"in_channels": 1, "num_classes": 2,
                                                                "image_size": 28, "dropout": 0.5},
             "classes": ["a", "b"], "mean": [0.5], "std": [0.2], "train_config": {"data": "embedded"},
             "model": {}, "optimizer": {}, "scheduler": {}, "rng": rng, "epoch": 1, "seconds": 1.0,
             "history": []}, path)
    with pytest.raises(CheckpointError, match="rng"):
        load_checkpoint(path)
