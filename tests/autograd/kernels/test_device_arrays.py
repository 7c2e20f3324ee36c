"""No compiled (Numba) kernel ever receives a device array: the dispatcher sends device arrays to the NumPy
reference (which runs on CuPy through the array module), and the guard of tests/device_guard.py, on in every
emulated-device run, fails any compiled call that gets one anyway."""

from __future__ import annotations

import numpy as np
import pytest
import tapegrad.nn.functional as F
from tapegrad.autograd import Tensor, backend, kernels, manual_seed

from tapegrad import nn
from tests import device_guard

pytestmark = pytest.mark.skipif(not backend.gpu_available(), reason="no GPU (CuPy) and not emulated")


@pytest.fixture(autouse=True)
def compiled_kernels():  # noqa: ANN201
    device_guard.install()
    previous = kernels.set_kernels("compiled")
    yield
    kernels.set_kernels(previous)


def _step(device: str) -> float:
    manual_seed(0)
    model = nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(4, 4, 3), nn.ReLU(), nn.AvgPool2d(2), nn.Flatten(), nn.Dropout(0.5), nn.Linear(4, 3),
    ).to(device)
    x = Tensor(np.random.default_rng(0).standard_normal((4, 1, 8, 8)).astype(np.float32), device=device)
    y = Tensor(np.array([0, 1, 2, 1]), device=device)
    for optimizer in (nn.optim.Adam(model.parameters(), lr=1e-3), nn.optim.SGD(model.parameters(), lr=0.1,
                                                                                momentum=0.9)):
        loss = F.cross_entropy(model(x), y, label_smoothing=0.1)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return loss.item()


def test_every_kernel_chooses_the_reference_for_device_arrays() -> None:
    gpu = backend.cupy_module()
    device_array = gpu.ones((2, 3, 4, 4), dtype=np.float32)
    for name, kernel in kernels.REGISTRY.items():
        assert kernel.choose(*[device_array] * kernel.arrays) is kernel.reference, name


def test_a_device_training_step_calls_no_compiled_kernel() -> None:
    if kernels.get_kernels() != "compiled":
        pytest.skip("Numba is not installed: no compiled kernels to guard")
    device_guard.calls.clear()
    kernels.relu_forward(np.ones(3, np.float32))  # the guard is live: a NumPy call goes through it
    assert device_guard.calls == {"relu_forward": 1}
    cpu_loss = _step("cpu")  # (the CPU step uses compiled kernels once nn calls them)
    device_guard.calls.clear()
    cuda_loss = _step("cuda")  # any compiled call with a device argument raises inside
    assert device_guard.calls == {}, f"compiled kernels ran on the device path: {device_guard.calls}"
    assert cuda_loss == pytest.approx(cpu_loss, rel=1e-4)


def test_the_guard_fails_a_compiled_call_with_a_device_array() -> None:
    gpu = backend.cupy_module()
    with pytest.raises(AssertionError, match="relu_forward.*device array"):
        kernels.relu_forward.compiled(gpu.ones(3, dtype=np.float32))
