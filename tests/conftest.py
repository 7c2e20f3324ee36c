"""Shared test settings: Hypothesis profiles and the device each test runs on.

Profiles: ``ci`` (the default: few examples, no deadline, so the suite stays fast on 2 cores) and ``heavy``
(many more examples).  Pick one with ``TAPEGRAD_HYPOTHESIS_PROFILE=heavy``.
"""

from __future__ import annotations

import os

# The device 'cuda' is the emulated CuPy in the test run unless a real GPU run asks otherwise
# (TAPEGRAD_EMULATE_CUDA=0, as scripts/gpu_check.sh does): read by the backend when CuPy is first asked for.
os.environ.setdefault("TAPEGRAD_EMULATE_CUDA", "1")

import pytest  # noqa: E402
from hypothesis import HealthCheck, settings  # noqa: E402

settings.register_profile(
    "ci",
    max_examples=25,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
)
settings.register_profile(
    "heavy",
    max_examples=400,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
)
settings.load_profile(os.environ.get("TAPEGRAD_HYPOTHESIS_PROFILE", "ci"))


def pytest_configure(config: pytest.Config) -> None:
    """``TAPEGRAD_TEST_DEVICE=cuda``: the whole run with new tensors on the GPU (scripts/test.sh's second pass)."""
    config.addinivalue_line("markers", "host_only: about NumPy operands or CPU defaults; the device pass deselects it")
    if os.environ.get("TAPEGRAD_EMULATE_CUDA") == "1":  # no compiled CPU kernel may see a device array
        from tests import device_guard

        device_guard.install()
    device = os.environ.get("TAPEGRAD_TEST_DEVICE")
    if device:
        from tapegrad.autograd.backend import set_default_device

        set_default_device(device)


def pytest_collection_modifyitems(config: pytest.Config, items: list) -> None:
    """The device pass deselects (not skips) the ``host_only`` tests: they ran in the first pass."""
    if not os.environ.get("TAPEGRAD_TEST_DEVICE"):
        return
    kept = [item for item in items if item.get_closest_marker("host_only") is None]
    if len(kept) != len(items):
        config.hook.pytest_deselected(items=[item for item in items if item not in kept])
        items[:] = kept


def _devices() -> list:
    from tapegrad.autograd.backend import gpu_available

    if os.environ.get("TAPEGRAD_TEST_DEVICE"):  # the device pass: the cpu variants ran in the first pass
        return [os.environ["TAPEGRAD_TEST_DEVICE"]]
    cuda = pytest.param("cuda", marks=pytest.mark.skipif(not gpu_available(), reason="no GPU (CuPy) available"))
    return ["cpu", cuda]


@pytest.fixture(params=_devices())
def device(request: pytest.FixtureRequest) -> str:
    """Run a test once on the CPU and once on the GPU: the emulated CuPy in CI (TAPEGRAD_EMULATE_CUDA=1, set
    above), a real one under scripts/gpu_check.sh; the GPU run skips, saying so, only when neither is there."""
    return request.param


@pytest.fixture
def no_gpu(monkeypatch: pytest.MonkeyPatch) -> None:
    """The backend as on a machine without CuPy or GPU, for the tests of what 'cuda' then says."""
    from tapegrad.autograd import backend

    monkeypatch.setattr(backend, "_cupy", None)
    monkeypatch.setattr(backend, "_cupy_checked", True)
    monkeypatch.setattr(backend, "_default_device", "cpu")


@pytest.fixture
def world_of_one(monkeypatch: pytest.MonkeyPatch):  # noqa: ANN201 - a generator fixture
    """A process group of this process alone, as in a run not started by mpiexec (the launchers' variables
    removed), destroyed afterwards (tests/distributed and tests/nn/parallel use it)."""
    import tapegrad.distributed as dist

    for name in ("PMI_SIZE", "PMI_RANK", "OMPI_COMM_WORLD_SIZE", "OMPI_COMM_WORLD_RANK", "PMIX_RANK", "PMIX_SIZE",
                 "MPI_LOCALNRANKS"):
        monkeypatch.delenv(name, raising=False)
    dist.init_process_group()
    yield
    dist.destroy_process_group()
