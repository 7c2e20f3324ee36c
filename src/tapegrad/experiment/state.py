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

import numpy as np

from tapegrad import nn
from tapegrad.nn.checkpoint import CheckpointError

from .config import TrainConfig
from .model import ReferenceCNN, build_model

FORMAT = "tapegrad-experiment"


class CheckpointFormatError(CheckpointError):
    """A file that is a tapegrad checkpoint but not one written by ``tapegrad train`` (or a damaged one)."""


def _is_int(v: Any, low: int, high: int) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and low <= v <= high


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _problem(state: dict[str, Any]) -> str | None:
    """What is wrong with a training checkpoint's entries (None: nothing), checked before any is used.

    A crafted or damaged file must not reach the model builder (an image size of 10**9 would try to
    allocate a classifier of that size) or ``set_rng_state`` (a TypeError traceback on ``--resume``).
    """
    mc = state.get("model_config")
    if not isinstance(mc, dict) or set(mc) != {"in_channels", "num_classes", "image_size", "dropout"}:
        return "model_config must be a dict of in_channels, num_classes, image_size and dropout"
    if mc["in_channels"] not in (1, 3) or not _is_int(mc["in_channels"], 1, 3):
        return f"model_config.in_channels must be 1 or 3, got {mc['in_channels']!r}"
    if not _is_int(mc["num_classes"], 2, 100_000) or not _is_int(mc["image_size"], 8, 4096):
        return "model_config.num_classes must be 2..100000 and image_size 8..4096"
    if not _is_number(mc["dropout"]) or not 0 <= mc["dropout"] < 1:
        return f"model_config.dropout must be in [0, 1), got {mc['dropout']!r}"
    classes = state.get("classes")
    if not isinstance(classes, list) or len(classes) != mc["num_classes"] \
            or not all(isinstance(c, str) for c in classes):
        return f"classes must be a list of {mc['num_classes']} names"
    for name in ("mean", "std"):
        v = state.get(name)
        if not isinstance(v, list) or len(v) != mc["in_channels"] or not all(_is_number(x) for x in v):
            return f"{name} must be a list of {mc['in_channels']} numbers"
    if not isinstance(state.get("train_config"), dict) or not isinstance(state["train_config"].get("data"), str):
        return "train_config must be a dict naming the data"
    if not isinstance(state.get("model"), dict) or not all(hasattr(v, "shape") for v in state["model"].values()):
        return "model must be a dict of arrays"
    for name in ("optimizer", "scheduler", "rng"):
        if not isinstance(state.get(name), dict):
            return f"{name} must be a dict, got {type(state.get(name)).__name__}"
    if not _is_int(state.get("epoch"), 0, 10**9) or not _is_number(state.get("seconds")):
        return "epoch must be a whole number and seconds a number"
    if not isinstance(state.get("history"), list) or not all(isinstance(h, dict) for h in state["history"]):
        return "history must be a list of dicts"
    try:  # the RNG state must be one numpy accepts (tried on a throwaway generator)
        np.random.default_rng().bit_generator.state = state["rng"]
    except Exception as exc:  # noqa: BLE001 - numpy raises Type/Value/Key/IndexError for a malformed state
        return f"rng is not a random generator state ({type(exc).__name__}: {str(exc)[:100]})"
    return None


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
    problem = _problem(state)
    if problem is not None:
        raise CheckpointFormatError(f"{path}: a damaged `tapegrad train` checkpoint: {problem}")
    return state


def model_from_checkpoint(state: dict[str, Any]) -> ReferenceCNN:
    """The trained model, in eval mode, on the CPU."""
    model = build_model(state["model_config"])
    model.load_state_dict(state["model"])
    return model.eval()


def config_from_checkpoint(state: dict[str, Any]) -> TrainConfig:
    return TrainConfig.from_dict(state["train_config"])
