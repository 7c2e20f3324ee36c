"""draw_graph: a node per recorded op, named parameter leaves, module clusters, both directions, rendering."""

from __future__ import annotations

import re
import shutil

import graphviz
import numpy as np
import pytest
from tapegrad.autograd import Tensor
from tapegrad.autograd.errors import GraphError
from tapegrad.viz import draw_graph, draw_model, render_graph, trace_modules

from tapegrad import nn


def model() -> nn.Sequential:
    from tapegrad.autograd import manual_seed

    manual_seed(0)
    return nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU(), nn.Flatten(), nn.Linear(8, 3))


def _edges(source: str) -> set[tuple[str, str]]:
    return set(re.findall(r"^\s*(\w+) -> (\w+)", source, flags=re.M))


def _labels(source: str) -> dict[str, str]:
    return dict(re.findall(r'^\s*(\w+) \[label="([^"]*)"', source, flags=re.M))


def test_nodes_edges_and_names() -> None:
    m = model()
    x = Tensor(np.ones((2, 1, 4, 4), dtype=np.float32), requires_grad=True)
    out = m(x).sum()
    dot = draw_graph(out, params=dict(m.named_parameters()))
    assert isinstance(dot, graphviz.Digraph)
    labels = _labels(dot.source)
    ops = sorted(v.split("\\n")[0] for k, v in labels.items() if not k.startswith(("leaf", "out")))
    assert ops == ["Add", "Conv2d", "MatMul", "Relu", "Reshape", "Sum", "Transpose"]
    leaves = sorted(v for k, v in labels.items() if k.startswith("leaf"))
    assert leaves == sorted(
        ["(2, 1, 4, 4)", "0.weight\\n(2, 1, 3, 3)", "0.bias\\n(2)", "3.weight\\n(3, 8)", "3.bias\\n(3)"]
    )
    assert any(v.startswith("Conv2d\\n(2, 2, 2, 2)") for v in labels.values())  # op nodes carry their shape
    edges = _edges(dot.source)
    key = {v.split("\\n")[0]: k for k, v in labels.items()}
    assert (key["Sum"], key["Add"]) in edges  # backward: from an op to its inputs
    forward = _edges(draw_graph(out, direction="forward").source)
    assert forward == {(b, a) for a, b in edges}
    out.backward()
    with pytest.raises(GraphError, match="draw it before calling backward"):
        draw_graph(out)


def test_parameter_names_from_the_module_and_saved_arrays() -> None:
    m = model()
    out = m(Tensor(np.ones((1, 1, 4, 4), dtype=np.float32)))
    source = draw_graph(out, params=m, show_saved=True).source
    assert "3.weight" in source and "saved" in source and "style=dashed" in source


def test_module_clusters_nest_by_name() -> None:
    inner = model()
    outer = nn.Sequential(inner, nn.ReLU())
    x = Tensor(np.ones((1, 1, 4, 4), dtype=np.float32))
    with trace_modules(outer) as scopes:
        out = outer(x)
    names = sorted(set(scopes.values()))
    assert names == ["0.0", "0.1", "0.2", "0.3", "1"]  # the innermost module claims each node
    by_name = {n: sorted(c.name for c, s in scopes.items() if s == n) for n in names}
    assert by_name["0.0"] == ["Conv2d"] and by_name["0.3"] == ["Add", "MatMul", "Transpose"]
    dot = draw_graph(out, scopes=scopes, cluster_modules=True, params=outer)
    assert "subgraph cluster_0 {" in dot.source and "subgraph cluster_0_3 {" in dot.source
    assert dot.source.index("cluster_0 {") < dot.source.index("cluster_0_3 {")  # nested inside
    with pytest.raises(ValueError, match="trace_modules"):
        draw_graph(out, cluster_modules=True)
    assert "cluster_0_0" in draw_model(outer, x).source


NO_DOT = "Graphviz's dot is not installed (apt-get install graphviz)"


@pytest.mark.skipif(shutil.which("dot") is None, reason=NO_DOT)
def test_renders_svg(tmp_path) -> None:  # noqa: ANN001 - pytest fixture
    m = model()
    dot = draw_model(m, Tensor(np.ones((1, 1, 4, 4), dtype=np.float32), requires_grad=True))
    path = render_graph(dot, tmp_path / "graph.svg")
    text = path.read_text()
    assert text.lstrip().startswith("<?xml") and "<svg" in text and "Conv2d" in text and "3.weight" in text


def test_rendering_without_dot_is_an_early_clear_error(monkeypatch, tmp_path) -> None:  # noqa: ANN001
    m = model()
    dot = draw_graph(m(Tensor(np.ones((1, 1, 4, 4), dtype=np.float32))))
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(RuntimeError, match="apt-get install graphviz"):
        render_graph(dot, tmp_path / "g.svg")
    assert not (tmp_path / "g.svg").exists()
    assert "Conv2d" in dot.source  # the DOT text needs no binary
