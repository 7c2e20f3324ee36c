"""``DeconvNet``, ``GuidedBackprop`` and ``Saliency``: project one activation of a layer down to pixel space.

All three record one forward pass of *any* tapegrad model (the tape), keep exactly one activation of the
chosen layer (one channel at one position; every other channel and position is zeroed), and walk the tape
back to the image with their rule table (:mod:`tapegrad.viz.rules`).  They share the API so methods compare
side by side::

    dn = DeconvNet(model)
    result = dn.project(images, "features.3")            # strongest channel, its strongest position
    result.maps                                          # (N, C, H, W) numpy array in pixel space
    result.selections                                    # [(channel, position), ...] that were projected
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from typing import Any, NamedTuple

import numpy as np
from tapegrad.autograd import Tensor, enable_grad
from tapegrad.autograd.backend import array_module, device_of, to_device
from tapegrad.autograd.errors import ShapeError, describe

from .tape import walk

Position = tuple[int, ...]
Selection = tuple[int, Position]


class Projection(NamedTuple):
    """What ``project`` returns.

    maps
        (N, C, H, W) projections in pixel space (NumPy, float).
    selections
        One (channel, position) per map: the activation that was kept.
    values
        The activation's value per map (the seed placed on it, as in ZF).
    """

    maps: np.ndarray
    selections: list[Selection]
    values: np.ndarray


def find_module(model: Any, layer: Any) -> Any:
    """A module of ``model`` by name (as ``named_modules()`` spells it) or the module itself."""
    if isinstance(layer, str):
        for name, module in model.named_modules():
            if name == layer:
                return module
        names = ", ".join(repr(n) for n, _ in model.named_modules() if n) or "(none)"
        raise KeyError(f"project: the model has no layer named {layer!r}; its layers are {names}")
    if any(m is layer for _, m in model.named_modules()):
        return layer
    raise ValueError(f"project: {type(layer).__name__} is not one of the model's modules")


class LayerReached(BaseException):
    """Raised by ``capture(..., stop=True)`` to end a forward pass once the layer has run.

    A BaseException, so that a model's own ``except Exception`` cannot swallow it.
    """


@contextlib.contextmanager
def capture(module: Any, stop: bool = False) -> Iterator[list[Tensor]]:
    """Record every output of ``module`` during the ``with`` block (a temporary forward hook).

    With ``stop=True`` the forward pass ends right after the module's first call (the layers above it are
    not needed to look at it): the ``with`` block then ends with :class:`LayerReached`, which the caller
    catches.
    """
    outputs: list[Tensor] = []

    def hook(mod: Any, inputs: Any, output: Any) -> None:
        outputs.append(output[0] if isinstance(output, (tuple, list)) else output)
        if stop:
            raise LayerReached

    handle = module.register_forward_hook(hook)
    try:
        yield outputs
    finally:
        handle.remove() if hasattr(handle, "remove") else handle()


@contextlib.contextmanager
def inspection_mode(model: Any) -> Iterator[None]:
    """Eval mode (dropout off, batch norm on running statistics) and frozen parameters, restored afterwards.

    Freezing the parameters makes the image the only tensor that requires grad, so the forward pass records
    nothing on the parameter side and the walk never computes a weight gradient.
    """
    training = getattr(model, "training", False)
    params = list(model.parameters()) if hasattr(model, "parameters") else []
    flags = [p.requires_grad for p in params]
    if hasattr(model, "eval"):
        model.eval()
    for p in params:
        p.requires_grad = False
    try:
        yield
    finally:
        for p, flag in zip(params, flags, strict=True):
            p.requires_grad = flag
        if training and hasattr(model, "train"):
            model.train(True)


def model_dtype(model: Any) -> Any:
    """The dtype of the model's first parameter when floating (images are cast to it), or None."""
    for p in model.parameters() if hasattr(model, "parameters") else ():
        return p.data.dtype if p.data.dtype.kind == "f" else None
    return None


def model_device(model: Any) -> str:
    """Where the model's parameters live ('cpu' or 'cuda'); images are moved there."""
    for p in model.parameters() if hasattr(model, "parameters") else ():
        return device_of(p.data)
    return "cpu"


def as_image_batch(x: Any, dtype: Any = None, device: str | None = None, repeat: int = 1) -> Tensor:
    """An (N, C, H, W) float tensor requiring grad, from a tensor or array: a batch or one (C, H, W) image.

    Always a fresh leaf (the caller's array is never modified); ``repeat`` stacks copies of one image.
    """
    data = x.data if isinstance(x, Tensor) else np.asarray(x)
    if data.ndim == 3:
        data = data[None]
    if data.dtype.kind != "f":
        data = data.astype(np.float32)
    if dtype is not None:
        data = data.astype(dtype, copy=False)
    if device is not None:
        data = to_device(data, device)
    data = array_module(data).repeat(data, repeat, axis=0) if repeat > 1 else data.copy()
    return Tensor._make(data, None, 0).requires_grad_()


