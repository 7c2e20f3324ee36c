"""The training curves as a PNG (matplotlib, Agg backend): loss and accuracy per epoch, training and validation.

matplotlib's tick locators give round tick values (0.25, 0.30 ... rather than the 0.23, 0.46 of a hand-made
five-way split of the data range) and whole epochs on the x axis.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from .pictures import new_figure

COLOURS = {"train": "#1f77b4", "val": "#ff7f0e"}
NAMES = {"train": "training (augmented, dropout on)", "val": "validation (plain images, eval mode)"}


def plot_history(history: Sequence[dict[str, float]], path: str | Path) -> Path:
    """Loss (left) and accuracy (right) of the training batches and of the validation set, per epoch."""
    if not history:
        raise ValueError("plot_history: the history is empty (no finished epoch)")
    from matplotlib.ticker import MaxNLocator, PercentFormatter

    epochs = [int(h.get("epoch", i + 1)) for i, h in enumerate(history)]
    series = {"train": ("train_loss", "train_accuracy")}
    if all("val_loss" in h for h in history):
        series["val"] = ("val_loss", "val_accuracy")
    fig = new_figure(10, 3.8)
    loss_ax, acc_ax = fig.subplots(1, 2)
    for name, (loss_key, acc_key) in series.items():
        style = {"color": COLOURS[name], "marker": "o", "markersize": 3, "linewidth": 1.5, "label": NAMES[name]}
        loss_ax.plot(epochs, [h[loss_key] for h in history], **style)
        acc_ax.plot(epochs, [h[acc_key] for h in history], **style)
    loss_ax.set_title("loss (cross-entropy; label-smoothed for training)", fontsize=11)
    loss_ax.set_ylim(bottom=0)
    acc_ax.set_title("accuracy", fontsize=11)
    acc_ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    for ax in (loss_ax, acc_ax):
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(True, color="#e5e5e5")
        ax.set_axisbelow(True)
    acc_ax.legend(loc="lower right", fontsize=9, frameon=False)
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, dpi=100)
    return path
