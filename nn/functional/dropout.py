"""Inverted dropout: zero each element with probability ``p`` and scale survivors by 1/(1-p) in training."""

from __future__ import annotations

from tapegrad.autograd import Tensor
from tapegrad.autograd.backend import to_device
from tapegrad.autograd.opspec import OpSpec
from tapegrad.autograd.random import default_generator


def dropout(x: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Like ``torch.nn.functional.dropout``; the mask comes from
    ``tapegrad.autograd.random.default_generator()``.

    Scaling at training time (not at test time) keeps the expected activation the same in both modes, so
    evaluation needs no change at all.
    """
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout: probability p must be between 0 and 1, got {p}")
    if not training or p == 0.0:
        return x
    if p == 1.0:
        return x * 0.0
    keep = default_generator().random(x.shape) >= p
    mask = to_device((keep / (1.0 - p)).astype(x.dtype), x.device)
    return x * Tensor._make(mask, None, 0)


# How the op is checked: only its deterministic corners (evaluation, p=0, p=1) can be compared with torch.
SPECS = (OpSpec("dropout", lambda x, **kw: dropout(x, **kw), "torch.nn.functional.dropout", inputs="dropout"),)
