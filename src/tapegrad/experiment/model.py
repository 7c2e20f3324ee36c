"""The reference CNN: the original experiment's small network, with batch norm added.

For 28 x 28 inputs (the embedded data set) it is::

    conv1 3x3, 1->16, pad 1 -> bn1 -> relu1 -> pool1 2x2      28 -> 14
    conv2 3x3, 16->32, pad 1 -> bn2 -> relu2 -> pool2 2x2     14 -> 7
    conv3 3x3, 32->32, pad 1 -> bn3 -> relu3                   7 -> 7
    flatten -> dropout(0.5) -> fc 1568 -> classes

(17,346 weights and batch-norm parameters).  Larger inputs get more pooled blocks, until the map is at most 7
pixels wide, with widths 16, 32, 32, 64, 64, ...: a 3 x 224 x 224 photo gets five pooled blocks (224 -> 7) and
a final 64-wide conv.  Every layer is a named module (``conv1``, ``relu1``, ...), which is how the deconvnet,
the top-9 grids and ``tapegrad visualize --layer`` refer to them.
"""

from __future__ import annotations

from typing import Any

from tapegrad.nn import BatchNorm2d, Conv2d, Dropout, Flatten, Linear, MaxPool2d, Module, ReLU

WIDTHS = (16, 32, 32, 64, 64, 64, 64, 128)


def pooled_blocks(image_size: int) -> int:
    """How many 2x2 poolings bring ``image_size`` to at most 7 pixels (at least two, as in the original)."""
    blocks, size = 0, image_size
    while size > 7 or blocks < 2:
        if size < 2:
            break
        size //= 2
        blocks += 1
    return blocks


class ReferenceCNN(Module):
    """Conv-BN-ReLU(-pool) blocks, dropout, one linear classifier (see the module docstring).

    Parameters
    ----------
    in_channels : 1 for grey images, 3 for colour
    num_classes : outputs of the classifier
    image_size : the (square) input size the classifier is sized for
    dropout : the drop probability before the classifier
    """

    def __init__(self, in_channels: int = 1, num_classes: int = 2, image_size: int = 28,
                 dropout: float = 0.5) -> None:
        super().__init__()
        self.config = {"in_channels": int(in_channels), "num_classes": int(num_classes),
                       "image_size": int(image_size), "dropout": float(dropout)}
        self.layer_names: list[str] = []
        pools = pooled_blocks(image_size)
        channels, size = in_channels, image_size
        for i in range(pools + 1):
            width = WIDTHS[min(i, len(WIDTHS) - 1)]
            if i == pools:  # the last block keeps its resolution: 7x7 maps for the classifier to read
                width = channels
            self._add(f"conv{i + 1}", Conv2d(channels, width, 3, padding=1))
            self._add(f"bn{i + 1}", BatchNorm2d(width))
            self._add(f"relu{i + 1}", ReLU())
            if i < pools:
                self._add(f"pool{i + 1}", MaxPool2d(2))
                size //= 2
            channels = width
        self._add("flatten", Flatten())
        self._add("dropout", Dropout(dropout))
        self._add("fc", Linear(channels * size * size, num_classes))
        self.conv_layers = [n for n in self.layer_names if n.startswith("conv")]

    def _add(self, name: str, module: Module) -> None:
        self.add_module(name, module)
        self.layer_names.append(name)

    def forward(self, x: Any) -> Any:
        for name in self.layer_names:
            x = getattr(self, name)(x)
        return x


def build_model(config: dict[str, Any]) -> ReferenceCNN:
    """The model a checkpoint's ``model_config`` describes."""
    return ReferenceCNN(**config)
