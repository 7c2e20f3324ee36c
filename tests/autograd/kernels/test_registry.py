"""The dispatcher: which twin runs, the switch, and that every registered kernel has a test module."""

from __future__ import annotations

import os
import pathlib

import numpy as np
import pytest
from tapegrad.autograd import kernels


def test_every_kernel_is_tested_by_name() -> None:
    text = "".join(p.read_text() for p in pathlib.Path(__file__).parent.glob("test_*.py"))
    missing = [name for name in kernels.REGISTRY if f"kernels.{name}" not in text]
    assert not missing, f"kernels without an equivalence test: {missing}"


def test_switch_chooses_the_twin() -> None:
    x = np.ones((2, 2), np.float32)
    previous = kernels.set_kernels("numpy")
    try:
        assert kernels.relu_forward.choose(x) is kernels.relu_forward.reference
        assert not kernels.relu_forward.compiled_for(x)
        assert kernels.get_kernels() == "numpy"
        kernels.set_kernels("compiled")
        if kernels.get_kernels() != "compiled":
            pytest.skip("Numba is not installed")
        assert kernels.relu_forward.choose(x) is kernels.relu_forward.compiled
        assert kernels.relu_forward.compiled_for(x) and not kernels.relu_forward.compiled_for(x.astype(np.int64))
        # integer arrays and other array types always take the NumPy path
        assert kernels.relu_forward.choose(x.astype(np.int64)) is kernels.relu_forward.reference
        assert kernels.relu_forward.choose(np.float16(x)) is kernels.relu_forward.reference
    finally:
        kernels.set_kernels(previous)


def test_bad_kernel_set_names_the_choices() -> None:
    with pytest.raises(ValueError, match="numpy"):
        kernels.set_kernels("fast")


def test_cache_dir_falls_back_when_the_package_is_read_only(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    from tapegrad.autograd.kernels import _compile

    monkeypatch.delenv("NUMBA_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setattr(_compile.os, "access", lambda *args: False)
    assert _compile.cache_dir() == tmp_path / "tapegrad" / "numba"


def test_without_numba_one_warning_and_numpy_results() -> None:
    """A process where Numba cannot be imported: one RuntimeWarning naming Numba, and the NumPy results."""
    import subprocess
    import sys

    code = (
        "import sys, warnings; sys.modules['numba'] = None\n"
        "warnings.simplefilter('always')\n"
        "import numpy as np\n"
        "with warnings.catch_warnings(record=True) as caught:\n"
        "    from tapegrad.autograd import kernels\n"
        "    x = np.array([-1.0, 2.0], np.float32)\n"
        "    a = kernels.relu_forward(x); b = kernels.relu_forward(x)\n"
        "assert kernels.get_kernels() == 'numpy'\n"
        "assert a.tolist() == [0.0, 2.0] and b.tolist() == [0.0, 2.0]\n"
        "messages = [str(w.message) for w in caught if 'Numba' in str(w.message)]\n"
        "assert len(messages) == 1, messages\n"
    )
    env = {**os.environ, "TAPEGRAD_KERNELS": "compiled"}  # the compiled set asked for (the default), Numba missing
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=env)
    assert result.returncode == 0, result.stderr


def test_compiled_kernels_follow_the_thread_budget() -> None:
    from tapegrad.autograd import runtime

    if kernels.get_kernels() != "compiled":
        pytest.skip("Numba is not installed")
    import numba

    previous = runtime.get_num_threads()
    x, g = np.ones((1, 1, 4, 4), np.float32), (2, 2, 2, 2, 0, 0, 1, 1, 4, 4, 2, 2)  # avg_pool: a parallel kernel
    with runtime.num_threads(1):
        kernels.avg_pool(x, g, 0.25)
        assert numba.get_num_threads() == 1
    kernels.avg_pool(x, g, 0.25)
    assert numba.get_num_threads() == min(previous, numba.config.NUMBA_NUM_THREADS)


def test_small_arrays_run_the_serial_twin_and_agree(monkeypatch: pytest.MonkeyPatch) -> None:
    """Below PARALLEL_MIN_ELEMENTS a parallel kernel runs its serial compilation; both give the reference."""
    from tapegrad.autograd.kernels import _compile, avgpool

    x = np.linspace(-2, 2, 64, dtype=np.float32).reshape(1, 1, 8, 8)
    g = (2, 2, 2, 2, 0, 0, 1, 1, 8, 8, 4, 4)
    parallel = avgpool.avg_pool_compiled(x, g, 0.25)
    monkeypatch.setattr(_compile, "PARALLEL_MIN_ELEMENTS", 1 << 30)
    serial = avgpool.avg_pool_compiled(x, g, 0.25)
    np.testing.assert_array_equal(serial, avgpool.avg_pool_numpy(x, g, 0.25))
    np.testing.assert_array_equal(parallel, serial)
