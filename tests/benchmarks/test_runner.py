"""The benchmark runner's machinery (not its timings): case list, block timing, the Tinyml reference's maths.

Timings are never asserted; these tests keep ``python -m benchmarks`` from rotting while nobody runs it.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from benchmarks import harness, run, tinyml  # noqa: E402


def test_every_case_is_listed_and_the_filter_selects_by_name_or_group() -> None:
    cases = run.all_cases()
    names = [c.name for c in cases]
    assert len(names) == len(set(names))
    assert {c.group for c in cases} == {"tape", "conv2d", "pool", "linear", "train", "deconv"}
    assert [c.name for c in run.select(cases, "pool")] == [n for n in names if n.startswith("max_pool2d")]
    assert all("(d)" in c.name for c in run.select(cases, "conv2d (d)"))


def test_command_line_lists_the_cases() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--list", "--cases", "tape"],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=True,
    ).stdout
    assert "tape overhead" in out and "conv2d" not in out


def test_measure_interleaves_blocks_and_reports_the_median_per_call() -> None:
    calls: list[str] = []
    timings = harness.measure(
        {"a": lambda: calls.append("a"), "b": lambda: calls.append("b")}, rounds=3, block_s=0.0, pause_s=0.0
    )
    assert set(timings) == {"a", "b"}
    assert all(len(t.rounds) == 3 and t.median_s >= 0 for t in timings.values())
    # after the warm-ups, one call per block (block_s=0), alternating with a rotating order
    assert calls[4:] == ["a", "b", "b", "a", "a", "b"]


def test_a_failing_implementation_is_left_out_and_the_others_still_run() -> None:
    def broken() -> None:
        raise RuntimeError("no such layer")

    timings = harness.measure({"ok": lambda: None, "broken": broken}, rounds=2, block_s=0.0, pause_s=0.0)
    assert set(timings) == {"ok"}


@pytest.mark.parametrize("shape, k, stride, padding", [((2, 3, 7, 6), 3, 1, 1), ((1, 2, 9, 9), 3, 2, 0)])
def test_tinyml_conv_matches_torch(shape: tuple[int, ...], k: int, stride: int, padding: int) -> None:
    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape)
    w = rng.standard_normal((4, shape[1], k, k))
    b = rng.standard_normal(4)
    ref = tinyml.Conv(shape, k, stride, padding)
    out, cols = ref.forward(x, w, b)
    g = rng.standard_normal(out.shape)
    dx, dw, db = ref.backward(g, cols, w)
    tx, tw, tb = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    tout = torch.nn.functional.conv2d(tx, tw, tb, stride=stride, padding=padding)
    tout.backward(torch.tensor(g))
    for ours, theirs in ((out, tout), (dx, tx.grad), (dw, tw.grad), (db, tb.grad)):
        np.testing.assert_allclose(ours, theirs.detach().numpy(), rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("k, stride", [(2, 2), (3, 2)])
def test_tinyml_max_pool_matches_torch(k: int, stride: int) -> None:
    x = np.random.default_rng(1).standard_normal((2, 3, 9, 9))
    ref = tinyml.MaxPool(x.shape, k, stride)
    out, arg = ref.forward(x)
    g = np.random.default_rng(2).standard_normal(out.shape)
    tx = torch.tensor(x, requires_grad=True)
    tout = torch.nn.functional.max_pool2d(tx, k, stride)
    tout.backward(torch.tensor(g))
    np.testing.assert_allclose(out, tout.detach().numpy())
    np.testing.assert_allclose(ref.backward(g, arg), tx.grad.numpy(), rtol=1e-12, atol=1e-12)


def test_the_machine_header_measures_the_pool_hand_off_only_when_there_is_a_pool_thread() -> None:
    from tapegrad.autograd import runtime

    from benchmarks import machine

    with runtime.num_threads(2):
        handoff = machine.handoff_latency(repeats=10, busy_s=0.0005)
    assert handoff is not None
    assert 0 < handoff["median_us"] <= handoff["p90_us"] and handoff["after_work_median_us"] > 0
    line = run._handoff_line(handoff)
    assert "hand-off" in line and f"{handoff['median_us']:.0f} us median" in line
    with runtime.num_threads(1):
        assert machine.handoff_latency(repeats=10) is None
