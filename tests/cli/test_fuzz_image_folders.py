"""Fuzzing ``tapegrad train --report`` / ``evaluate`` with Hypothesis-made image folders (issue 14, "Fuzzing").

Class and file names with HTML, quotes, Unicode and newlines; images in odd modes (1, P, LA, I;16, I, F, CMYK)
and sizes (1 x 1 up), in several formats; truncated files, random bytes, empty files and decompression bombs.
Each run exits 0 or 1 with one ``tapegrad: error:`` line, and every HTML page written shows the names as text
(checked with html.parser).  A handful of folders under the ``ci`` profile, many more under ``heavy``.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from tapegrad.cli.main import main
from tests import fuzz_stats
from tests.nn.data.test_image_folder_hostile import bomb_png
from tests.safe_html import assert_report_is_safe, assert_svg_is_safe

ALPHABET = list("<>\"'&;=() abcxyz\n\té漢😀\u202e#%?") + ["<img src=x onerror=alert(1)>", "<table>", "&amp;"]
names = st.lists(st.sampled_from(ALPHABET), min_size=1, max_size=5).map("".join).filter(
    lambda n: n.strip(" .") != "" and not n.startswith("."))
MODES = ["1", "L", "LA", "P", "RGB", "RGBA", "I;16", "I", "F", "CMYK"]
FORMATS = {".png": "PNG", ".jpg": "JPEG", ".tif": "TIFF", ".gif": "GIF", ".bmp": "BMP", ".webp": "WEBP"}


def _image_bytes(mode: str, size: tuple[int, int], fmt: str, seed: int) -> bytes:
    rng = np.random.default_rng(seed)
    base = Image.fromarray(rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8))
    if mode == "I;16":
        image = Image.fromarray(rng.integers(0, 65536, (size[1], size[0]), dtype=np.uint16))
    elif mode in ("I", "F"):
        image = Image.fromarray(rng.integers(0, 65536, (size[1], size[0])).astype(np.int32 if mode == "I" else
                                                                                    np.float32), mode)
    else:
        image = base.convert(mode)
    buffer = io.BytesIO()
    try:
        image.save(buffer, format=fmt)
    except (OSError, ValueError, KeyError):  # this format cannot hold this mode: a PNG of it instead
        buffer = io.BytesIO()
        image.convert("RGB").save(buffer, format="PNG")
    return buffer.getvalue()


@st.composite
def image_file(draw) -> tuple[str, bytes | None]:
    """(file name, content); content None means a decompression bomb."""
    ext = draw(st.sampled_from([*FORMATS, ".txt", ".jpeg"]))
    name = draw(names) + ext
    kind = draw(st.sampled_from(["image", "image", "image", "truncated", "random", "empty", "bomb"]))
    if kind == "bomb":
        return name[: -len(ext)] + ".png", None
    if kind == "random":
        return name, draw(st.binary(max_size=300))
    if kind == "empty":
        return name, b""
    content = _image_bytes(draw(st.sampled_from(MODES)), (draw(st.integers(1, 40)), draw(st.integers(1, 40))),
                           FORMATS.get(ext, "PNG"), draw(st.integers(0, 1000)))
    if kind == "truncated":
        content = content[: draw(st.integers(0, max(len(content) - 1, 0)))]
    return name, content


@st.composite
def folders(draw) -> dict[str, list[tuple[str, bytes | None]]]:
    classes = draw(st.lists(names, min_size=1, max_size=3, unique_by=lambda n: n.lower()))
    return {c: draw(st.lists(image_file(), min_size=1, max_size=5, unique_by=lambda f: f[0].lower()))
            for c in classes}


def _write(root: Path, spec: dict[str, list[tuple[str, bytes | None]]]) -> None:
    for cls, files in spec.items():
        (root / cls).mkdir(parents=True, exist_ok=True)
        for name, content in files:
            if content is None:
                bomb_png(root / cls / name)
            else:
                (root / cls / name).write_bytes(content)


def _clean(status: int, err: str) -> bool:
    errors = [line for line in err.splitlines() if line.startswith("tapegrad: error:")]
    return "Traceback" not in err and "internal error" not in err and (
        (status == 0 and not errors) or (status == 1 and len(errors) == 1))


@settings(max_examples=max(4, settings.default.max_examples // 5), suppress_health_check=list(HealthCheck))
@given(spec=folders(), data_name=names, report=st.booleans())
def test_train_and_evaluate_on_any_folder_exit_cleanly_and_write_safe_html(tmp_path_factory, capsys, spec,
                                                                           data_name, report) -> None:
    base = tmp_path_factory.mktemp("fuzz")
    data, out = base / data_name, base / "run"
    _write(data, spec)
    argv = ["train", "--data", str(data), "--image-size", "8", "--epochs", "1", "--batch-size", "4",
            "--out", str(out), "--viz-channels", "1", "--top-images", "4", "--quiet"]
    status = main([*argv, "--report"] if report else argv)
    err = capsys.readouterr().err
    fuzz_stats.count("image_folder_train", "ran" if status == 0 else "clean_error")
    assert _clean(status, err), err
    shown = [c for c in spec if "\r" not in c]
    for page in base.rglob("*.html"):
        assert_report_is_safe(page, shown if status == 0 else [])
    for svg in base.rglob("*.svg"):
        assert_svg_is_safe(svg)
    if status == 0:
        status = main(["evaluate", "--checkpoint", str(out / "checkpoint.npz"), "--data", str(data), "--quiet"])
        err = capsys.readouterr().err
        fuzz_stats.count("image_folder_evaluate", "ran" if status == 0 else "clean_error")
        assert _clean(status, err), err


def teardown_module() -> None:
    fuzz_stats.dump()