def _strongest(
    activation: np.ndarray, channel: int | None, position: Position | None
) -> tuple[int, Position]:
    """ZF's choice: the channel with the largest activation anywhere, then that channel's largest location."""
    if channel is None:
        flat = activation.reshape(activation.shape[0], -1)
        channel = int(flat.max(axis=1).argmax())
    if not 0 <= channel < activation.shape[0]:
        raise ShapeError(
            f"project: channel {channel} is out of range for a layer with {activation.shape[0]} channels"
        )
    plane = activation[channel]
    if position is None:
        position = tuple(int(i) for i in np.unravel_index(int(plane.argmax()), plane.shape))
    position = tuple(int(p) for p in position)
    if len(position) != plane.ndim or any(not 0 <= p < s for p, s in zip(position, plane.shape, strict=True)):
        raise ShapeError(
            f"project: position {position} is out of range for a feature map of shape {plane.shape}"
        )
    return channel, position


def _per_image(value: Any, n: int, what: str) -> list[Any]:
    """One channel (or position) per image: None or a single value repeats; a list must have n entries."""
    if value is None or isinstance(value, (int, np.integer)):
        return [value] * n
    if (
        what == "position"
        and isinstance(value, tuple)
        and all(isinstance(v, (int, np.integer)) for v in value)
    ):
        return [value] * n
    value = list(value)
    if len(value) != n:
        raise ShapeError(f"project: got {len(value)} {what}s for {n} images")
    return value


class _Projector:
    method = "saliency"

    def __init__(self, model: Any) -> None:
        self.model = model

    def project(
        self,
        x: Any,
        layer: Any,
        channel: int | Sequence[int | None] | None = None,
        position: Position | Sequence[Position | None] | None = None,
        selections: Sequence[tuple[int | None, Position | None]] | None = None,
    ) -> Projection:
        """Project one activation of ``layer`` per image down to pixel space.

        Parameters
        ----------
        x
            Images (N, C, H, W) or one image (C, H, W), as a Tensor or array.  With one image and several
            selections the image is repeated, one projection per selection, in a single batched pass.
        layer
            A module name from ``model.named_modules()``, the module itself (its first call in the forward
            pass is projected), or a Tensor captured from a forward hook during a pass the caller ran on
            ``x`` (then ``x`` must be that very Tensor, requiring grad).
        channel, position
            Which activation to keep; ``None`` picks the strongest channel / its strongest position.  One
            value for all images or one per image.  ``position`` is a tuple over the layer's spatial axes
            (``()`` for a fully connected layer).
        selections
            Alternatively a list of (channel, position) pairs, one per image.
        """
        if selections is not None:
            channel = [s[0] for s in selections]
            position = [s[1] for s in selections]
        if isinstance(layer, Tensor):
            if not isinstance(x, Tensor) or not x.requires_grad:
                raise ValueError(
                    "project: with a captured activation, pass the very input Tensor (requires_grad)"
                )
            return self._project_tensor(layer, x, channel, position)
        images = as_image_batch(x, model_dtype(self.model), model_device(self.model))
        count = max(
            1 if channel is None or isinstance(channel, (int, np.integer)) else len(channel),
            len(position) if isinstance(position, list) else 1,
        )
        if images.shape[0] == 1 and count > 1:
            images = as_image_batch(images, repeat=count)
        module = find_module(self.model, layer)
        outputs: list[Tensor] = []
        try:  # the forward pass stops once the layer has run: nothing above it is needed
            with inspection_mode(self.model), enable_grad(), capture(module, stop=True) as outputs:
                self.model(images)
        except LayerReached:
            pass
        if not outputs:
            raise RuntimeError(f"project: layer {layer!r} was not called during the forward pass")
        return self._project_tensor(outputs[0], images, channel, position)

    def _project_tensor(self, activation: Tensor, images: Tensor, channel: Any, position: Any) -> Projection:
        if activation.ndim < 2 or activation.shape[0] != images.shape[0]:
            raise ShapeError(
                f"project: the layer output {describe(activation)} must be (N, C, ...) "
                f"for {images.shape[0]} images"
            )
        n = activation.shape[0]
        channels = _per_image(channel, n, "channel")
        positions = _per_image(position, n, "position")
        act = activation.numpy()
        xp = array_module(activation.data)
        seed = xp.zeros_like(activation.data)
        chosen: list[Selection] = []
        values = np.zeros(n, dtype=act.dtype)
        for i in range(n):
            c, pos = _strongest(act[i], channels[i], positions[i])
            chosen.append((c, pos))
            values[i] = act[(i, c) + pos]
            seed[(i, c) + pos] = activation.data[(i, c) + pos]
        maps = walk(activation, images, Tensor._make(seed, None, 0), self.method)
        return Projection(maps.numpy(), chosen, values)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({type(self.model).__name__})"


class DeconvNet(_Projector):
    """Zeiler & Fergus (2014): unpool with the forward switches, rectify, deconvolve with the same filters."""

    method = "deconvnet"


class GuidedBackprop(_Projector):
    """Springenberg et al. (2015): a ReLU passes the signal only where it and the forward input are > 0."""

    method = "guided"


class Saliency(_Projector):
    """Simonyan et al. (2014): the plain gradient of the chosen activation with respect to the image."""

    method = "saliency"


METHOD_CLASSES: dict[str, type[_Projector]] = {
    "deconvnet": DeconvNet,
    "guided": GuidedBackprop,
    "saliency": Saliency,
}


def project(model: Any, x: Any, layer: Any, method: str = "deconvnet", **kwargs: Any) -> Projection:
    """One-call form: ``project(model, x, layer, method="guided", channel=3)``."""
    if method not in METHOD_CLASSES:
        raise ValueError(f"project: unknown method {method!r}; expected one of {sorted(METHOD_CLASSES)}")
    return METHOD_CLASSES[method](model).project(x, layer, **kwargs)
