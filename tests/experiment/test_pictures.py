"""The report's pictures: shared occlusion scale and "no effect", curves, labels in a scalable font, progress."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tapegrad.experiment import pictures
from tapegrad.experiment.curves import plot_history
from tapegrad.experiment.pictures import NO_EFFECT, Panel, change_limit, labelled_row, panel_figure
from tapegrad.experiment.progress import epoch_line, on_terminal


def test_change_limit_is_shared_symmetric_and_never_blows_up_noise() -> None:
    maps = [np.array([[-0.3, 0.1]]), np.array([[0.2, 0.0]])]
    assert change_limit(maps) == pytest.approx(0.3)  # the largest |change| of all maps, both signs
    assert change_limit([np.full((2, 2), 0.001)]) == 0.05  # a flat map stays near white


def _colours(path: Path) -> np.ndarray:
    return np.asarray(Image.open(path).convert("RGB")).astype(int)


def test_occlusion_figure_shared_scale_colour_bar_and_no_effect(tmp_path: Path) -> None:
    image = np.random.default_rng(0).random((1, 8, 8))
    strong = np.zeros((4, 4))
    strong[0, 0] = -0.4
    flat = np.full((4, 4), NO_EFFECT / 2)
    path = panel_figure([[Panel(image, "a"), Panel(strong, "strong", "change")],
                         [Panel(image, "b"), Panel(flat, "flat", "change")]], tmp_path / "occ.png")
    pixels = _colours(path)
    blue = (pixels[..., 2] - pixels[..., 0] > 80) & (pixels[..., 2] > 100)
    red = (pixels[..., 0] - pixels[..., 2] > 80) & (pixels[..., 0] > 100)
    assert blue.any() and red.any()  # the colour bar spans both signs
    columns_with_colour = np.flatnonzero((blue | red).any(axis=0))
    assert columns_with_colour.max() > pixels.shape[1] * 0.8  # ...at the right edge
    # the flat map is drawn nearly white on the shared scale, not stretched to full colour
    lower = pixels[pixels.shape[0] // 2 :, : int(pixels.shape[1] * 0.75)]
    assert not ((lower[..., 2] - lower[..., 0] > 80) | (lower[..., 0] - lower[..., 2] > 80)).any()


def test_no_effect_is_written_on_a_flat_map(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from matplotlib.figure import Figure

    written: list[str] = []
    original = Figure.text

    def spy(self, x, y, s, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
        written.append(s)
        return original(self, x, y, s, *args, **kwargs)

    monkeypatch.setattr(Figure, "text", spy)
    panel_figure([[Panel(np.full((3, 3), 0.002), "flat", "change")],
                  [Panel(np.full((3, 3), -0.2), "strong", "change")]], tmp_path / "x.png")
    assert sum("no effect" in s for s in written) == 1
    assert {"flat", "strong"} <= set(written)  # the titles


def test_panels_are_coloured_as_imshow_colours_them_and_enlarged_by_whole_pixels(tmp_path: Path) -> None:
    """Each panel is the array coloured by imshow's colour map and norm for its kind, enlarged nearest-neighbour
    into its square, with a frame; a wide array keeps its aspect (centred, white above and below)."""
    from matplotlib import colormaps

    grey = np.array([[0.0, 2.0], [4.0, 4.0]])  # min-max: black, mid grey, white
    signed = np.array([[-1.0, 0.5]])  # symmetric around zero: black and 3/4 grey, in a 1:2 strip
    path = panel_figure([[Panel(grey, "grey"), Panel(signed, "signed", "signed")]], tmp_path / "p.png")
    pixels = _colours(path)
    side = round((pictures.PANEL_INCHES - pictures.GAP_INCHES) * pictures.DPI)
    top = pixels.shape[0] - round(0.1 * pictures.DPI) - round(pictures.GAP_INCHES / 2 * pictures.DPI) - side
    left = round(pictures.GAP_INCHES / 2 * pictures.DPI)
    quarter = side // 4
    expected = {(0, 0): 0, (0, 1): 128, (1, 0): 255, (1, 1): 255}
    for (i, j), value in expected.items():  # the centre of each source pixel's block
        y, x = top + quarter * (2 * i + 1), left + quarter * (2 * j + 1)
        assert abs(pixels[y, x] - value).max() <= 2, (i, j, pixels[y, x])
    assert (pixels[top + side // 2, left] < 60).all()  # the frame's left edge
    strip_left = left + round(pictures.PANEL_INCHES * pictures.DPI)
    mid = top + side // 2
    assert (pixels[mid, strip_left + quarter] < 5).all()  # -1: black
    three_quarters = np.round(np.array(colormaps["gray"](0.75)[:3]) * 255)
    assert abs(pixels[mid, strip_left + 3 * quarter] - three_quarters).max() <= 2
    assert (pixels[top + 5, strip_left + side // 2] == 255).all()  # above the 1:2 strip: the white page


def test_curves_have_whole_epoch_ticks(tmp_path: Path) -> None:
    history = [{"epoch": e, "train_loss": 1 / e, "train_accuracy": 0.5 + e / 40, "val_loss": 1.1 / e,
                "val_accuracy": 0.55 + e / 40} for e in range(1, 8)]
    path = plot_history(history, tmp_path / "curves.png")
    assert Image.open(path).size == (1000, 380)
    with pytest.raises(ValueError, match="empty"):
        plot_history([], tmp_path / "none.png")


def test_labels_have_room_between_words() -> None:
    tile = Image.new("L", (20, 20), 0)
    row = labelled_row([tile, tile], ["says shirt", "x"])
    assert row.width >= 20 * 2 + 60 and row.height >= 20 + 14  # the label is wider than its tile: room made
    grey = np.asarray(row.convert("L"))
    ink = (grey[:24, :] < 128).any(axis=0)
    runs = np.flatnonzero(np.diff(ink.astype(int)) == 1)  # starts of inked column runs
    assert len(runs) >= 9  # "says shirt" has separate letters, and a gap for the space


def test_progress_is_one_line_per_epoch_off_a_terminal() -> None:
    record = {"epoch": 3, "train_loss": 0.41234, "train_accuracy": 0.8123, "val_loss": 0.388,
              "val_accuracy": 0.83, "seconds": 4.12, "images_per_second": 1520.4}
    line = epoch_line(record, 25)
    assert line == ("epoch 3/25: loss 0.412, accuracy 81.2%, val loss 0.388, val accuracy 83.0%, 4.1 s "
                    "(1520 img/s)")
    assert not on_terminal(io.StringIO()) and not on_terminal(object())


def test_missing_dot_is_said_once_on_the_console(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    import shutil

    from tapegrad.experiment import report
    from tapegrad.experiment.model import ReferenceCNN

    monkeypatch.setattr(shutil, "which", lambda name: None)
    monkeypatch.setattr(pictures, "_said", set())
    model = ReferenceCNN(1, 2, 28, 0.0).eval()
    sample = np.zeros((1, 28, 28), np.float32)
    for _ in range(2):
        section = report._graph(model, sample, tmp_path)
        assert "graph.dot" in section.text and not section.figures
    err = capsys.readouterr().err
    assert err.count("Graphviz's dot is not installed") == 1 and "apt-get install graphviz" in err
    assert (tmp_path / "graph.dot").read_text().startswith("digraph")
