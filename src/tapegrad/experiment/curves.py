"""The training curves as a PNG, drawn with Pillow (no plotting library needed): loss and accuracy per
epoch.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from PIL import Image, ImageDraw

COLOURS = {"train": (31, 119, 180), "val": (255, 127, 14)}


def _panel(draw: ImageDraw.ImageDraw, box: tuple[int, int, int, int], title: str,
           series: dict[str, Sequence[float]], lo: float, hi: float, fmt: str) -> None:
    left, top, right, bottom = box
    draw.rectangle(box, outline=(0, 0, 0))
    draw.text((left, top - 16), title, fill=(0, 0, 0))
    for i in range(5):  # horizontal grid lines with their values
        value = lo + (hi - lo) * i / 4
        y = bottom - (bottom - top) * i / 4
        draw.line((left, y, right, y), fill=(225, 225, 225))
        draw.text((left - 44, y - 6), format(value, fmt), fill=(80, 80, 80))
    n = max(len(v) for v in series.values())
    for i in range(n):
        x = left + (right - left) * (i + 0.5) / n
        if n <= 20 or i % max(1, n // 10) == 0:
            draw.text((x - 4, bottom + 4), str(i + 1), fill=(80, 80, 80))
    for name, values in series.items():
        points = [(left + (right - left) * (i + 0.5) / n,
                   bottom - (bottom - top) * (min(max(v, lo), hi) - lo) / ((hi - lo) or 1.0))
                  for i, v in enumerate(values)]
        if len(points) > 1:
            draw.line(points, fill=COLOURS[name], width=2)
        for x, y in points:
            draw.ellipse((x - 3, y - 3, x + 3, y + 3), fill=COLOURS[name])


def plot_history(history: Sequence[dict[str, float]], path: str | Path) -> Path:
    """Loss (left) and accuracy (right) of the training batches and of the validation set, per epoch."""
    width, height = 900, 360
    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)
    loss = {"train": [h["train_loss"] for h in history]}
    acc = {"train": [h["train_accuracy"] for h in history]}
    if all("val_loss" in h for h in history):
        loss["val"] = [h["val_loss"] for h in history]
        acc["val"] = [h["val_accuracy"] for h in history]
    top_loss = max(max(v) for v in loss.values()) * 1.05 or 1.0
    lo_acc = min(0.5, min(min(v) for v in acc.values()))
    title = "loss (cross-entropy, label smoothed for train)"
    _panel(draw, (60, 40, 420, 310), title, loss, 0.0, top_loss, ".2f")
    _panel(draw, (510, 40, 870, 310), "accuracy", acc, lo_acc, 1.0, ".2f")
    draw.text((240, 330), "epoch", fill=(0, 0, 0))
    draw.text((690, 330), "epoch", fill=(0, 0, 0))
    for i, (name, colour) in enumerate(COLOURS.items()):
        if name in loss:
            draw.rectangle((330 + i * 120, 8, 342 + i * 120, 20), fill=colour)
            draw.text((348 + i * 120, 8), "training" if name == "train" else "validation", fill=(0, 0, 0))
    path = Path(path)
    image.save(path)
    return path
