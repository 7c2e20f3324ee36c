"""Sanity check (Adebayo et al., 2018): do the pictures depend on what the network learned?

Cascading randomisation: on a deep copy of the model, the weights are replaced by random ones layer by layer,
from the top (the last layer the forward pass calls) down.  After each step the maps are computed again and
compared with the original ones.  A method whose maps stay similar while the network is destroyed is showing
the image (edges), not the network.  Adebayo et al. found exactly that for guided backprop; the deconvnet is
in the same family (its ReLU rule ignores the forward pass), so its numbers are worth having.

Random weights keep each tensor's scale: ``normal(0, std(original))`` (zeros stay zeros).  Maps are reduced to
one plane per image (sum of ``|map|`` over channels by default, as Adebayo et al. show them), normalised to
[0, 1], and compared with Spearman's rank correlation and SSIM, averaged over the images.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any

import numpy as np
from tapegrad.autograd import Tensor, no_grad
from tapegrad.autograd.backend import to_device

from .project import METHOD_CLASSES, as_image_batch, find_module, inspection_mode, model_device, model_dtype
from .render import normalize
from .similarity import spearman, ssim


def parameterised_layers(model: Any, x: Tensor) -> list[str]:
    """Names of the modules that own parameters, in the order the forward pass calls them."""
    owners = {
        id(m): n for n, m in model.named_modules() if n and any(True for _ in m.parameters(recurse=False))
    }
    order: list[str] = []
    handles = []

    def hook(module: Any, inputs: Any, output: Any) -> None:
        name = owners.get(id(module))
        if name is not None and name not in order:
            order.append(name)

    for _, module in model.named_modules():
        if id(module) in owners:
            handles.append(module.register_forward_hook(hook))
    try:
        with inspection_mode(model), no_grad():
            model(x)
    finally:
        for handle in handles:
            handle.remove()
    return order


def _reduce(maps: np.ndarray, absolute: bool) -> list[np.ndarray]:
    planes = np.abs(maps).sum(axis=1) if absolute else maps.sum(axis=1)
    return [normalize(p, "minmax") for p in planes]


def sanity_check(
    model: Any,
    x: Any,
    layer: Any = "",
    channel: int | Sequence[int] | None = None,
    methods: Sequence[str] = ("deconvnet", "guided", "saliency"),
    seed: int = 0,
    absolute: bool = True,
    keep_maps: bool = False,
) -> dict[str, Any]:
    """Cascading randomisation from the top layer down, scored against the original maps.

    Parameters
    ----------
    x
        A batch of images (N, C, H, W).
    layer
        Whose activation is projected: by default ``""``, the model's output (the class logits).
    channel
        The unit (class) per image; by default the one the *original* model picks (kept fixed after that).

    Returns
    -------
    ``{"layers": ["original", top layer, ..., first layer], method: {"spearman": [...], "ssim": [...]},
    ...}`` where entry ``i`` compares the maps after randomising ``layers[1..i]`` with the original ones
    (entry 0 is 1.0 by construction); with ``keep_maps`` also ``method + "_maps"``: the reduced maps per step.
    """
    images = as_image_batch(x, model_dtype(model), model_device(model))
    find_module(model, layer)
    order = parameterised_layers(model, images.detach())
    rng = np.random.default_rng(seed)
    base = {}
    selections: dict[str, Any] = {}
    for method in methods:
        result = METHOD_CLASSES[method](model).project(images, layer, channel=channel)
        selections[method] = [c for c, _ in result.selections]
        base[method] = _reduce(result.maps, absolute)
    out: dict[str, Any] = {"layers": ["original"] + order[::-1]}
    for method in methods:
        out[method] = {"spearman": [1.0], "ssim": [1.0]}
        if keep_maps:
            out[method + "_maps"] = [base[method]]
    copy_model = copy.deepcopy(model)
    modules = dict(copy_model.named_modules())
    for name in order[::-1]:
        for p in modules[name].parameters(recurse=False):
            std = float(p.data.std())
            p.data[...] = to_device((rng.standard_normal(p.shape) * std).astype(p.data.dtype), p.device)
        for method in methods:
            result = METHOD_CLASSES[method](copy_model).project(
                images, layer, channel=selections[method]
            )
            maps = _reduce(result.maps, absolute)
            out[method]["spearman"].append(
                float(np.mean([spearman(a, b) for a, b in zip(base[method], maps, strict=True)]))
            )
            out[method]["ssim"].append(
                float(np.mean([ssim(a, b, data_range=1.0) for a, b in zip(base[method], maps, strict=True)]))
            )
            if keep_maps:
                out[method + "_maps"].append(maps)
    return out


def format_table(result: dict[str, Any]) -> str:
    """The result as a plain-text table: one row per randomisation step, Spearman/SSIM per method."""
    methods = [m for m in result if m != "layers" and not m.endswith("_maps")]
    head = f"{'randomised down to':<22}" + "".join(f"{m + ' rho':>16}{m + ' ssim':>16}" for m in methods)
    lines = [head]
    for i, name in enumerate(result["layers"]):
        row = f"{name:<22}" + "".join(
            f"{result[m]['spearman'][i]:>16.3f}{result[m]['ssim'][i]:>16.3f}" for m in methods
        )
        lines.append(row)
    return "\n".join(lines)
