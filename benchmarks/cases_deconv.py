"""The deconvnet projection of one activation vs one backward pass of the same model (tapegrad only).

Both start from the image and record the forward pass up to the chosen layer; the projection then walks the
tape with the Zeiler & Fergus rules (unpool with the switches, rectify, transposed convolution), the backward
pass with the ordinary vjps, from the same one-hot seed.  The parameters are frozen on both sides (the
projection freezes them itself), so neither computes weight gradients.  The ratio is projection / backward.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import model as ref
from .harness import Case, Impl

SIZE, LAYER = 224, "4"  # the second ReLU of the benchmark CNN


def make(device: str) -> dict[str, Impl]:
    from tapegrad.autograd import Tensor
    from tapegrad.viz import DeconvNet

    tm = ref.torch_model(SIZE)
    m = ref.tapegrad_model(SIZE, [p.detach().numpy() for p in tm.parameters()])
    if device != "cpu":
        m.to(device)
    m.eval()
    x, _ = ref.batch(1, SIZE)
    if device != "cpu":
        import cupy

        x = cupy.asarray(x)
    dn = DeconvNet(m)
    first = dn.project(x, LAYER)
    channel, position = first.selections[0]
    head = m[: int(LAYER) + 1]
    for p in m.parameters():
        p.requires_grad = False

    def projection() -> Any:
        return dn.project(x, LAYER, channel=channel, position=position).maps

    def backward() -> Any:
        image = Tensor(x.copy(), requires_grad=True)
        act = head(image)
        seed = np.zeros(act.shape, dtype=np.float32)
        seed[(0, channel, *position)] = 1.0
        act.backward(Tensor(seed, device=None if device == "cpu" else device))
        if device != "cpu":
            image.grad.data.device.synchronize()
        return image.grad

    return {"deconvnet": projection, "backward": backward}


def cases() -> list[Case]:
    return [
        Case(
            "deconvnet projection vs backward",
            "deconv",
            make,
            None,
            target=1.2,
            ratio_of=("deconvnet", "backward"),
            note=f"1x3x{SIZE}x{SIZE}, one activation of layer {LAYER} (relu 2)",
        )
    ]
