"""Receptive fields: which input pixels a unit of a layer can see, from the kernel/stride/padding chain.

The chain is read from the modules the forward pass actually calls before the layer (recorded with temporary
forward hooks on a dummy input, so the order is the execution order, not the declaration order).  A module
with ``kernel_size`` (conv, max/avg pooling) grows the field; an elementwise module (ReLU, batch norm,
dropout) leaves it alone; a module that changes the spatial size in another way is an error naming it; once
the signal has been flattened (a linear layer) every unit sees the whole image.

Per axis, with ``jump`` the input distance between neighbouring units and ``offset`` the input coordinate of
unit 0's first pixel: a layer with kernel k, stride s, padding p, dilation d maps
``offset -= p * jump; size += (d * (k - 1)) * jump; jump *= s``.  Unit ``i`` sees ``[offset + i * jump,
offset + i * jump + size)``, clipped to the image (padding pixels are not pixels).  When a stride exceeds
its kernel the field has holes (a 1x1 conv at stride 2 skips every other pixel) and the box is their outer
bound.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
from tapegrad.autograd import Tensor, no_grad
from tapegrad.nn.functional.geometry import pair

from .project import find_module, inspection_mode, model_device


class Field(NamedTuple):
    """One axis pair of the receptive field geometry (row, column)."""

    size: tuple[int, int]
    jump: tuple[int, int]
    offset: tuple[int, int]
    image_shape: tuple[int, int]
    whole_image: bool = False
    # per layer, image side first, per axis: (kernel, stride, padding, dilation, input size)
    layers: tuple[tuple[tuple[int, int, int, int, int], ...], ...] = ()

    def box(self, position: tuple[int, ...]) -> tuple[int, int, int, int]:
        """(top, left, bottom, right) of the pixels the unit sees, bottom/right exclusive.

        Computed layer by layer from the unit down to the image, clipping at every layer to the units that
        exist there (padding is not a unit; nor are the last rows a floor-divided stride never reaches).
        """
        h, w = self.image_shape
        if self.whole_image or len(position) < 2:
            return (0, 0, h, w)
        lo, hi = [int(position[0]), int(position[1])], [int(position[0]), int(position[1])]
        for geometry in reversed(self.layers):
            for a, (k, s, p, d, size) in enumerate(geometry):
                lo[a] = max(lo[a] * s - p, 0)
                hi[a] = min(hi[a] * s - p + d * (k - 1), size - 1)
        return (lo[0], lo[1], hi[0] + 1, hi[1] + 1)

    def unclipped(self, position: tuple[int, ...]) -> tuple[int, int, int, int]:
        """The box before clipping (it may stick out of the image where the layers padded)."""
        if self.whole_image or len(position) < 2:
            return (0, 0) + self.image_shape
        top = self.offset[0] + int(position[0]) * self.jump[0]
        left = self.offset[1] + int(position[1]) * self.jump[1]
        return (top, left, top + self.size[0], left + self.size[1])


def _leaf_calls(
    model: Any, layer_module: Any, x: Tensor
) -> list[tuple[Any, tuple[int, ...], tuple[int, ...]]]:
    """(module, input shape, output shape) for each leaf module called up to and including
    ``layer_module``."""
    calls: list[tuple[Any, tuple[int, ...], tuple[int, ...]]] = []
    done = [False]
    handles = []

    def hook(module: Any, inputs: Any, output: Any) -> None:
        if done[0]:
            return
        first = inputs[0] if inputs else None
        out = output[0] if isinstance(output, (tuple, list)) else output
        calls.append((module, tuple(getattr(first, "shape", ())), tuple(getattr(out, "shape", ()))))
        if module is layer_module:
            done[0] = True

    for _, module in model.named_modules():
        if module is layer_module or not any(True for _ in module.children()):
            handles.append(module.register_forward_hook(hook))
    try:
        with no_grad():
            model(x)
    finally:
        for handle in handles:
            handle.remove()
    if not done[0]:
        raise RuntimeError(
            f"receptive_field: {type(layer_module).__name__} was not called in the forward pass"
        )
    return calls


def receptive_field(model: Any, layer: Any, input_shape: tuple[int, ...]) -> Field:
    """The receptive field geometry of ``layer``'s units for images of ``input_shape`` (C, H, W).

    ``layer`` is a module name or module (as for ``DeconvNet.project``).
    """
    module = find_module(model, layer)
    dtype = next(iter(model.parameters())).dtype if any(True for _ in model.parameters()) else np.float32
    x = Tensor(np.zeros((1,) + tuple(input_shape), dtype=dtype), device=model_device(model))
    with inspection_mode(model):
        calls = _leaf_calls(model, module, x)
    size, jump, offset = [1, 1], [1, 1], [0, 0]
    layers = []
    image_shape = (int(input_shape[-2]), int(input_shape[-1]))
    for mod, in_shape, out_shape in calls:
        global_pool = len(out_shape) == 4 and out_shape[2:] == (1, 1) and not hasattr(mod, "kernel_size")
        if len(out_shape) < 4 or len(in_shape) < 4 or global_pool:  # flattened or globally pooled
            return Field((image_shape[0], image_shape[1]), (0, 0), (0, 0), image_shape, whole_image=True)
        if hasattr(mod, "kernel_size") and not type(mod).__name__.startswith("ConvTranspose"):
            k = pair(mod.kernel_size, "kernel_size", "receptive_field", None)
            s = pair(getattr(mod, "stride", None) or mod.kernel_size, "stride", "receptive_field", None)
            d = pair(getattr(mod, "dilation", 1), "dilation", "receptive_field", None)
            padding = getattr(mod, "padding", 0)
            if isinstance(padding, str):
                p = _implied_padding(padding, k, d)
            else:
                p = pair(padding, "padding", "receptive_field", None)
            layers.append(tuple((k[a], s[a], p[a], d[a], int(in_shape[2 + a])) for a in range(2)))
            for a in range(2):
                offset[a] -= p[a] * jump[a]
                size[a] += d[a] * (k[a] - 1) * jump[a]
                jump[a] *= s[a]
        elif in_shape[2:] != out_shape[2:]:
            raise ValueError(
                f"receptive_field: {type(mod).__name__} changes the spatial size "
                f"{in_shape[2:]} -> {out_shape[2:]} "
                "and has no kernel_size/stride/padding to follow"
            )
    return Field(
        (size[0], size[1]), (jump[0], jump[1]), (offset[0], offset[1]), image_shape, False, tuple(layers)
    )


def _implied_padding(mode: str, k: tuple[int, int], d: tuple[int, int]) -> tuple[int, int]:
    if mode == "valid":
        return (0, 0)
    return tuple((dd * (kk - 1)) // 2 for kk, dd in zip(k, d, strict=True))  # type: ignore[return-value]


def crop(image: np.ndarray, field: Field, position: tuple[int, ...], fill: float = 0.0) -> np.ndarray:
    """The (C, size_h, size_w) patch a unit sees; where the field sticks out of the image it is ``fill``.

    Every patch of a layer has the same size and the unit's pixel sits at the same place in each, so patches
    line up in a grid.
    """
    top, left, bottom, right = field.unclipped(position)
    c, h, w = image.shape
    out = np.full((c, bottom - top, right - left), fill, dtype=image.dtype)
    t, l_, b, r = max(top, 0), max(left, 0), min(bottom, h), min(right, w)
    if b > t and r > l_:
        out[:, t - top : b - top, l_ - left : r - left] = image[:, t:b, l_:r]
    return out
