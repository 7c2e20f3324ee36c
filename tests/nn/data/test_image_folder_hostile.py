"""ImageFolder on hostile and unusual files (issue 14, defect 8).

A decompression bomb (a small file whose header claims 20000 x 20000 pixels) is an unreadable file like any
other: skipped with a warning naming it, or a DataError with ``on_error='raise'``.  A 16-bit PNG is scaled to
8 bits (65535 -> 255), not clipped to white.
"""

from __future__ import annotations

import struct
import warnings
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from tapegrad.nn.data import CorruptImageWarning, DataError, ImageFolder


def bomb_png(path: Path, width: int = 20000, height: int = 20000) -> Path:
    """A valid 4 x 4 PNG whose header is rewritten to claim ``width`` x ``height`` (a decompression bomb)."""
    Image.new("L", (4, 4)).save(path)
    data = bytearray(path.read_bytes())
    ihdr = data.index(b"IHDR")
    data[ihdr + 4:ihdr + 12] = struct.pack(">II", width, height)
    data[ihdr + 17:ihdr + 21] = struct.pack(">I", zlib.crc32(bytes(data[ihdr:ihdr + 17])))
    path.write_bytes(bytes(data))
    return path


def _folder(root: Path) -> Path:
    for c in ("a", "b"):
        (root / c).mkdir(parents=True)
        for i in range(2):
            Image.fromarray(np.full((8, 8, 3), 60 * i + 40 * (c == "b"), np.uint8)).save(root / c / f"{i}.png")
    return root


def test_a_decompression_bomb_is_skipped_with_a_warning_naming_it(tmp_path):
    root = _folder(tmp_path)
    bomb = bomb_png(root / "a" / "bomb.png")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ds = ImageFolder(root, image_size=8, on_error="warn")
    messages = [str(w.message) for w in caught if issubclass(w.category, CorruptImageWarning)]
    assert len(messages) == 1 and str(bomb) in messages[0] and "DecompressionBomb" in messages[0]
    assert len(ds) == 4 and ds.skipped == [bomb]


def test_a_decompression_bomb_raises_a_data_error_when_asked(tmp_path):
    root = _folder(tmp_path)
    bomb = bomb_png(root / "b" / "bomb.png")
    with pytest.raises(DataError, match=str(bomb)):
        ImageFolder(root, image_size=8, on_error="raise")


@pytest.mark.parametrize("channels", [1, 3])
def test_a_16_bit_png_is_scaled_not_clipped(tmp_path, channels):
    root = _folder(tmp_path)
    ramp = (np.arange(64, dtype=np.uint32).reshape(8, 8) * 1040).astype(np.uint16)  # 0 .. 65520
    Image.fromarray(ramp).save(root / "a" / "deep.png")
    assert Image.open(root / "a" / "deep.png").mode.startswith("I")
    ds = ImageFolder(root, image_size=8, channels=channels)
    index = [p.name for p, _ in ds.samples].index("deep.png")
    pixels = ds.images[index].astype(np.int64)
    grey = pixels if channels == 1 else pixels[..., 0]
    expected = np.round(ramp / 257.0)
    np.testing.assert_allclose(grey, expected, atol=1)
    assert grey.min() == 0 and 250 <= grey.max() <= 255 and len(np.unique(grey)) > 32
