"""Checkpoints across devices: saved from the GPU (the emulated CuPy in CI), they hold NumPy arrays, load on the
CPU, and load back onto the GPU; the optimizer's state moves with them."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import tapegrad.nn.functional as F
from tapegrad.autograd import Tensor, backend, manual_seed

from tapegrad import nn

pytestmark = pytest.mark.skipif(not backend.gpu_available(), reason="no GPU (CuPy) and not emulated")


def _model(device: str) -> nn.Module:
    manual_seed(0)
    return nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2), nn.ReLU(), nn.Flatten(), nn.Linear(8, 3)).to(device)


def _train_step(model: nn.Module, optimizer: nn.optim.Optimizer, device: str) -> None:
    x = Tensor(np.random.default_rng(1).standard_normal((4, 1, 4, 4)).astype(np.float32), device=device)
    loss = F.cross_entropy(model(x), Tensor(np.array([0, 1, 2, 0]), device=device))
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()


def test_saved_on_the_device_loads_on_the_cpu_and_back(tmp_path: Path) -> None:
    gpu_model = _model("cuda")
    optimizer = nn.optim.Adam(gpu_model.parameters(), lr=1e-2)
    _train_step(gpu_model, optimizer, "cuda")
    nn.save({"model": gpu_model.state_dict(), "optimizer": optimizer.state_dict()}, tmp_path / "ckpt.npz")

    state = nn.load(tmp_path / "ckpt.npz")
    assert all(type(v) is np.ndarray for v in state["model"].values())
    cpu_model = _model("cpu")
    cpu_model.load_state_dict(state["model"])
    cpu_state, gpu_state = cpu_model.state_dict(keep_vars=True), gpu_model.state_dict(keep_vars=True)
    for (name, p), q in zip(cpu_state.items(), gpu_state.values(), strict=True):
        assert p.device == "cpu" and q.device == "cuda", name
        np.testing.assert_array_equal(p.numpy(), q.numpy(), err_msg=name)

    back = _model("cuda")
    back_optimizer = nn.optim.Adam(back.parameters(), lr=1e-2)
    back.load_state_dict(state["model"])
    back_optimizer.load_state_dict(state["optimizer"])
    assert {p.device for p in back.parameters()} == {"cuda"}
    _train_step(back, back_optimizer, "cuda")  # the restored moments live on the device too (no DeviceError)
    _train_step(gpu_model, optimizer, "cuda")
    for p, q in zip(back.parameters(), gpu_model.parameters(), strict=True):
        np.testing.assert_allclose(p.numpy(), q.numpy(), rtol=1e-6, atol=1e-7)
