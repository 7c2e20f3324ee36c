"""Fuzzing the command line's arguments (issue 14, "Fuzzing"): whatever the argv, no traceback reaches the user.

Hypothesis builds argv for every sub-command from the parser itself: each option may appear, with a value
drawn from valid, boundary and hostile ones (negative counts, NaN learning rates, paths that are files,
folders, junk or missing, names with markup and newlines), plus stray tokens.  The outcome must be exit 0, a
usage error (2), or exit 1 with one ``tapegrad: error:`` line; never a traceback or an "internal error".
The embedded data set is cut to 32 images for this module, so a valid run takes a moment.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from tapegrad import nn
from tapegrad.cli.main import build_parser, main
from tests import fuzz_stats

VALID_INTS = {"epochs": ["1", "2"], "limit": ["2", "16", "40"], "batch_size": ["1", "4", "100000"],
              "image_size": ["8", "16", "٣٢"], "viz_channels": ["1", "2", "999"], "top_images": ["1", "4", "99999"],
              "seed": ["-5", "0", "7", "99999999999999999999999"], "threads": ["0", "1", "2", "1024"],
              "channels": ["1", "3"]}
INVALID = ["-1", "0", "x", "", "1e3", "0x10", "2.5", "99999999999999999999", "5000", "7"]
VALID_FLOATS = ["0", "1e-3", "3e-3", "0.5", "1e30", "1e308", "-0"]
INVALID_FLOATS = ["-1", "nan", "inf", "-inf", "x"]
HOSTILE = ["", "-", "--", "<img src=x onerror=alert(1)>", "a\nb", "😀", "--help"]


@pytest.fixture(scope="module")
def place(tmp_path_factory: pytest.TempPathFactory):
    """A working folder with a real checkpoint, an image, an image folder, junk and a .npy; tiny embedded data."""
    from tapegrad.experiment import datasets

    base = tmp_path_factory.mktemp("argfuzz")
    full = datasets.embedded_arrays()
    tiny = dict(full, train_images=full["train_images"][::50], train_labels=full["train_labels"][::50],
                test_images=full["test_images"][::250], test_labels=full["test_labels"][::250])
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(datasets, "embedded_arrays", lambda: tiny)
        mp.setenv("TAPEGRAD_FASHION_MNIST", str(base / "no-fashion-mnist"))
        mp.chdir(base)  # the default --out folders (runs/...) land here, not in the checkout
        rng = np.random.default_rng(0)
        for name in ("a", "b"):
            (base / "folder" / name).mkdir(parents=True)
            for i in range(3):
                pixels = rng.integers(0, 256, (9, 9, 3), dtype=np.uint8)
                Image.fromarray(pixels).save(base / "folder" / name / f"{i}.png")
        Image.fromarray(rng.integers(0, 256, (9, 9), dtype=np.uint8)).save(base / "image.png")
        (base / "junk.npz").write_bytes(b"junk")
        np.save(base / "array.npy", np.zeros(3))
        assert main(["train", "--epochs", "1", "--out", str(base / "run"), "--quiet"]) == 0
        yield base


def _subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


PARSERS = _subparsers(build_parser())


def _values(dest: str, action: argparse.Action, base: Path, n: int, valid: bool) -> list[str]:
    files = {"checkpoint": [base / "run" / "checkpoint.npz", base / "junk.npz", base / "array.npy", base / "folder",
                            base / "none.npz"],
             "data": ["embedded", "fashion-mnist", base / "folder", base / "junk.npz", base / "none",
                      base / "folder" / "a"],
             "image": [base / "image.png", base / "junk.npz", base / "folder", base / "none.png"],
             "layer": ["conv1", "relu2", "fc", "bn1", "conv9"],
             "out": [base / f"out{n}", base / f"out{n}" / "deep" / "er", base / "junk.npz", base / f"g{n}.svg",
                     base / f"g{n}.dot", base / f"g{n}.png", base / f"g{n}.xyz", base / "run", base / f"<x>\n{n}"]}
    files["resume"] = files["checkpoint"]
    if dest in files:
        return [str(v) for v in files[dest]]
    if action.choices:
        return [str(c) for c in action.choices] if valid else ["", "CPU", "none "]
    if dest in VALID_INTS:
        return VALID_INTS[dest] if valid else INVALID
    return VALID_FLOATS if valid else INVALID_FLOATS


@st.composite
def argvs(draw, base: Path) -> list[str]:
    command = draw(st.sampled_from(sorted(PARSERS)))
    n = draw(st.integers(0, 10**6))
    argv = [command]
    for action in PARSERS[command]._actions:
        if not action.option_strings or action.dest == "help":
            continue
        required = action.required
        if not required and draw(st.integers(0, 3)) != 3:  # each option in about a quarter of the runs
            continue
        argv.append(draw(st.sampled_from(action.option_strings)))
        if action.nargs != 0:
            kind = draw(st.integers(0, 9))  # mostly plausible values, some invalid, a few hostile
            pool = HOSTILE if kind == 0 else _values(action.dest, action, base, n, valid=kind > 1)
            argv.append(draw(st.sampled_from(pool)))
    if command in ("train", "demo") and "--epochs" not in argv:
        argv += ["--epochs", "1"]  # a valid default run would train 25 epochs: correct but slow here
    if draw(st.integers(0, 5)) == 0:  # now and then a stray token
        argv.append(draw(st.sampled_from(HOSTILE + ["extra"])))
    return argv


@settings(max_examples=max(25, settings.default.max_examples), suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_no_argv_gives_a_traceback(place: Path, capsys, data) -> None:
    argv = data.draw(argvs(place))
    if "--quiet" not in argv:
        argv.append("--quiet")
    status = main(argv)
    captured = capsys.readouterr()
    err = captured.err
    errors = [line for line in err.splitlines() if line.startswith("tapegrad: error:")]
    ok = "Traceback" not in err and "internal error" not in err and (
        status == 0 or (status == 2 and "usage:" in err) or (status == 1 and len(errors) == 1))
    outcome = {0: "ran", 1: "clean_error", 2: "usage_error"}.get(status, "other") if ok else "unclean"
    fuzz_stats.count("cli_arguments", outcome)
    assert ok, f"{argv}: status {status}\n{err}"
    if status == 0 and argv[0] == "train" and "--resume" not in argv:
        assert nn.load(Path(argv[argv.index("--out") + 1] if "--out" in argv else "runs/train") / "checkpoint.npz")


def teardown_module() -> None:
    fuzz_stats.dump()
