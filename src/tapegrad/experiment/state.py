"""Training checkpoints: everything needed to rebuild the model and to resume a run bit for bit.

A checkpoint is one ``tapegrad.nn.save`` archive (atomic: written to a temporary file, then renamed) holding
the model weights, the optimizer and scheduler state, the finished epoch, tapegrad's RNG state (augmentation
and dropout draw from it), the run's ``TrainConfig`` (the data loader's order is a function of its seed and
the epoch) and what the model needs to read images (classes, normalisation).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from tapegrad import nn
from tapegrad.autograd.errors import TapegradError

from .config import TrainConfig
from .model import ReferenceCNN, build_model

FORMAT = "tapegrad-experiment"


class CheckpointFormatError(TapegradError, ValueError):
    """A file that is a tapegrad checkpoint but not one written by ``tapegrad train``."""


def save_checkpoint(path: str | os.PathLike[str], **state: Any) -> None:
    nn.save({"format": FORMAT, **state}, path)


def load_checkpoint(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read a training checkpoint (errors name the file and what is wrong with it)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such checkpoint")
    state = nn.load(path)
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise CheckpointFormatError(f"{path}: a tapegrad archive, but not a checkpoint from `tapegrad train`")
    return state


def model_from_checkpoint(state: dict[str, Any]) -> ReferenceCNN:
    """The trained model, in eval mode, on the CPU."""
    model = build_model(state["model_config"])
    model.load_state_dict(state["model"])
    return model.eval()


def config_from_checkpoint(state: dict[str, Any]) -> TrainConfig:
    return TrainConfig.from_dict(state["train_config"])
