"""Occlusion sensitivity (Zeiler & Fergus, Fig. 7): how the class probability drops as a grey square hides
each part of the image.

The square (``size``) slides with ``stride``; all occluded copies of the image are classified in batches, with
recording off.  Map cell ``(i, j)`` is the square whose top-left corner is ``(i * stride, j * stride)``
(``Occlusion.box`` gives it); squares stay inside the image.  Low values mark the parts the network
needs to recognise the class.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
from tapegrad.autograd import Tensor, no_grad
from tapegrad.nn.functional.geometry import pair

from .project import inspection_mode, model_device, model_dtype


class Occlusion(NamedTuple):
    probabilities: np.ndarray  # (rows, cols): the class probability with the square at each place
    baseline: float  # the probability with nothing hidden
    target: int  # the class
    size: tuple[int, int]
    stride: tuple[int, int]

    def box(self, i: int, j: int) -> tuple[int, int, int, int]:
        """(top, left, bottom, right) hidden for map cell (i, j)."""
        return (
            i * self.stride[0],
            j * self.stride[1],
            i * self.stride[0] + self.size[0],
            j * self.stride[1] + self.size[1],
        )


def _softmax(logits: np.ndarray) -> np.ndarray:
    z = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def occlusion(
    model: Any,
    image: Any,
    target: int | None = None,
    size: int | tuple[int, int] = 8,
    stride: int | tuple[int, int] = 4,
    fill: float | str = 0.5,
    batch_size: int = 64,
    apply_softmax: bool = True,
) -> Occlusion:
    """Slide a ``fill``-valued square over ``image`` (C, H, W) and record the ``target`` class probability.

    Parameters
    ----------
    target
        The class; by default the one the model predicts for the unoccluded image.
    fill
        The square's value: a number (0.5 = mid grey for [0, 1] images) or ``"mean"`` (the image's mean).
    apply_softmax
        ``False`` when the model already outputs probabilities (or to map raw logits).
    """
    x = image.numpy() if isinstance(image, Tensor) else np.asarray(image)
    if x.ndim != 3:
        raise ValueError(f"occlusion: expected one image (C, H, W), got shape {x.shape}")
    x = x.astype(model_dtype(model) or (x.dtype if x.dtype.kind == "f" else np.float32))
    (sh, sw), (kh, kw) = pair(stride, "stride", "occlusion", None), pair(size, "size", "occlusion", None)
    _, h, w = x.shape
    if kh > h or kw > w or min(sh, sw, kh, kw) < 1:
        raise ValueError(
            f"occlusion: square {kh}x{kw} with stride {sh}x{sw} does not fit an image of {h}x{w}"
        )
    value = float(x.mean()) if fill == "mean" else float(fill)
    rows, cols = (h - kh) // sh + 1, (w - kw) // sw + 1

    def classify(batch: np.ndarray) -> np.ndarray:
        out = model(Tensor(batch, device=model_device(model))).numpy()
        return _softmax(out) if apply_softmax else out

    with inspection_mode(model), no_grad():
        base = classify(x[None])[0]
        cls = int(base.argmax()) if target is None else int(target)
        probs = np.empty(rows * cols)
        places = [(i, j) for i in range(rows) for j in range(cols)]
        for start in range(0, len(places), batch_size):
            part = places[start : start + batch_size]
            batch = np.repeat(x[None], len(part), axis=0)
            for b, (i, j) in enumerate(part):
                batch[b, :, i * sh : i * sh + kh, j * sw : j * sw + kw] = value
            probs[start : start + len(part)] = classify(batch)[:, cls]
    return Occlusion(probs.reshape(rows, cols), float(base[cls]), cls, (kh, kw), (sh, sw))
