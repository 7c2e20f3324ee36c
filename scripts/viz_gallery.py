"""Train a small CNN on Fashion-MNIST for a minute and draw every tapegrad.viz picture of it.

    python scripts/viz_gallery.py [--out build/viz-gallery] [--train 6000] [--epochs 1] [--images 2000]

Writes: graph.svg (and graph.dot), filters_conv1.png, feature_maps_conv1.png, zf_<layer>.png (ZF Fig. 2: the
top-9 per channel, deconvnet projection beside its image patch), methods.png (deconvnet | guided | saliency
beside the image), occlusion.png (ZF Fig. 7), sanity.txt (Adebayo et al. cascading randomisation) and
timings.txt.  Needs Fashion-MNIST in /usr/share/datasets/fashion-mnist (Debian's fashion-mnist package) or
under $TAPEGRAD_DATA.
"""

from __future__ import annotations

import argparse
import shutil
import time
from pathlib import Path

import numpy as np
from tapegrad.autograd import Tensor, manual_seed
from tapegrad.nn.data.fashion_mnist import FashionMNIST
from tapegrad.viz import (
    DeconvNet,
    GuidedBackprop,
    Saliency,
    draw_model,
    feature_map_grid,
    filter_grid,
    format_table,
    grid,
    occlusion,
    render_graph,
    sanity_check,
    to_pil,
    top_activations,
    top_activations_grid,
)
from tapegrad.viz.render import heatmap_overlay, save

from tapegrad import nn


class Scaled:
    """Fashion-MNIST as float32 (1, 28, 28) images in [0, 1]."""

    def __init__(self, base: FashionMNIST, n: int) -> None:
        self.base, self.n = base, min(n, len(base))

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, i: int) -> tuple[np.ndarray, int]:
        x, y = self.base[i]
        return (np.asarray(x, dtype=np.float32) / 255.0)[None], int(y)


def model() -> nn.Sequential:
    manual_seed(0)
    return nn.Sequential(
        nn.Conv2d(1, 16, 5, padding=2),
        nn.ReLU(),
        nn.MaxPool2d(3, stride=2, padding=1),
        nn.Conv2d(16, 32, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Dropout(0.25),
        nn.Linear(32 * 7 * 7, 10),
    )


def train(m: nn.Sequential, data: Scaled, epochs: int, batch: int = 64) -> float:
    opt = nn.optim.Adam(m.parameters(), lr=2e-3)
    m.train()
    rng = np.random.default_rng(0)
    for _ in range(epochs):
        order = rng.permutation(len(data))
        for start in range(0, len(order), batch):
            idx = order[start : start + batch]
            x = Tensor(np.stack([data[i][0] for i in idx]))
            y = Tensor(np.array([data[i][1] for i in idx]))
            loss = nn.functional.cross_entropy(m(x), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
    m.eval()
    return float(loss.item())


def accuracy(m: nn.Sequential, data: Scaled) -> float:
    from tapegrad.autograd import no_grad

    x = np.stack([data[i][0] for i in range(len(data))])
    y = np.array([data[i][1] for i in range(len(data))])
    with no_grad():
        pred = np.concatenate([m(Tensor(x[s : s + 500])).numpy().argmax(1) for s in range(0, len(x), 500)])
    return float((pred == y).mean())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="build/viz-gallery")
    parser.add_argument("--train", type=int, default=6000)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--images", type=int, default=2000, help="test images scanned for the top-9")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    log = []

    train_set = Scaled(FashionMNIST(train=True), args.train)
    test_set = Scaled(FashionMNIST(train=False), 10_000)
    m = model()
    t = time.perf_counter()
    loss = train(m, train_set, args.epochs)
    seconds = time.perf_counter() - t
    acc = accuracy(m, Scaled(test_set.base, 2000))
    log.append(f"training: {len(train_set)} images x {args.epochs} epoch(s) in {seconds:.1f} s, "
               f"last loss {loss:.3f}, test accuracy {acc:.3f} (2000 images)")

    x0 = Tensor(test_set[0][0][None])
    graph = draw_model(m, x0)
    (out / "graph.dot").write_text(graph.source)
    if shutil.which("dot"):
        render_graph(graph, out / "graph.svg")
    save(filter_grid(m[0].weight.numpy(), scale=8), out / "filters_conv1.png")
    acts: list = []
    handle = m[1].register_forward_hook(lambda mod, i, o: acts.append(o.numpy()))
    m(x0)
    handle.remove()
    save(feature_map_grid(acts[0][0], scale=3, columns=8), out / "feature_maps_conv1.png")

    scan = Scaled(test_set.base, args.images)
    for layer in ("1", "4"):
        t = time.perf_counter()
        result = top_activations(m, scan, layer, channels=range(8), k=9, batch_size=128, progress=True)
        dt = time.perf_counter() - t
        log.append(
            f"top_activations layer {layer}: {len(scan)} images, 8 channels, k=9 in {dt:.2f} s "
            f"({len(scan) / dt:.0f} images/s incl. the 72 projections)"
        )
        save(top_activations_grid(result, mode="symmetric", scale=4), out / f"zf_layer{layer}.png")
        square = top_activations_grid(result, mode="symmetric", scale=4, layout="zf")
        save(square, out / f"zf_layer{layer}_square.png")

    images = np.stack([test_set[i][0] for i in range(6)])
    rows = []
    for i in range(len(images)):
        row = [to_pil(images[i], scale=4)]
        for cls in (DeconvNet, GuidedBackprop, Saliency):
            row.append(to_pil(cls(m).project(images[i], "4").maps[0], "symmetric", scale=4))
        rows.append(grid(row, columns=4, mode=None))
    save(grid(rows, columns=1, mode=None), out / "methods.png")

    occ = occlusion(m, images[0], size=6, stride=2, fill=0.0)
    save(heatmap_overlay(images[0], occ.probabilities, scale=8), out / "occlusion.png")
    where = tuple(int(v) for v in np.unravel_index(occ.probabilities.argmin(), occ.probabilities.shape))
    log.append(f"occlusion: class {occ.target}, p = {occ.baseline:.3f} unoccluded, "
               f"min {occ.probabilities.min():.3f} with the square at map cell {where}")

    sanity = sanity_check(m, images)
    (out / "sanity.txt").write_text(format_table(sanity) + "\n")
    (out / "timings.txt").write_text("\n".join(log) + "\n")
    print("\n".join(log))
    print(format_table(sanity))
    print(f"pictures in {out.resolve()}")


if __name__ == "__main__":
    main()
