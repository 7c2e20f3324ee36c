"""The backend uses the emulated CuPy only when ``TAPEGRAD_EMULATE_CUDA=1``: without it the double is never
imported (it is no part of the core's import path) and 'cuda' means the real CuPy or no GPU at all."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest
from tapegrad.autograd import DeviceError, Tensor, backend

PROBE = (
    "import sys; import tapegrad, tapegrad.nn, tapegrad.viz; from tapegrad.autograd import backend; "
    "ok = backend.gpu_available(); "
    "print(ok, any('emulated_cupy' in m for m in sys.modules), 'tapegrad.testing' in sys.modules)"
)


def _probe(**env: str) -> list[str]:
    environ = {k: v for k, v in os.environ.items() if k != "TAPEGRAD_EMULATE_CUDA"} | env
    out = subprocess.run([sys.executable, "-c", PROBE], env=environ, capture_output=True, text=True, check=True)
    return out.stdout.split()


def test_the_double_is_imported_only_when_asked_for() -> None:
    real_gpu, emulated_loaded, testing_loaded = _probe()
    assert emulated_loaded == "False" and testing_loaded == "False"
    assert _probe(TAPEGRAD_EMULATE_CUDA="1") == ["True", "True", "False"]
    assert real_gpu in ("True", "False")  # True only where CuPy sees a real GPU


@pytest.mark.skipif(not backend.emulated(), reason="about the emulated device")
def test_cuda_tensors_hold_emulated_device_arrays() -> None:
    t = Tensor(np.arange(3.0), device="cuda")
    assert t.device == "cuda" and type(t.data).__module__.endswith("emulated_cupy.ndarray")
    assert backend.array_module(t.data) is backend.cupy_module()
    with pytest.raises(TypeError, match="implicitly"):
        np.asarray(t)  # as torch: no silent copy of a GPU tensor
    np.testing.assert_array_equal(t.numpy(), [0.0, 1.0, 2.0])


@pytest.mark.skipif(not backend.gpu_available(), reason="no GPU (CuPy) and not emulated")
def test_mixed_devices_name_both() -> None:
    with pytest.raises(DeviceError, match=r"Mul: .* on cuda, .* on cpu"):
        Tensor(np.ones(2), device="cuda") * Tensor(np.ones(2), device="cpu")


def test_default_device_follows_set_default_device(monkeypatch: pytest.MonkeyPatch) -> None:
    if not backend.gpu_available():
        pytest.skip("no GPU (CuPy) and not emulated")
    monkeypatch.setattr(backend, "_default_device", "cpu")
    backend.set_default_device("cuda")
    assert Tensor([1.0]).device == "cuda" and backend.get_default_device() == "cuda"
    assert Tensor([1.0], device="cpu").device == "cpu"
    backend.set_default_device("cpu")
    assert Tensor([1.0]).device == "cpu"
