"""A command's output folder: made only when there is something to write, never left behind empty, and never
holding a report that describes another checkpoint.

``train`` refuses a folder that holds another run (its checkpoint or report) unless ``--resume`` continues that
run or ``--overwrite`` replaces it; ``demo`` replaces its own earlier output (running the README's command twice
must work) and says so.  Whatever replaces or continues a checkpoint first removes the report beside it, which
described the old one; a new report is written only with ``--report``.
"""

from __future__ import annotations

import argparse
import contextlib
from collections.abc import Iterator
from pathlib import Path

CHECKPOINT = "checkpoint.npz"
# what write_report writes (the pictures by pattern: one per conv layer)
REPORT_FILES = ("index.html", "metrics.json", "curves.png", "graph.dot", "graph.svg", "graph_modules.svg", "sanity.txt",
                "occlusion.png", "misclassified.png")
REPORT_PATTERNS = ("top9_conv*.png", "filters_conv*.png")


def report_files(out: Path) -> list[Path]:
    found = [out / name for name in REPORT_FILES if (out / name).is_file()]
    return found + sorted(p for pattern in REPORT_PATTERNS for p in out.glob(pattern) if p.is_file())


def run_files(out: Path) -> list[Path]:
    """The files of an earlier run in ``out`` (its checkpoint first, then its report)."""
    checkpoint = [out / CHECKPOINT] if (out / CHECKPOINT).is_file() else []
    return checkpoint + report_files(out)


def _remove(paths: list[Path]) -> None:
    for path in paths:
        path.unlink(missing_ok=True)


def _names(paths: list[Path]) -> str:
    shown = ", ".join(p.name for p in paths[:4])
    return shown + (f" and {len(paths) - 4} more" if len(paths) > 4 else "")


def prepare_train(out: Path, resume: str | None, overwrite: bool) -> str | None:
    """Make ``out`` ready for ``train`` (refuse, replace or tidy); returns what to tell the user, if anything."""
    existing = run_files(out)
    continuing = resume is not None and (out / CHECKPOINT).is_file() and \
        (out / CHECKPOINT).resolve() == Path(resume).resolve()
    if continuing:
        stale = report_files(out)
        _remove(stale)
        return f"removed the earlier report in {out}/ (it described the checkpoint before this run)" if stale \
            else None
    if not existing:
        return None
    if not overwrite:
        hint = f"--resume {out / CHECKPOINT} to continue it, " if (out / CHECKPOINT).is_file() else ""
        raise FileExistsError(f"--out {out} holds another run ({_names(existing)}): pass --overwrite to replace "
                              f"it, {hint}or choose another --out")
    _remove(existing)
    return f"replacing the run in {out}/ (--overwrite)"


def prepare_demo(out: Path, overwrite: bool) -> str | None:
    """The demo replaces its own earlier output (a run on the embedded data), and refuses anything else."""
    existing = run_files(out)
    if not existing:
        return None
    if not overwrite and (out / CHECKPOINT).is_file() and _trained_on(out / CHECKPOINT) != "embedded":
        raise FileExistsError(f"--out {out} holds a run that is not the demo's ({_names(existing)}): pass "
                              "--overwrite to replace it, or choose another --out")
    _remove(existing)
    return f"replacing the earlier demo output in {out}/"


def _trained_on(checkpoint: Path) -> str | None:
    from tapegrad import nn
    from tapegrad.nn.checkpoint import CheckpointError

    try:
        state = nn.load(checkpoint)
    except (CheckpointError, OSError):
        return None
    config = state.get("train_config") if isinstance(state, dict) else None
    return config.get("data") if isinstance(config, dict) else None


def folder_of(args: argparse.Namespace) -> Path | None:
    """The folder a command writes into (None: it writes nothing)."""
    if args.command == "train":
        return Path(args.out) if args.out else Path(args.resume).parent if args.resume else Path("runs/train")
    if args.command in ("demo", "visualize"):
        return Path(args.out)
    if args.command == "graph":
        return Path(args.out).parent
    return None


@contextlib.contextmanager
def removed_if_empty_on_failure(folder: Path | None) -> Iterator[None]:
    """If the command fails, remove the folders it created on the way to ``folder`` that are still empty."""
    created: list[Path] = []
    if folder is not None:
        path = folder.absolute()
        while not path.exists() and path != path.parent:
            created.append(path)
            path = path.parent
    try:
        yield
    except BaseException:
        for path in created:  # innermost first
            try:
                path.rmdir()  # only succeeds on an empty folder
            except OSError:
                break
        raise


PICTURE_KEY = "tapegrad-model"  # a PNG text chunk: which checkpoint's model a picture shows


def model_fingerprint(checkpoint: str | Path) -> str:
    """The checkpoint's identity for the pictures made from it: a hash of its bytes (16 hex digits)."""
    import hashlib

    digest = hashlib.sha256()
    with open(checkpoint, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()[:16]


def check_picture(path: Path, fingerprint: str, overwrite: bool) -> None:
    """Refuse to replace a picture of another model (or of unknown origin) unless ``overwrite``.

    ``visualize`` names its pictures by layer and method, so a second checkpoint visualised into the same
    folder would silently replace the first one's picture; the same checkpoint again may replace its own.
    """
    if overwrite or not path.exists():
        return
    from PIL import Image

    try:
        with Image.open(path) as image:
            owner = image.info.get(PICTURE_KEY)
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError):
        owner = None
    if owner != fingerprint:
        made = f"made from another checkpoint ({owner})" if owner else "not made from this checkpoint"
        raise FileExistsError(f"{path} exists, {made}: pass --overwrite to replace it, or choose another --out")


def save_picture(image: object, path: Path, fingerprint: str) -> None:
    """Save a PNG, tagged with the model it shows; the folder is made now that there is something to write."""
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    info.add_text(PICTURE_KEY, fingerprint)
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path, pnginfo=info)  # type: ignore[attr-defined]
