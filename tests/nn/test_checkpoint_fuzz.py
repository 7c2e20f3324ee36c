"""Fuzzing ``nn.load`` (and the CLI's checkpoint loading) with Hypothesis-made files (issue 14, "Fuzzing").

Random bytes, truncated or bit-flipped real checkpoints, zips with hostile members (raw bytes, odd dtypes,
arrays whose header declares terabytes, pickled objects whose unpickling would create a marker file) and odd
or deep metadata: ``nn.load`` returns a state or raises ``CheckpointError``, nothing else, and never runs code.
Few examples under the ``ci`` profile, many under ``heavy``.
"""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tapegrad.nn.checkpoint import META_KEY, CheckpointError

from tapegrad import nn
from tests import fuzz_stats

MARKER = Path("/tmp") / "tapegrad-fuzz-pickle-ran"  # created only if a pickle payload is ever executed


class _Payload:
    def __reduce__(self):  # unpickling calls open(MARKER, "w"): the file appears if any code ran
        return (open, (str(MARKER), "w"))


def _npy(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=True)
    return buffer.getvalue()


def _huge_header(shape: tuple[int, ...], descr: str) -> bytes:
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(buffer, {"descr": descr, "fortran_order": False, "shape": shape})
    return buffer.getvalue() + b"\0" * 16


def _base_checkpoint() -> bytes:
    buffer = io.BytesIO()
    path = Path("/tmp") / f"tapegrad-fuzz-base-{id(buffer)}.npz"
    nn.save({"model": {"w": np.arange(12, dtype=np.float32).reshape(3, 4), "b": np.zeros(3)},
             "optimizer": {"state": {0: {"step": 3.0, "exp_avg": np.ones((3, 4))}}, "param_groups": []},
             "classes": ["a", "b"], "epoch": 2, "rng": {"state": {"state": 1, "inc": 2}}}, path)
    data = path.read_bytes()
    path.unlink()
    return data


BASE = _base_checkpoint()

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-2**70, 2**70) | st.floats() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
    max_leaves=20)
nodes = st.recursive(
    st.builds(lambda v: {"value": v}, json_values) | st.builds(lambda n: {"array": n}, st.sampled_from(["w", "x", ""])),
    lambda inner: st.builds(lambda items: {"list": items}, st.lists(inner, max_size=3))
    | st.builds(lambda items: {"tuple": items}, st.lists(inner, max_size=3))
    | st.builds(lambda kv, o: {"dict": [[k, v] for k, v in kv], "ordered": o},
                st.lists(st.tuples(st.one_of(st.text(max_size=4), st.integers(), st.booleans()), inner), max_size=3),
                st.booleans()),
    max_leaves=12)


@st.composite
def deep_trees(draw):
    depth = draw(st.integers(0, 6000))
    kind = draw(st.sampled_from(["list", "tuple"]))
    return f'{{"{kind}": [' * depth + '{"value": 1}' + "]}" * depth


@st.composite
def metadata(draw) -> bytes:
    choice = draw(st.integers(0, 3))
    if choice == 0:
        return json.dumps(draw(json_values)).encode()
    if choice == 1:
        meta = {"format": draw(st.sampled_from(["tapegrad-checkpoint", "other"])),
                "version": draw(st.one_of(st.integers(-1, 3), st.text(max_size=2), st.none())), "tree": draw(nodes)}
        return json.dumps(meta).encode()
    if choice == 2:
        return ('{"format": "tapegrad-checkpoint", "version": 1, "tree": ' + draw(deep_trees()) + "}").encode()
    return draw(st.binary(max_size=64))


