"""ImageFolder on a small generated folder of 224 x 224 (and other-sized) photos, with a corrupt file."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from tapegrad.nn.data import CorruptImageWarning, DataError, DataLoader, DatasetNotFoundError, ImageFolder
from tapegrad.nn.data import transforms as T


def make_folder(root: Path, per_class: int = 3, size: tuple[int, int] = (224, 224),
                corrupt: bool = True) -> Path:
    """cat/ and not_cat/ with PNG and JPEG photos (one of another size, one grey), plus a broken JPEG."""
    rng = np.random.default_rng(0)
    for c, name in enumerate(("cat", "not_cat")):
        (root / name).mkdir(parents=True)
        for i in range(per_class):
            pixels = rng.integers(0, 256, (size[0], size[1], 3), dtype=np.uint8)
            pixels[..., c] = 255  # the classes differ in colour
            image = Image.fromarray(pixels)
            if i == 1:
                image = image.resize((300, 200))  # another size: must be resized
            if i == 2:
                image = image.convert("L")  # grey: must become RGB
            image.save(root / name / f"img{i}.{'png' if i % 2 else 'jpg'}")
        (root / name / "notes.txt").write_text("not an image: ignored")
    if corrupt:
        (root / "cat" / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 this is not really a jpeg")
    return root


def test_reads_resizes_and_labels(tmp_path: Path) -> None:
    root = make_folder(tmp_path, corrupt=False)
    ds = ImageFolder(root, image_size=224)
    assert ds.classes == ["cat", "not_cat"] and len(ds) == 6
    assert ds.images.shape == (6, 224, 224, 3) and ds.images.dtype == np.uint8
    assert sorted(ds.targets.tolist()) == [0, 0, 0, 1, 1, 1]
    image, label = ds[0]
    assert label == 0 and image.shape == (224, 224, 3)
    assert image[..., 0].mean() > image[..., 1].mean()  # the red channel set for cats survived
    grey = ImageFolder(root, image_size=(32, 48), channels=1, transform=T.ToTensor())
    x, _ = grey[4]
    assert x.shape == (1, 32, 48)
    batch, labels = next(iter(DataLoader(grey, batch_size=6)))
    assert batch.shape == (6, 1, 32, 48) and labels.shape == (6,)


def test_corrupt_file_is_reported_by_path_and_skipped(tmp_path: Path) -> None:
    root = make_folder(tmp_path)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ds = ImageFolder(root, image_size=224, on_error="warn")
    messages = [str(w.message) for w in caught if issubclass(w.category, CorruptImageWarning)]
    assert len(messages) == 1 and str(root / "cat" / "broken.jpg") in messages[0]
    assert len(ds) == 6 and ds.skipped == [root / "cat" / "broken.jpg"]
    assert all(path.name != "broken.jpg" for path, _ in ds.samples)


def test_corrupt_file_raises_with_its_path(tmp_path: Path) -> None:
    root = make_folder(tmp_path)
    with pytest.raises(DataError, match="broken.jpg"):
        ImageFolder(root, image_size=224, on_error="raise")


def test_folder_errors_are_named(tmp_path: Path) -> None:
    with pytest.raises(DatasetNotFoundError, match="no such folder"):
        ImageFolder(tmp_path / "missing")
    (tmp_path / "only").mkdir()
    with pytest.raises(DataError, match="at least two"):
        ImageFolder(tmp_path)
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="empty: no images"):
        ImageFolder(tmp_path)
    with pytest.raises(DataError, match="on_error"):
        ImageFolder(tmp_path, on_error="ignore")
