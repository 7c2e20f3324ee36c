"""Draw the graph a computation recorded: ``draw_graph(output)`` returns a ``graphviz.Digraph``.

One node per recorded op (labelled with its ``Function`` name and output shape), one node per leaf tensor that
requires grad (its shape, and its name when it is a known parameter), optionally one node per saved array.
Draw *before* backward: backward frees the graph (unless ``retain_graph=True``).

``Digraph.source`` (the DOT text) needs only the Python package; turning it into SVG/PNG needs Graphviz's
``dot`` program, and :func:`render_graph` checks for it up front with an error saying how to install it.

Module clusters: the graph itself does not know which module created a node, so :func:`trace_modules` records
it during a forward pass (temporary forward hooks: a module's nodes are the ancestors of its output that are
not ancestors of its inputs; the innermost module claims a node first).  :func:`draw_model` does both in one
call.
"""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import graphviz
from tapegrad.autograd import Tensor, enable_grad
from tapegrad.autograd.errors import GraphError
from tapegrad.autograd.function import Context

_OP_STYLE = {"shape": "box", "style": "filled", "fillcolor": "lightgrey", "fontname": "Helvetica"}
_LEAF_STYLE = {"shape": "box", "style": "filled,rounded", "fillcolor": "lightblue", "fontname": "Helvetica"}
_OUT_STYLE = {"shape": "box", "style": "filled", "fillcolor": "darkolivegreen1", "fontname": "Helvetica"}
NL = "\\n"  # DOT's line break inside a label (an escape, not a raw newline)
_SAVED_STYLE = {"shape": "box", "style": "filled", "fillcolor": "orange", "fontname": "Helvetica"}


def _text(name: str) -> str:
    """A user string (module/parameter name) as literal label text: its backslashes are not DOT escapes."""
    return name.replace("\\", "\\\\")


def _shape(shape: tuple[int, ...]) -> str:
    return "(" + ", ".join(str(s) for s in shape) + ")"


def _named_parameters(params: Any) -> dict[int, str]:
    if params is None:
        return {}
    if hasattr(params, "named_parameters"):
        params = dict(params.named_parameters())
    return {id(t): name for name, t in dict(params).items()}


def _ancestors(roots: list[Context], stop: set[Context] | None = None) -> list[Context]:
    """Nodes reachable from ``roots`` through parents (iterative DFS), not entering ``stop``."""
    stop = stop or set()
    seen: set[Context] = set()
    order: list[Context] = []
    stack = [r for r in roots if r not in stop]
    while stack:
        node = stack.pop()
        if node in seen:
            continue
        if node.released:
            raise GraphError(
                f"draw_graph: the graph was freed ({node.name} was released by a backward pass); "
                "draw it before calling backward, or call backward(retain_graph=True)"
            )
        seen.add(node)
        order.append(node)
        for parent in node.parents:
            child = None if parent is None else parent.grad_fn
            if child is not None and child not in seen and child not in stop:
                stack.append(child)
    return order


def _outputs(output: Any) -> list[Tensor]:
    items = output if isinstance(output, (list, tuple)) else [output]
    tensors = [t for t in items if isinstance(t, Tensor)]
    if not tensors:
        raise TypeError(f"draw_graph: expected a Tensor or a list of Tensors, got {type(output).__name__}")
    return tensors


def draw_graph(
    output: Tensor | list[Tensor],
    params: Any = None,
    show_saved: bool = False,
    direction: str = "backward",
    cluster_modules: bool = False,
    scopes: dict[Context, str] | None = None,
    show_shapes: bool = True,
    graph_attr: dict[str, str] | None = None,
) -> graphviz.Digraph:
    """The recorded graph behind ``output`` as a ``graphviz.Digraph``.

    Parameters
    ----------
    output
        A tensor (or list of tensors) computed with recording on.
    params
        ``dict(model.named_parameters())`` or the model itself: leaves that are parameters get their names.
    show_saved
        Also draw what each op saved for backward (orange), linked with dashed edges.
    direction
        ``"backward"`` (edges from each op to its inputs: the way gradients flow) or ``"forward"``
        (inputs to ops).
    cluster_modules
        Group the nodes of each module in a box (needs ``scopes`` from :func:`trace_modules`, or use
        :func:`draw_model`).
    scopes
        Node -> module name, as :func:`trace_modules` records it.
    """
    if direction not in ("backward", "forward"):
        raise ValueError(f"draw_graph: direction must be 'backward' or 'forward', got {direction!r}")
    if cluster_modules and scopes is None:
        raise ValueError(
            "draw_graph: cluster_modules=True needs scopes from trace_modules(model) "
            "(or call draw_model(model, x, cluster_modules=True))"
        )
    outs = _outputs(output)
    names = _named_parameters(params)
    attrs = {"rankdir": "TB" if direction == "backward" else "BT", "ordering": "in"}
    attrs.update(graph_attr or {})
    dot = graphviz.Digraph("tapegrad", graph_attr=attrs, node_attr={"fontsize": "11"})
    nodes = _ancestors([t.grad_fn for t in outs if t.grad_fn is not None])

    def edge(src: str, dst: str, **kw: str) -> None:  # src feeds dst in the forward computation
        if direction == "forward":
            dot.edge(src, dst, **kw)
        else:
            dot.edge(dst, src, **kw)

    placed: dict[str, list[tuple[str, str, dict[str, str]]]] = {}  # module name -> node statements

    def add_node(key: str, label: str, style: dict[str, str], scope: str | None = None) -> None:
        if cluster_modules and scope:
            placed.setdefault(scope, []).append((key, graphviz.nohtml(label), style))
        else:
            dot.node(key, graphviz.nohtml(label), **style)  # nohtml: '<...>' is text, never an HTML label

    leaves: dict[int, Tensor] = {}
    for node in nodes:
        shapes = ", ".join(_shape(s) for s, _ in node.output_meta)
        label = f"{node.name}{NL}{shapes}" if show_shapes else node.name
        add_node(str(id(node)), label, _OP_STYLE, (scopes or {}).get(node))
        for parent in node.parents:
            if parent is None or not parent.requires_grad:
                continue
            if parent.grad_fn is None:
                leaves[id(parent)] = parent
                edge(f"leaf{id(parent)}", str(id(node)))
            else:
                edge(str(id(parent.grad_fn)), str(id(node)))
        if show_saved:
            _draw_saved(dot, node, edge)
    for key, leaf in leaves.items():
        name = names.get(key)
        text = _shape(leaf.shape) if name is None else f"{_text(name)}{NL}{_shape(leaf.shape)}"
        add_node(f"leaf{key}", text, _LEAF_STYLE, _param_scope(name) if cluster_modules else None)
    for i, t in enumerate(outs):
        key = f"out{i}"
        dot.node(key, f"output{NL}{_shape(t.shape)}" if show_shapes else "output", **_OUT_STYLE)
        if t.grad_fn is not None:
            edge(str(id(t.grad_fn)), key)
        elif t.requires_grad:
            leaves.setdefault(id(t), t)
            dot.node(f"leaf{id(t)}", _shape(t.shape), **_LEAF_STYLE)
            edge(f"leaf{id(t)}", key)
    if cluster_modules:
        _emit_clusters(dot, placed)
    return dot