@st.composite
def members(draw) -> tuple[str, bytes]:
    name = draw(st.one_of(st.just(META_KEY + ".npy"), st.sampled_from(["w.npy", "x.npy", "../up.npy", "/abs.npy",
                                                                         "dir/", "w", "é\n.npy"]),
                          st.text(min_size=1, max_size=10).filter(lambda t: "\x00" not in t)  # zipfile
                          .map(lambda t: t + ".npy")))  # cuts a name at NUL and then fails itself
    kind = draw(st.integers(0, 6))
    if kind == 0:
        content = draw(st.binary(max_size=200))
    elif kind == 1:  # a metadata-like uint8 entry
        content = _npy(np.frombuffer(draw(metadata()), np.uint8))
    elif kind == 2:  # an ordinary array of some dtype
        dtype = draw(st.sampled_from(["f2", "f4", "f8", "i1", "u8", "c16", "?", "U3", "S2", "V4", "[('a','<i4')]"]))
        shape = draw(st.lists(st.integers(0, 3), max_size=3))
        content = _npy(np.zeros(shape, dtype=eval(dtype) if dtype.startswith("[") else dtype))
    elif kind == 3:  # pickled objects: unpickling would run code
        content = _npy(np.array([_Payload(), {"a": 1}], dtype=object))
    elif kind == 4:  # a header that declares far more data than the entry holds
        content = _huge_header(tuple(draw(st.lists(st.integers(1, 10**7), min_size=1, max_size=3))),
                               draw(st.sampled_from(["<f8", "|O", "<i4"])))
    elif kind == 5:  # the metadata entry with another dtype or shape
        content = _npy(np.frombuffer(b'{"format": "tapegrad-checkpoint"}', np.uint8).astype(
            draw(st.sampled_from(["f8", "u2", "i1"]))).reshape(draw(st.sampled_from([(-1,), (1, -1)]))))
    else:
        content = _npy(np.arange(5.0))[: draw(st.integers(0, 100))]
    return name, content


@st.composite
def archives(draw) -> bytes:
    kind = draw(st.integers(0, 3))
    if kind == 0:
        prefix = draw(st.sampled_from([b"", b"PK\x03\x04", b"PK\x05\x06", b"\x93NUMPY"]))
        return prefix + draw(st.binary(max_size=400))
    if kind == 1:  # a real checkpoint, cut and/or with flipped bytes
        data = bytearray(BASE[: draw(st.integers(0, len(BASE)))])
        for position in draw(st.lists(st.integers(0, max(len(data) - 1, 0)), max_size=4)):
            if data:
                data[position] ^= draw(st.integers(1, 255))
        return bytes(data)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", draw(st.sampled_from([zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED]))) as z:
        for name, content in draw(st.lists(members(), min_size=1, max_size=4)):
            z.writestr(name, content)
    if kind == 3:
        return buffer.getvalue()[: draw(st.integers(0, len(buffer.getvalue())))]
    return buffer.getvalue()


EXAMPLES = max(60, settings.default.max_examples * 8)  # ci: 200 (about 2 s); heavy: 3200


@pytest.fixture(scope="module", autouse=True)
def _stats():
    MARKER.unlink(missing_ok=True)
    yield
    fuzz_stats.dump()
    assert not MARKER.exists(), "a pickled payload was executed"


@pytest.mark.filterwarnings("ignore:Duplicate name")
@settings(max_examples=EXAMPLES, suppress_health_check=list(HealthCheck))
@given(data=archives())
def test_load_returns_a_state_or_raises_checkpoint_error(tmp_path_factory, data: bytes) -> None:
    path = tmp_path_factory.mktemp("ckpt") / "fuzzed.npz"
    path.write_bytes(data)
    try:
        nn.load(path)
        fuzz_stats.count("checkpoint_load", "loaded")
    except CheckpointError as exc:
        assert str(path) in str(exc) and "allow_pickle" not in str(exc)
        fuzz_stats.count("checkpoint_load", "clean_error")
    except Exception:
        fuzz_stats.count("checkpoint_load", "other_exception")
        raise
    assert not MARKER.exists()


