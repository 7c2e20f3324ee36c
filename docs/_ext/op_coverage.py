"""Sphinx extension: ``{op-coverage}`` renders the op coverage table from the registry of op specs.

One row per registered :class:`~tapegrad.autograd.opspec.OpSpec` (:mod:`tapegrad.testing.ops`): what its
generated test checks — forward values, first-order gradients, second order, float32, float64 — read from the
declaration itself, so the table cannot claim a check that the tests do not run.  Two columns are facts
measured at build time: *emulated device* runs the op's checks on one example on ``"cuda"`` when a (real or emulated,
``TAPEGRAD_EMULATE_CUDA=1``) device is available, and *deconvnet rule* names the projection rule
``tapegrad.viz`` uses for the op's Function (``—`` where there is none, ``parts`` for a composite function, whose
nodes are its parts').
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.util.docutils import SphinxDirective

YES, NO = "✓", "—"
HEADER = ("op", "reference", "forward", "grad", "gradgrad", "float32", "float64", "emulated device",
          "deconvnet rule")


def _has_grad(spec: Any) -> bool:
    if isinstance(spec.inputs, str):
        return True  # a family: every family draws at least one differentiated input
    return any(getattr(arg, "grad", True) for arg in spec.inputs)


def _device_cell(spec: Any) -> str:
    from tapegrad.autograd.backend import gpu_available

    from tapegrad.testing import check_spec

    if not gpu_available():
        return "not run"
    try:  # forward and first order on one example: the device column says "runs there", the suite says more
        check_spec(replace(spec, second_order=False), max_examples=1, device="cuda", shrink=False)
    except Exception:  # noqa: BLE001 - the table records the failure, the test suite reports it
        return "FAILS"
    return YES


def _rule_cell(owner: type | None) -> str:
    if owner is None:
        return "parts"
    from tapegrad.viz.rules import NoProjectionRule, rule_for

    try:
        rule = rule_for(owner, "deconvnet")
    except NoProjectionRule:
        return NO
    return getattr(rule, "__name__", "custom")


def rows() -> list[tuple[str, ...]]:
    from tapegrad.testing import ops

    out = []
    for name in ops.names():
        spec = ops.get(name)
        reference = spec.reference if isinstance(spec.reference, str) else "torch (glue)"
        grad = _has_grad(spec)
        out.append((
            name, reference.replace("torch.nn.functional.", "F."), YES, YES if grad else NO,
            YES if grad and spec.second_order else NO, YES if "float32" in spec.dtypes else NO,
            YES if "float64" in spec.dtypes else NO, _device_cell(spec), _rule_cell(ops.owner(name)),
        ))
    return out


class OpCoverage(SphinxDirective):
    has_content = False

    def run(self) -> list[nodes.Node]:
        table = nodes.table(classes=["op-coverage"])
        group = nodes.tgroup(cols=len(HEADER))
        table += group
        for _ in HEADER:
            group += nodes.colspec(colwidth=1)
        head, body = nodes.thead(), nodes.tbody()
        group += head
        group += body
        for cells, parent in [(HEADER, head), *((r, body) for r in rows())]:
            row = nodes.row()
            for cell in cells:
                entry = nodes.entry()
                entry += nodes.paragraph(text=cell)  # text nodes: escaped by docutils
                row += entry
            parent += row
        return [table]


def setup(app: Sphinx) -> dict[str, Any]:
    app.add_directive("op-coverage", OpCoverage)
    return {"version": "1.0", "parallel_read_safe": True}
