"""Nothing from the data reaches the report as markup (issue 14, defect 1).

Class folder names, the ``--data`` path and module names are user strings: the page and the graph must show
them as text.  The page also carries a Content-Security-Policy that forbids scripts.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from tapegrad.autograd import Tensor
from tapegrad.viz import draw_model, render_graph

from tapegrad import nn
from tapegrad.cli.main import main
from tapegrad.experiment.html import write_index
from tapegrad.experiment.report import Section
from tests.safe_html import assert_report_is_safe, assert_svg_is_safe, parse

SCRIPT = "<img src=x onerror=alert(1)>"
QUOTES = "q\"'><svg onload=alert(2)>"


def test_the_issue_repro_shows_the_class_names_as_text(tmp_path: Path) -> None:
    data = tmp_path / f"x{SCRIPT}"
    rng = np.random.default_rng(0)
    for split in ("train", "test"):
        for name in (SCRIPT, QUOTES):
            (data / split / name).mkdir(parents=True)
            for i in range(4):
                pixels = rng.integers(0, 255, (12, 12, 3), dtype=np.uint8)
                Image.fromarray(pixels).save(data / split / name / f"{i}.png")
    out = tmp_path / "runs" / "x"
    assert main(["train", "--data", str(data), "--image-size", "8", "--epochs", "1", "--report", "--out", str(out),
                 "--viz-channels", "1", "--quiet"]) == 0
    text = assert_report_is_safe(out / "index.html", [SCRIPT, QUOTES, str(data)])
    assert "test accuracy" in text
    if (out / "graph.svg").exists():
        assert_svg_is_safe(out / "graph.svg")


def test_every_section_field_is_escaped_unless_it_is_the_projects_own_markup(tmp_path: Path) -> None:
    from markupsafe import Markup

    (tmp_path / f"{SCRIPT}.png").write_bytes(b"")  # a figure whose name and caption come from data
    sections = [Section(SCRIPT, text=SCRIPT, note=QUOTES, preformatted=SCRIPT, figures=[(f"{SCRIPT}.png", QUOTES)]),
                Section("own", text=Markup("<p>the project's <b>own</b> markup</p>"))]
    page = write_index(tmp_path, sections, title=SCRIPT)
    assert_report_is_safe(page, [SCRIPT, QUOTES])
    html = page.read_text()
    assert "<b>own</b>" in html  # Markup is the one way in for HTML
    images = [dict(attrs) for tag, attrs in parse(html).tags if tag == "img"]
    assert [i["src"] for i in images] == [f"{SCRIPT}.png"] and images[0]["alt"] == QUOTES  # values, not markup


class Hostile(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.add_module("<b>x</b>", nn.Linear(3, 2))
        self.add_module(SCRIPT, nn.ReLU())

    def forward(self, x):
        return self._modules[SCRIPT](self._modules["<b>x</b>"](x))


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot is not installed")
def test_graph_labels_from_module_names_are_text_in_dot_and_svg(tmp_path: Path) -> None:
    drawing = draw_model(Hostile(), Tensor(np.ones((1, 3), np.float32)))
    assert "label=<" not in drawing.source  # no name became an HTML-like label
    assert 'label="<b>x</b>"' in drawing.source and f'label="{SCRIPT}"' in drawing.source
    svg = render_graph(drawing, tmp_path / "g.svg")
    assert_svg_is_safe(svg)
    assert "&lt;b&gt;x&lt;/b&gt;" in svg.read_text()  # the name is shown, escaped