@pytest.mark.filterwarnings("ignore:Duplicate name")
@settings(max_examples=max(10, settings.default.max_examples), suppress_health_check=list(HealthCheck))
@given(data=archives(), command=st.sampled_from(["evaluate", "graph", "visualize", "train"]))
def test_the_cli_gives_one_clean_error_for_any_checkpoint_file(tmp_path_factory, capsys, data: bytes,
                                                               command: str) -> None:
    from tapegrad.cli.main import main

    folder = tmp_path_factory.mktemp("cli")
    path = folder / "checkpoint.npz"
    path.write_bytes(data)
    argv = {"evaluate": ["evaluate", "--checkpoint", str(path)],
            "graph": ["graph", "--checkpoint", str(path), "--out", str(folder / "g.dot")],
            "visualize": ["visualize", "--checkpoint", str(path), "--layer", "conv1", "--out", str(folder / "v")],
            "train": ["train", "--resume", str(path)]}[command]
    status = main([*argv, "--quiet"])
    err = capsys.readouterr().err
    clean = status == 1 and "Traceback" not in err and "internal error" not in err \
        and sum(line.startswith("tapegrad: error:") for line in err.splitlines()) == 1
    fuzz_stats.count("checkpoint_cli", "clean_error" if clean else "unclean")
    assert clean, err
    assert not MARKER.exists()


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real ``tapegrad train`` checkpoint (8 x 8 images, one epoch) for the mutation fuzzer."""
    from PIL import Image

    from tapegrad.cli.main import main

    base = tmp_path_factory.mktemp("trained")
    rng = np.random.default_rng(0)
    for name in ("a", "b"):
        (base / "data" / name).mkdir(parents=True)
        for i in range(4):
            Image.fromarray(rng.integers(0, 256, (10, 10, 3), dtype=np.uint8)).save(base / "data" / name / f"{i}.png")
    assert main(["train", "--data", str(base / "data"), "--image-size", "8", "--epochs", "1", "--out",
                 str(base / "run"), "--quiet"]) == 0
    return base / "run" / "checkpoint.npz"


def _paths(state, prefix=()):
    if isinstance(state, dict):
        for key, value in state.items():
            yield (*prefix, key)
            yield from _paths(value, (*prefix, key))
    elif isinstance(state, list):
        for i, value in enumerate(state):
            yield (*prefix, i)
            yield from _paths(value, (*prefix, i))


replacements = st.one_of(
    json_values,
    st.builds(lambda shape, dtype: np.zeros(shape, dtype), st.lists(st.integers(0, 4), max_size=4),
              st.sampled_from(["f4", "f8", "i8", "u1", "?", "f2", "c8"])),
    st.integers(0, 8).map(lambda d: [[[]]] * d),
)


@settings(max_examples=max(10, settings.default.max_examples), suppress_health_check=list(HealthCheck))
@given(data=st.data(), command=st.sampled_from(["evaluate", "train", "graph"]))
def test_a_train_checkpoint_with_any_entry_replaced_gives_a_result_or_one_clean_error(
        trained, tmp_path_factory, capsys, data, command) -> None:
    """Wrong dtypes, shapes and types anywhere in a real checkpoint: exit 0, or 1 with one clean line."""
    from tapegrad.cli.main import main

    state = nn.load(trained)
    paths = sorted(_paths(state), key=repr)
    where = data.draw(st.sampled_from(paths))
    parent = state
    for key in where[:-1]:
        parent = parent[key]
    parent[where[-1]] = data.draw(replacements)
    folder = tmp_path_factory.mktemp("mutated")
    path = folder / "checkpoint.npz"
    try:
        nn.save(state, path)
    except TypeError:  # a value save itself refuses: nothing to load
        return
    argv = {"evaluate": ["evaluate", "--checkpoint", str(path)],
            "train": ["train", "--resume", str(path), "--out", str(folder / "resumed")],
            "graph": ["graph", "--checkpoint", str(path), "--out", str(folder / "g.dot")]}[command]
    status = main([*argv, "--quiet"])
    err = capsys.readouterr().err
    errors = [line for line in err.splitlines() if line.startswith("tapegrad: error:")]
    clean = "Traceback" not in err and "internal error" not in err and (
        (status == 0 and not errors) or (status == 1 and len(errors) == 1))
    fuzz_stats.count("checkpoint_mutated", ("ran" if status == 0 else "clean_error") if clean else "unclean")
    assert clean, f"{where}: {err}"
