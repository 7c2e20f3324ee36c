"""Time one deconvnet projection vs one backward pass, and the top-k pass's throughput (by hand, not a test).

    python scripts/viz_measure.py      # needs Fashion-MNIST (Debian's fashion-mnist package)

The model is a small Fashion-MNIST CNN (conv16-relu-pool-conv32-relu-pool-linear, untrained: the timings do
not depend on the weights); the projected layer is the second ReLU.  Best and median of 30 runs.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np
from tapegrad.autograd import Tensor, manual_seed
from tapegrad.nn.data.fashion_mnist import FashionMNIST
from tapegrad.viz import DeconvNet, GuidedBackprop, Saliency, top_activations

from tapegrad import nn

LAYER = "4"


def timed(fn: Callable[[], object], n: int = 30) -> tuple[float, float]:
    """(best, median) milliseconds of ``n`` runs."""
    times = []
    for _ in range(n):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times) * 1e3, float(np.median(times)) * 1e3


class Images:
    def __init__(self, base: FashionMNIST, n: int) -> None:
        self.base, self.n = base, n

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, i: int) -> tuple[np.ndarray, int]:
        x, y = self.base[i]
        return (np.asarray(x, dtype=np.float32) / 255.0)[None], int(y)


def main() -> None:
    manual_seed(0)
    model = nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(32 * 7 * 7, 10),
    )
    model.eval()
    data = Images(FashionMNIST(train=False), 2000)
    x = data[0][0]
    channel, position = DeconvNet(model).project(x, LAYER).selections[0]
    rows = []
    for cls in (DeconvNet, GuidedBackprop, Saliency):
        projector = cls(model)
        rows.append((f"project one activation ({cls.__name__})",
                     timed(lambda p=projector: p.project(x, LAYER, channel=channel, position=position))))

    head = model[: int(LAYER) + 1]
    for p in model.parameters():
        p.requires_grad = False

    def backward() -> None:  # the same path with the ordinary rules, from the same one-unit seed
        image = Tensor(x[None].copy(), requires_grad=True)
        act = head(image)
        seed = np.zeros(act.shape, dtype=np.float32)
        seed[(0, channel) + position] = 1.0
        act.backward(Tensor(seed))

    rows.append(("forward + backward to the image (frozen parameters)", timed(backward)))
    rows.append(("forward only, up to the layer", timed(lambda: head(Tensor(x[None].copy())))))
    batch = np.stack([data[i][0] for i in range(64)])
    best, median = timed(lambda: DeconvNet(model).project(batch, LAYER), n=5)
    rows.append(("64 projections in one batched call, per image", (best / 64, median / 64)))
    for name, (best, median) in rows:
        print(f"{name:<55} best {best:7.3f} ms   median {median:7.3f} ms")
    start = time.perf_counter()
    top_activations(model, data, LAYER, k=9, batch_size=128, progress=False)
    seconds = time.perf_counter() - start
    print(f"top_activations: {len(data)} images, 32 channels, k=9 (288 projections): {seconds:.2f} s = "
          f"{len(data) / seconds:.0f} images/s")


if __name__ == "__main__":
    main()
