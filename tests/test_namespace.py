"""``import tapegrad as tg``: the torch-shaped namespace, and that importing it stays cheap."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
import torch

import tapegrad as tg

HEAVY = ("PIL", "graphviz", "matplotlib", "tqdm", "tapegrad.viz", "tapegrad.nn", "tapegrad.experiment", "torch")


def test_import_tapegrad_loads_no_viz_plotting_or_nn() -> None:
    code = ("import json, sys, time; t = time.perf_counter(); import tapegrad; s = time.perf_counter() - t; "
            f"print(json.dumps([[m for m in {HEAVY!r} if m in sys.modules], s]))")
    loaded, seconds = json.loads(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                                check=True).stdout)
    assert loaded == []
    # using a submodule loads it then, and only it
    code = "import sys, tapegrad as tg; tg.nn; print('PIL' in sys.modules, 'tapegrad.viz' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]


def test_submodules_and_aliases() -> None:
    import tapegrad.nn
    import tapegrad.nn.optim
    import tapegrad.viz

    assert tg.nn is tapegrad.nn and tg.viz is tapegrad.viz and tg.autograd is sys.modules["tapegrad.autograd"]
    assert tg.optim is tapegrad.nn.optim and tg.optim.SGD is tapegrad.nn.optim.SGD
    from tapegrad.optim.lr_scheduler import CosineAnnealingLR  # no second copy of the module

    assert CosineAnnealingLR is tapegrad.nn.optim.lr_scheduler.CosineAnnealingLR
    with pytest.raises(AttributeError, match="no attribute 'no_such_thing'"):
        tg.no_such_thing  # noqa: B018


def test_forwarded_ops_and_dtype_names() -> None:
    assert tg.exp is tg.autograd.exp and tg.softmax is tg.autograd.softmax
    assert "exp" in dir(tg) and "nn" in dir(tg)
    pairs = {"float32": torch.float32, "float64": torch.float64, "float16": torch.float16, "int64": torch.int64,
             "int32": torch.int32, "bool": torch.bool, "uint8": torch.uint8, "long": torch.long,
             "float": torch.float, "double": torch.double, "half": torch.half, "int": torch.int}
    for name, torch_dtype in pairs.items():
        assert np.dtype(getattr(tg, name)) == torch.empty(0, dtype=torch_dtype).numpy().dtype, name
        assert tg.zeros(2, dtype=getattr(tg, name)).dtype == getattr(tg, name)


def test_thread_budget_is_set_and_read_as_in_torch() -> None:
    from tapegrad.autograd import runtime

    assert tg.set_num_threads is runtime.set_num_threads and tg.get_num_threads is runtime.get_num_threads
    before, blas = tg.get_num_threads(), runtime.blas_threads()
    try:
        tg.set_num_threads(1)
        assert tg.get_num_threads() == 1 and tg.nn.get_num_threads() == 1 and runtime.blas_threads() == 1
    finally:
        tg.set_num_threads(before, blas or before)
    assert tg.get_num_threads() == before
    with pytest.raises(ValueError, match="positive int, got 0"):
        tg.set_num_threads(0)


def test_tensor_copies_as_tensor_and_from_numpy_share() -> None:
    a = np.zeros(3)
    copied, shared, wrapped = tg.tensor(a), tg.from_numpy(a), tg.as_tensor(a)
    a[0] = 5.0
    assert copied[0].item() == 0.0 and shared[0].item() == 5.0 and wrapped[0].item() == 5.0
    shared.data[1] = 7.0  # and the other way round, like torch.from_numpy
    assert a[1] == 7.0 and shared.dtype == np.float64
    assert tg.as_tensor(copied) is copied and tg.as_tensor(copied, dtype=tg.float32).dtype == np.float32
    with pytest.raises(TypeError, match="numpy.ndarray"):
        tg.from_numpy([1.0, 2.0])
    t = tg.tensor([[1, 2]], dtype=tg.float64, requires_grad=True)
    assert t.dtype == np.float64 and t.requires_grad and tg.is_tensor(t) and not tg.is_tensor(a)


def test_grad_modes() -> None:
    x = tg.ones(2, requires_grad=True)
    with tg.no_grad():
        assert not (x * 2).requires_grad
        with tg.enable_grad():
            assert (x * 2).requires_grad
    with tg.inference_mode():
        assert not (x * 2).requires_grad
    with tg.set_grad_enabled(False):
        assert not tg.is_grad_enabled()
    assert tg.is_grad_enabled()
    tg.set_grad_enabled(False)  # a plain call lasts, as in torch
    try:
        assert not (x * 2).requires_grad
    finally:
        tg.set_grad_enabled(True)

    @tg.no_grad()
    def f(t: tg.Tensor) -> tg.Tensor:
        return t * 2

    assert not f(x).requires_grad and tg.is_grad_enabled()


def test_join_and_select_are_bound() -> None:
    a, b = tg.tensor([1.0, 5.0]), tg.tensor([3.0, 2.0])
    assert tg.cat([a, b]).tolist() == [1.0, 5.0, 3.0, 2.0] and tg.stack([a, b]).shape == (2, 2)
    assert tg.maximum(a, b).tolist() == [3.0, 5.0] and tg.minimum(a, b).tolist() == [1.0, 2.0]
    assert tg.where(a > b, a, b).tolist() == [3.0, 5.0]
    assert tg.matmul(tg.eye(2), a.reshape(2, 1)).tolist() == [[1.0], [5.0]]

