"""Build ``nn/data/shirt_vs_not_shirt.npz``: the small real data set that ships with tapegrad.

It mirrors the original cat / not-cat experiment on Fashion-MNIST (MIT licence, (c) Zalando SE): a binary
"shirt vs not-shirt" task with 600 positives and 600 negatives for training + validation (the 90/10 split is
made at load time, with a seed) and a separate, balanced held-out test set taken from the t10k files.
Negatives are drawn evenly from the other nine classes, so the hard look-alikes (T-shirt, pullover, coat) make
up a third of them, as they would in a natural "not shirt" pile.

Usage::

    python scripts/build_embedded_dataset.py                      # Debian's files, class 6 (shirt)
    python scripts/build_embedded_dataset.py --positive 8 --out /tmp/bag.npz --source DIR

The script needs tapegrad installed (``pip install -e .``) and the IDX files (``apt-get install
dataset-fashion-mnist`` puts them in /usr/share/datasets/fashion-mnist).  The output is deterministic for a
given ``--seed``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from tapegrad.nn.data.idx import read_idx

ROOT = Path(__file__).resolve().parents[1]
CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
           "Ankle boot"]


def even_counts(total: int, groups: int) -> list[int]:
    """Split ``total`` into ``groups`` counts that differ by at most one (the first groups get the extra)."""
    base, extra = divmod(total, groups)
    return [base + (1 if i < extra else 0) for i in range(groups)]


def pick(labels: np.ndarray, positive: int, n_pos: int, n_neg: int, rng: np.random.Generator) -> np.ndarray:
    """Indices of ``n_pos`` positives and ``n_neg`` negatives spread evenly over the other classes."""
    others = [c for c in range(10) if c != positive]
    chosen = [rng.choice(np.flatnonzero(labels == positive), n_pos, replace=False)]
    for cls, count in zip(others, even_counts(n_neg, len(others)), strict=True):
        chosen.append(rng.choice(np.flatnonzero(labels == cls), count, replace=False))
    index = np.concatenate(chosen)
    return index[rng.permutation(len(index))]


def build(source: Path, positive: int, n_train: int, n_test: int, seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    arrays: dict[str, np.ndarray] = {}
    for split, stem, n in (("train", "train", n_train), ("test", "t10k", n_test)):
        images = read_idx(source / f"{stem}-images-idx3-ubyte.gz")
        labels = read_idx(source / f"{stem}-labels-idx1-ubyte.gz")
        index = pick(labels, positive, n, n, rng)
        arrays[f"{split}_images"] = images[index].astype(np.uint8)
        arrays[f"{split}_labels"] = (labels[index] == positive).astype(np.uint8)  # 1 = positive
        arrays[f"{split}_source_labels"] = labels[index].astype(np.uint8)  # the original 10-class label
        arrays[f"{split}_source_index"] = index.astype(np.int32)  # row in the IDX file, for provenance
    name = CLASSES[positive].lower().replace("/", "_").replace(" ", "_")
    arrays["class_names"] = np.array([f"not_{name}", name])
    arrays["source_class_names"] = np.array(CLASSES)
    return arrays


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--source", type=Path, default=Path("/usr/share/datasets/fashion-mnist"))
    parser.add_argument("--out", type=Path, default=ROOT / "nn" / "data" / "shirt_vs_not_shirt.npz")
    parser.add_argument("--positive", type=int, default=6, help="class of the positives (6 = shirt)")
    parser.add_argument("--train-per-class", type=int, default=600)
    parser.add_argument("--test-per-class", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=20140101)
    args = parser.parse_args(argv)
    if not (args.source / "train-images-idx3-ubyte.gz").exists():
        print(f"error: no Fashion-MNIST IDX files in {args.source} (apt-get install dataset-fashion-mnist)",
              file=sys.stderr)
        return 1
    arrays = build(args.source, args.positive, args.train_per_class, args.test_per_class, args.seed)
    np.savez_compressed(args.out, **arrays)
    print(f"wrote {args.out} ({args.out.stat().st_size / 1e6:.2f} MB): "
          f"{len(arrays['train_labels'])} train+val, {len(arrays['test_labels'])} test images")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
