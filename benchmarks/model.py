"""The benchmark CNN of the training-step and memory benchmarks, built identically in tapegrad and PyTorch.

conv(3->16, k3 p1) - relu - maxpool 2 - conv(16->32, k3 p1) - relu - maxpool 2 - flatten - linear(-> 10):
the shape of the small CNNs tapegrad is for (not the command line's ``ReferenceCNN``), defined here (not
imported from the library under test) so the benchmark measures the same network on both sides.  The
tapegrad twin gets PyTorch's initial weights.
"""

from __future__ import annotations

from typing import Any

import numpy as np

CLASSES = 10


def flops_per_step(batch: int, size: int) -> float:
    """Multiply-adds x2 of the convolutions and the linear layer, times 3 for forward + backward."""
    conv1 = 2.0 * batch * 16 * size * size * 3 * 9
    conv2 = 2.0 * batch * 32 * (size // 2) ** 2 * 16 * 9
    linear = 2.0 * batch * 32 * (size // 4) ** 2 * CLASSES
    return 3 * (conv1 + conv2 + linear)


def _benchmark_cnn(nn: Any, size: int) -> Any:
    """conv-relu-pool-conv-relu-pool-linear, built from ``torch.nn`` or ``tapegrad.nn`` (the names are the same)."""
    return nn.Sequential(
        nn.Conv2d(3, 16, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(32 * (size // 4) ** 2, CLASSES),
    )


def torch_model(size: int, seed: int = 0) -> Any:
    import torch
    from torch import nn

    torch.manual_seed(seed)
    return _benchmark_cnn(nn, size)


def tapegrad_model(size: int, weights: list[np.ndarray] | None = None) -> Any:
    from tapegrad import nn

    model = _benchmark_cnn(nn, size)
    if weights is not None:
        params = list(model.parameters())
        assert len(params) == len(weights)
        for p, w in zip(params, weights, strict=True):
            p.data[...] = w
    return model


def batch(n: int, size: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    gen = np.random.default_rng(seed)
    x = gen.standard_normal((n, 3, size, size), dtype=np.float32)
    y = gen.integers(0, CLASSES, n).astype(np.int64)
    return x, y


def tapegrad_step(model: Any, optimizer: Any, x: Any, y: Any) -> Any:
    from tapegrad.nn import functional as F  # noqa: N812

    optimizer.zero_grad()
    loss = F.cross_entropy(model(x), y)
    loss.backward()
    optimizer.step()
    return loss


def torch_step(model: Any, optimizer: Any, x: Any, y: Any) -> Any:
    import torch.nn.functional as TF  # noqa: N812

    optimizer.zero_grad()
    loss = TF.cross_entropy(model(x), y)
    loss.backward()
    optimizer.step()
    return loss
