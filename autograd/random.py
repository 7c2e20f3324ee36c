"""tapegrad's random numbers: one seeded generator, so ``manual_seed`` makes init, dropout and shuffling repeatable."""

from __future__ import annotations

from typing import Any

import numpy as np

_generator = np.random.default_rng(0)


def manual_seed(seed: int) -> np.random.Generator:
    """Reseed the default generator (like ``torch.manual_seed``) and return it."""
    global _generator
    _generator = np.random.default_rng(seed)
    return _generator


def default_generator() -> np.random.Generator:
    """The NumPy ``Generator`` behind :func:`~tapegrad.autograd.randn`, :func:`~tapegrad.autograd.rand`, init,
    dropout and shuffling.

    Draw from it rather than from ``numpy.random`` so that :func:`manual_seed` makes a run repeatable.  Call
    this each time instead of keeping the result: :func:`manual_seed` replaces the generator.
    """
    return _generator


def get_rng_state() -> dict[str, Any]:
    """The default generator's state (its bit generator's ``state`` dict), for :func:`set_rng_state`.

    Like ``torch.get_rng_state``; save it with a checkpoint to resume the same random stream.
    """
    return _generator.bit_generator.state


def set_rng_state(state: dict[str, Any]) -> None:
    """Restore a state returned by :func:`get_rng_state` (``torch.set_rng_state``)."""
    _generator.bit_generator.state = state
