"""The images ``evaluate`` (and ``visualize``) score a checkpoint on, and the check that their classes are the
checkpoint's.

``--data DIR`` where DIR is one folder of class sub-folders: every image in it is scored (it is new data; the
90/10 split of training would score only a tenth of it: "100 % on 2 images" for a folder of 12).  A DIR with
``test/`` (or ``val/``) sub-folders: that part.  Without ``--data``: the held-out split of the data the
checkpoint was trained on.  Class folders must carry the checkpoint's class names, in any case: a cat/not_cat
folder scored against a shirt/not_shirt model would otherwise be matched by sorted position without a word;
``--match-classes-by-position`` asks for exactly that.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tapegrad.experiment import load_data
from tapegrad.experiment.state import config_from_checkpoint
from tapegrad.nn.data import ArrayImageDataset, DataError, ImageFolder

BY_POSITION = "--match-classes-by-position"


def check_classes(found: list[str], expected: list[str], where: str, by_position: bool) -> None:
    if len(found) != len(expected):
        raise DataError(f"{where} has {len(found)} classes {found}, the checkpoint's model {len(expected)} "
                        f"({', '.join(expected)})")
    if list(found) != list(expected) and not by_position:
        pairs = ", ".join(f"{a} as {b}" for a, b in zip(found, expected, strict=True))
        raise DataError(f"{where} has the classes {found}, but the checkpoint's model was trained on {expected}: "
                        f"rename the folders to match, or pass {BY_POSITION} to score them by sorted position "
                        f"({pairs})")


def checkpoint_data(state: dict[str, Any], data: str | None, by_position: bool = False) -> Any:
    """The checkpoint's data (or ``data`` read the way the checkpoint's model needs it), classes checked."""
    config = config_from_checkpoint(state)
    model_config = state["model_config"]
    config.limit = None
    config.image_size = model_config["image_size"]
    config.channels = model_config["in_channels"] if data not in (None, "embedded", "fashion-mnist") else None
    if data is not None:
        config.data = data
    loaded = load_data(config)
    check_classes(list(loaded.classes), list(state["classes"]), config.data, by_position)
    return loaded


def _is_flat_folder(data: str | None) -> bool:
    if data is None or data in ("embedded", "fashion-mnist", "fashion_mnist", "fashionmnist"):
        return False
    path = Path(data).expanduser()
    return path.is_dir() and not any((path / part).is_dir() for part in ("train", "val", "test"))


def evaluation_set(state: dict[str, Any], data: str | None, split: str | None,
                   by_position: bool) -> tuple[ArrayImageDataset, str]:
    """(the images to score, untransformed; what they are, for the result line)."""
    if _is_flat_folder(data):
        path = Path(data).expanduser()
        if split is not None:
            raise DataError(f"--split {split}: {path} is one folder of class sub-folders (no val/ or test/ "
                            "part), and every image in it is scored; leave --split out")
        mc = state["model_config"]
        folder = ImageFolder(path, image_size=mc["image_size"], channels=mc["in_channels"], on_error="warn")
        check_classes(list(folder.classes), list(state["classes"]), str(path), by_position)
        skipped = f", {len(folder.skipped)} unreadable skipped" if folder.skipped else ""
        return ArrayImageDataset(folder.images, folder.targets, folder.classes), f"every image in {path}{skipped}"
    loaded = checkpoint_data(state, data, by_position)
    split = split or ("test" if loaded.test is not None else "val")
    dataset = loaded.test if split == "test" else loaded.val
    if dataset is None:
        raise DataError(f"{data or state['train_config']['data']} has no {split} set")
    return dataset, split
