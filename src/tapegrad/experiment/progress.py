"""Progress output that suits where it goes: tqdm bars on a terminal, one plain line per epoch elsewhere.

``tapegrad demo > log 2>&1`` wrote 139 KB of carriage-return bar updates (25 epochs plus the report's scans)
before this; off a terminal the log now holds one line per epoch.
"""

from __future__ import annotations

import sys
from typing import Any


def on_terminal(stream: Any = None) -> bool:
    """Whether ``stream`` (default: stderr, where tqdm draws) is an interactive terminal."""
    stream = sys.stderr if stream is None else stream
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # closed or replaced by an object without isatty
        return False


def epoch_line(record: dict[str, float], epochs: int) -> str:
    """``epoch 3/25: loss 0.412, accuracy 81.2%, val loss 0.388, val accuracy 83.0%, 4.1 s (1520 img/s)``."""
    parts = [f"epoch {int(record['epoch'])}/{epochs}: loss {record['train_loss']:.3f}",
             f"accuracy {record['train_accuracy']:.1%}"]
    if "val_loss" in record:
        parts += [f"val loss {record['val_loss']:.3f}", f"val accuracy {record['val_accuracy']:.1%}"]
    parts.append(f"{record['seconds']:.1f} s ({record['images_per_second']:.0f} img/s)")
    return ", ".join(parts)
