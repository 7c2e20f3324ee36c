"""Checkpoints: round trips (flat and nested), atomic writes, clear errors for missing/truncated/foreign
files, and PyTorch interop through the saved arrays."""

from __future__ import annotations

import os
from collections import OrderedDict

import numpy as np
import pytest
import torch
from tapegrad.autograd import Tensor
from tapegrad.nn import optim
from tapegrad.nn.checkpoint import META_KEY, CheckpointError

from tapegrad import nn


def _model():
    return nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.ReLU(), nn.Linear(4, 2))


def test_model_state_round_trip(tmp_path):
    model = _model()
    path = tmp_path / "model.npz"
    nn.save(model.state_dict(), path)
    loaded = nn.load(path)
    assert isinstance(loaded, OrderedDict) and list(loaded) == list(model.state_dict())
    for key, value in model.state_dict().items():
        assert loaded[key].dtype == value.dtype
        np.testing.assert_array_equal(loaded[key], value)
    fresh = _model()
    fresh.load_state_dict(loaded)
    x = Tensor(np.random.default_rng(0).standard_normal((5, 3)).astype(np.float32))
    np.testing.assert_array_equal(fresh.eval()(x).numpy(), model.eval()(x).numpy())
    # the archive is a plain .npz that NumPy reads without pickle, with the natural names
    with np.load(path, allow_pickle=False) as archive:
        assert set(archive.files) == set(model.state_dict()) | {META_KEY}


def test_nested_state_with_optimizer_round_trip(tmp_path):
    model = _model()
    opt = optim.Adam(model.parameters(), lr=0.01, amsgrad=True)
    model(Tensor(np.ones((4, 3), np.float32))).sum().backward()
    opt.step()
    state = {
        "model": model.state_dict(),
        "optimizer": opt.state_dict(),
        "epoch": 3,
        "note": None,
        "history": [0.5, 0.25],
        "shape": (2, 3),
    }
    nn.save(state, tmp_path / "ckpt.npz")
    loaded = nn.load(tmp_path / "ckpt.npz")
    assert loaded["epoch"] == 3 and loaded["note"] is None and loaded["history"] == [0.5, 0.25]
    assert loaded["shape"] == (2, 3)
    assert set(loaded["optimizer"]["state"]) == set(range(6))  # integer keys stay integers
    assert loaded["optimizer"]["param_groups"][0]["betas"] == (0.9, 0.999)  # tuples stay tuples
    np.testing.assert_array_equal(
        loaded["optimizer"]["state"][0]["exp_avg"], opt.state_dict()["state"][0]["exp_avg"]
    )
    opt2 = optim.Adam(_model().parameters(), lr=0.5)
    opt2.load_state_dict(loaded["optimizer"])
    assert opt2.param_groups[0]["lr"] == 0.01


def test_a_crash_mid_write_leaves_the_previous_checkpoint_intact(tmp_path, monkeypatch):
    path = tmp_path / "model.npz"
    first = {"w": np.arange(6.0).reshape(2, 3)}
    nn.save(first, path)
    before = path.read_bytes()

    def crash(file, **arrays):  # write half an archive, then die
        file.write(b"PK\x03\x04 partial")
        raise OSError("disk full (simulated)")

    monkeypatch.setattr(np, "savez", crash)
    with pytest.raises(OSError, match="simulated"):
        nn.save({"w": np.zeros(3)}, path)
    assert path.read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == ["model.npz"]  # no temporary file left behind
    monkeypatch.undo()
    np.testing.assert_array_equal(nn.load(path)["w"], first["w"])


def test_save_replaces_atomically_via_a_temp_file_in_the_same_directory(tmp_path, monkeypatch):
    calls = []
    real_replace = os.replace

    def spy(src, dst):
        calls.append((os.path.dirname(src), os.path.basename(src), dst))
        assert os.path.getsize(src) > 0
        return real_replace(src, dst)

    monkeypatch.setattr(os, "replace", spy)
    nn.save({"w": np.ones(2)}, tmp_path / "a.npz")
    ((directory, name, dst),) = calls
    assert directory == str(tmp_path) and name != "a.npz" and dst == str(tmp_path / "a.npz")


def test_missing_truncated_and_foreign_files_are_clear_errors(tmp_path):
    missing = tmp_path / "nope.npz"
    with pytest.raises(FileNotFoundError, match="nope.npz"):
        nn.load(missing)
    good = tmp_path / "good.npz"
    nn.save(_model().state_dict(), good)
    truncated = tmp_path / "truncated.npz"
    truncated.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    with pytest.raises(CheckpointError, match="truncated.npz.*not a readable tapegrad checkpoint"):
        nn.load(truncated)
    foreign = tmp_path / "foreign.npz"
    np.savez(foreign, weights=np.ones(3))
    with pytest.raises(CheckpointError, match="foreign.npz.*not a tapegrad checkpoint"):
        nn.load(foreign)
    text = tmp_path / "notes.txt"
    text.write_text("hello, I am not an archive\n")
    with pytest.raises(CheckpointError, match="notes.txt"):
        nn.load(text)
    torch_file = tmp_path / "model.pt"
    torch.save(torch.nn.Linear(2, 2).state_dict(), torch_file)
    with pytest.raises(CheckpointError, match="model.pt"):
        nn.load(torch_file)


def test_saving_into_a_missing_directory_names_it(tmp_path):
    with pytest.raises(FileNotFoundError, match="no_such_dir.*does not exist"):
        nn.save({"w": np.ones(2)}, tmp_path / "no_such_dir" / "m.npz")


def test_unsupported_values_are_refused_before_anything_is_written(tmp_path):
    with pytest.raises(TypeError, match="cannot store a object at 'x.y'"):
        nn.save({"x": {"y": object()}}, tmp_path / "bad.npz")
    assert os.listdir(tmp_path) == []


def test_torch_state_dict_saved_by_tapegrad_loads_into_both(tmp_path):
    twin = torch.nn.Sequential(
        torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4), torch.nn.ReLU(), torch.nn.Linear(4, 2)
    )
    path = tmp_path / "from_torch.npz"
    nn.save(twin.state_dict(), path)  # torch tensors are stored as arrays
    loaded = nn.load(path)
    ours = _model()
    ours.load_state_dict(loaded)
    back = torch.nn.Sequential(
        torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4), torch.nn.ReLU(), torch.nn.Linear(4, 2)
    )
    back.load_state_dict({k: torch.from_numpy(v) for k, v in nn.load(path).items()})
    x = np.random.default_rng(1).standard_normal((5, 3)).astype(np.float32)
    ref = back.eval()(torch.tensor(x)).detach().numpy()
    np.testing.assert_allclose(ours.eval()(Tensor(x)).numpy(), ref, rtol=1e-6, atol=1e-6)
    np.testing.assert_array_equal(ref, twin.eval()(torch.tensor(x)).detach().numpy())
