"""IDX files (plain and gzip) and FashionMNIST reading them from any folder."""

from __future__ import annotations

import gzip
import struct
from pathlib import Path

import numpy as np
import pytest
from tapegrad.nn.data import DataError, DatasetNotFoundError, FashionMNIST, read_idx, write_idx
from tapegrad.nn.data.fashion_mnist import DEFAULT_ROOT


def _idx_bytes(array: np.ndarray, code: int) -> bytes:
    """An IDX file written by hand from the format's definition (independent of write_idx)."""
    header = struct.pack(">BBBB", 0, 0, code, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.astype(array.dtype.newbyteorder(">")).tobytes()


@pytest.mark.parametrize("compress", [False, True])
@pytest.mark.parametrize("dtype, code", [(np.uint8, 0x08), (np.int16, 0x0B), (np.int32, 0x0C),
                                         (np.float32, 0x0D), (np.float64, 0x0E)])
def test_read_hand_written_files(tmp_path: Path, compress: bool, dtype: type, code: int) -> None:
    array = (np.random.default_rng(0).random((3, 4, 5)) * 100).astype(dtype)
    payload = _idx_bytes(array, code)
    path = tmp_path / "x.idx"
    path.write_bytes(gzip.compress(payload) if compress else payload)  # no .gz suffix: detected by content
    got = read_idx(path)
    assert got.dtype == np.dtype(dtype) and got.shape == (3, 4, 5)
    np.testing.assert_array_equal(got, array)


def test_write_then_read(tmp_path: Path) -> None:
    labels = np.arange(7, dtype=np.uint8)
    write_idx(tmp_path / "l.gz", labels)
    assert (tmp_path / "l.gz").read_bytes()[:2] == b"\x1f\x8b"
    np.testing.assert_array_equal(read_idx(tmp_path / "l.gz"), labels)


def test_malformed_files_name_the_path(tmp_path: Path) -> None:
    good = _idx_bytes(np.zeros((2, 3), np.uint8), 0x08)
    cases = {"magic": b"\x01" + good[1:], "type": good[:2] + b"\x07" + good[3:], "short": good[:-1],
             "header": good[:6], "gz": b"\x1f\x8b broken gzip"}
    for name, payload in cases.items():
        path = tmp_path / name
        path.write_bytes(payload)
        with pytest.raises(DataError, match=str(path)):
            read_idx(path)


def _fake_fashion(root: Path, gz: bool) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(1)
    images = rng.integers(0, 256, (5, 28, 28), dtype=np.uint8)
    labels = rng.integers(0, 10, 5).astype(np.uint8)
    suffix = ".gz" if gz else ""
    for stem in ("train", "t10k"):
        write_idx(root / f"{stem}-images-idx3-ubyte{suffix}", images)
        write_idx(root / f"{stem}-labels-idx1-ubyte{suffix}", labels)
    return images, labels


@pytest.mark.parametrize("gz", [False, True])
def test_fashion_mnist_from_a_folder(tmp_path: Path, gz: bool) -> None:
    images, labels = _fake_fashion(tmp_path, gz)
    ds = FashionMNIST(tmp_path, train=False)
    assert len(ds) == 5 and ds.classes[6] == "Shirt"
    image, label = ds[3]
    np.testing.assert_array_equal(image, images[3])
    assert label == labels[3]


def test_fashion_mnist_missing_says_how_to_get_it(tmp_path: Path) -> None:
    with pytest.raises(DatasetNotFoundError, match="apt-get install dataset-fashion-mnist"):
        FashionMNIST(tmp_path)


@pytest.mark.skipif(not (DEFAULT_ROOT / "t10k-images-idx3-ubyte.gz").exists(),
                    reason="Debian's dataset-fashion-mnist is not installed")
def test_debian_fashion_mnist_test_set() -> None:
    ds = FashionMNIST(train=False)
    assert len(ds) == 10_000 and ds.images.shape == (10_000, 28, 28) and ds.images.dtype == np.uint8
    assert np.bincount(ds.targets).tolist() == [1000] * 10
