"""The packaged shirt-vs-not-shirt set: sizes, balance, splits, licence, and that the script rebuilds it."""

from __future__ import annotations

import importlib.util
from importlib import resources
from pathlib import Path

import numpy as np
import pytest
from tapegrad.nn.data import DataError, embedded, embedded_arrays
from tapegrad.nn.data.fashion_mnist import DEFAULT_ROOT

ROOT = Path(__file__).resolve().parents[3]


def test_sizes_balance_and_format() -> None:
    a = embedded_arrays()
    assert a["train_images"].shape == (1200, 28, 28) and a["train_images"].dtype == np.uint8
    assert a["test_images"].shape[0] >= 1000 and a["test_images"].shape[1:] == (28, 28)
    assert np.bincount(a["train_labels"]).tolist() == [600, 600]
    test_counts = np.bincount(a["test_labels"])
    assert test_counts[0] == test_counts[1]
    assert list(a["class_names"]) == ["not_shirt", "shirt"]
    for split in ("train", "test"):
        source, label = a[f"{split}_source_labels"], a[f"{split}_labels"]
        assert np.array_equal(label == 1, source == 6)  # positives are exactly the shirts
        negatives = np.bincount(source[label == 0], minlength=10)
        assert negatives[6] == 0
        others = np.delete(negatives, 6)
        assert others.max() - others.min() <= 1  # drawn evenly from the nine other classes
        assert len(np.unique(a[f"{split}_source_index"])) == len(source)  # no image twice


def test_packaged_file_is_small_and_licensed() -> None:
    files = resources.files("tapegrad.nn.data")
    size = len(files.joinpath("shirt_vs_not_shirt.npz").read_bytes())
    assert size <= 2_100_000
    licence = files.joinpath("LICENSE-fashion-mnist.txt").read_text()
    assert "Zalando SE" in licence and "MIT" in licence


def test_train_val_split_is_seeded_stratified_and_complementary() -> None:
    train, val, test = embedded("train", seed=0), embedded("val", seed=0), embedded("test")
    assert (len(train), len(val), len(test)) == (1080, 120, 2000)
    assert np.bincount(val.targets).tolist() == [60, 60]
    everything = embedded("trainval")
    key = {im.tobytes() for im in everything.images}
    assert {im.tobytes() for im in train.images} | {im.tobytes() for im in val.images} == key
    assert not {im.tobytes() for im in train.images} & {im.tobytes() for im in val.images}
    assert np.array_equal(embedded("val", seed=0).images, val.images)
    assert not np.array_equal(embedded("val", seed=1).images, val.images)
    with pytest.raises(DataError, match="split"):
        embedded("validation")


@pytest.mark.skipif(not (DEFAULT_ROOT / "t10k-images-idx3-ubyte.gz").exists(),
                    reason="Debian's dataset-fashion-mnist is not installed")
def test_build_script_reproduces_the_packaged_arrays() -> None:
    spec = importlib.util.spec_from_file_location("build", ROOT / "scripts" / "build_embedded_dataset.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    rebuilt = module.build(DEFAULT_ROOT, 6, 600, 1000, 20140101)
    packaged = embedded_arrays()
    assert set(rebuilt) == set(packaged)
    for key, value in rebuilt.items():
        np.testing.assert_array_equal(value, packaged[key], err_msg=key)
