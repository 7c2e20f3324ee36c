"""Small models for the viz tests, and their PyTorch mirrors built from the same weights.

The mirror is independent of tapegrad's walk: it runs PyTorch's own autograd, with the relu's backward
replaced by a ``torch.autograd.Function`` (ZF: ``relu(g)``; guided: ``relu(g) * (x > 0)``; saliency: the
ordinary relu).  Max pooling comes *before* the relu in these nets so no pooling window is an all-zero tie
(whose switch would be an arbitrary choice that the deconvnet's relu rule does not mask away).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from tapegrad.autograd import manual_seed

from tapegrad import nn


def features(dtype: Any = np.float64, seed: int = 0, channels: int = 1) -> list[Any]:
    """conv(pad 1) -> overlapping max pool -> relu -> strided conv -> relu -> dropout -> conv -> relu."""
    manual_seed(seed)
    return [
        nn.Conv2d(channels, 4, 3, padding=1),
        nn.MaxPool2d(3, stride=2),
        nn.ReLU(),
        nn.Conv2d(4, 6, (3, 2), stride=(1, 2), padding=(1, 0)),
        nn.ReLU(),
        nn.Dropout(0.5),
        nn.Conv2d(6, 5, 2),
        nn.ReLU(),
    ]


def small_cnn(
    image_shape: tuple[int, int, int] = (1, 13, 11), dtype: Any = np.float64, seed: int = 0, classes: int = 5
) -> nn.Sequential:
    """``features`` then flatten and a linear classifier sized for ``image_shape``."""
    from tapegrad.autograd import Tensor, no_grad

    body = nn.Sequential(*features(dtype, seed, image_shape[0]), nn.Flatten()).to(dtype=dtype)
    with no_grad():
        size = body(Tensor(np.zeros((1,) + tuple(image_shape), dtype=dtype))).shape[1]
    modules = [body[i] for i in range(len(body))]
    return nn.Sequential(*modules, nn.Linear(size, classes).to(dtype=dtype))


class _DeconvRelu(torch.autograd.Function):
    @staticmethod
    def forward(ctx: Any, x: torch.Tensor) -> torch.Tensor:
        ctx.save_for_backward(x)
        return x.clamp(min=0)

    @staticmethod
    def backward(ctx: Any, g: torch.Tensor) -> torch.Tensor:
        return g.clamp(min=0)


class _GuidedRelu(_DeconvRelu):
    @staticmethod
    def backward(ctx: Any, g: torch.Tensor) -> torch.Tensor:
        (x,) = ctx.saved_tensors
        return g.clamp(min=0) * (x > 0).to(g.dtype)


RELU = {"deconvnet": _DeconvRelu.apply, "guided": _GuidedRelu.apply, "saliency": torch.relu}


def torch_layers(model: nn.Sequential, method: str) -> list[Any]:
    """One torch callable per tapegrad module, same weights, eval mode, the method's relu."""

    def t(p: Any) -> torch.Tensor:
        return torch.tensor(p.numpy())  # a copy, from the GPU too

    layers: list[Any] = []
    for module in (model[i] for i in range(len(model))):
        kind = type(module).__name__
        if kind == "Conv2d":
            w, b = t(module.weight), None if module.bias is None else t(module.bias)
            layers.append(
                lambda x, w=w, b=b, m=module: torch.nn.functional.conv2d(
                    x, w, b, stride=m.stride, padding=m.padding, dilation=m.dilation
                )
            )
        elif kind == "MaxPool2d":
            layers.append(
                lambda x, m=module: torch.nn.functional.max_pool2d(x, m.kernel_size, m.stride, m.padding)
            )
        elif kind == "AvgPool2d":
            layers.append(
                lambda x, m=module: torch.nn.functional.avg_pool2d(x, m.kernel_size, m.stride, m.padding)
            )
        elif kind == "ReLU":
            layers.append(RELU[method])
        elif kind in ("Dropout", "Identity"):
            layers.append(lambda x: x)
        elif kind == "Flatten":
            layers.append(lambda x: x.flatten(1))
        elif kind == "Linear":
            w, b = t(module.weight), t(module.bias)
            layers.append(lambda x, w=w, b=b: x @ w.T + b)
        elif kind == "BatchNorm2d":
            rm, rv, w, b = t(module.running_mean), t(module.running_var), t(module.weight), t(module.bias)
            layers.append(
                lambda x, rm=rm, rv=rv, w=w, b=b, m=module: torch.nn.functional.batch_norm(
                    x, rm, rv, w, b, training=False, eps=m.eps
                )
            )
        else:
            raise NotImplementedError(kind)
    return layers


def torch_projection(
    model: nn.Sequential, images: np.ndarray, upto: int, selections: list, method: str
) -> np.ndarray:
    """Project activation (channel, position) of the output of ``model[upto]`` for each image, in PyTorch."""
    x = torch.tensor(images, requires_grad=True)
    h = x
    for layer in torch_layers(model, method)[: upto + 1]:
        h = layer(h)
    seed = torch.zeros_like(h)
    for i, (c, pos) in enumerate(selections):
        seed[(i, c) + tuple(pos)] = h[(i, c) + tuple(pos)].detach()
    (g,) = torch.autograd.grad(h, x, seed)
    return g.numpy()