def _param_scope(name: str | None) -> str | None:
    return None if not name or "." not in name else name.rsplit(".", 1)[0]


def _draw_saved(dot: graphviz.Digraph, node: Context, edge: Any) -> None:
    for j, value in enumerate(node.retained):
        if hasattr(value, "shape"):
            shape = tuple(value.shape)
        else:
            continue
        key = f"saved{id(node)}_{j}"
        dot.node(key, f"saved{NL}{_shape(shape)}", **_SAVED_STYLE)
        edge(key, str(id(node)), style="dashed")


def _emit_clusters(dot: graphviz.Digraph, placed: dict[str, list[tuple[str, str, dict[str, str]]]]) -> None:
    """Nested clusters following the dotted module names ('features' holds 'features.0')."""
    names = set(placed)
    for name in list(names):  # make every ancestor scope exist so nesting is complete
        parts = name.split(".")
        for k in range(1, len(parts)):
            names.add(".".join(parts[:k]))

    def children(prefix: str | None) -> list[str]:
        depth = 0 if prefix is None else prefix.count(".") + 1
        return sorted(
            n for n in names if n.count(".") == depth and (prefix is None or n.startswith(prefix + "."))
        )

    def fill(graph: graphviz.Digraph, name: str) -> None:
        with graph.subgraph(name=f"cluster_{name.replace('.', '_')}") as sub:
            sub.attr(label=graphviz.escape(name), style="rounded,dashed", color="grey40", fontname="Helvetica")
            for key, label, style in placed.get(name, []):
                sub.node(key, label, **style)
            for child in children(name):
                fill(sub, child)

    for top in children(None):
        fill(dot, top)


@contextlib.contextmanager
def trace_modules(model: Any) -> Iterator[dict[Context, str]]:
    """Record which module created each node during the ``with`` block's forward passes."""
    scopes: dict[Context, str] = {}
    handles = []

    def make_hook(name: str) -> Any:
        def hook(module: Any, inputs: Any, output: Any) -> None:
            outs = output if isinstance(output, (tuple, list)) else (output,)
            roots = [t.grad_fn for t in outs if isinstance(t, Tensor) and t.grad_fn is not None]
            stop = {t.grad_fn for t in inputs if isinstance(t, Tensor) and t.grad_fn is not None}
            stop = set(_ancestors(list(stop))) if stop else set()
            for node in _ancestors(roots, stop):
                scopes.setdefault(node, name)

        return hook

    for name, module in model.named_modules():
        if name:
            handles.append(module.register_forward_hook(make_hook(name)))
    try:
        yield scopes
    finally:
        for handle in handles:
            handle.remove() if hasattr(handle, "remove") else handle()


def draw_model(model: Any, x: Any, **kwargs: Any) -> graphviz.Digraph:
    """Run ``model(x)`` with recording on and draw its graph, parameters named and modules clustered."""
    kwargs.setdefault("cluster_modules", True)
    kwargs.setdefault("params", model)
    with enable_grad(), trace_modules(model) as scopes:
        out = model(x)
    return draw_graph(out, scopes=scopes, **kwargs)


def render_graph(graph: graphviz.Digraph, path: str | Path, format: str | None = None) -> Path:  # noqa: A002
    """Write ``graph`` as SVG/PNG/PDF (the format defaults to the path's suffix); needs Graphviz's ``dot``."""
    if shutil.which("dot") is None:
        raise RuntimeError(
            "render_graph: Graphviz's 'dot' program is not installed, so the graph cannot be rendered "
            "(graph.source still gives the DOT text). Install it with `apt-get install graphviz` "
            "(Debian/Ubuntu), `brew install graphviz` (macOS) or `conda install graphviz`."
        )
    path = Path(path)
    fmt = format or path.suffix.lstrip(".") or "svg"
    if not path.suffix:
        path = path.with_suffix("." + fmt)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(graph.pipe(format=fmt))
    return path
