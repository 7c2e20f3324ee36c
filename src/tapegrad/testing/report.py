"""The failure report of a check: what disagreed, by how much, on which (shrunk) inputs, and how to replay it."""

from __future__ import annotations

import sys
from typing import Any

from tapegrad.autograd.opspec import OpSpec

from .case import Case, literal, summary
from .compare import Mismatch


def _reference_name(reference: Any) -> str:
    if reference == "numeric":
        return "float64 central finite differences"
    if isinstance(reference, str):
        return reference
    return f"{getattr(reference, '__module__', '?')}.{getattr(reference, '__qualname__', repr(reference))}"


def _importable(fn: Any) -> tuple[str, str] | None:
    module, name = getattr(fn, "__module__", None), getattr(fn, "__qualname__", "")
    if not module or module == "__main__" or "<" in name or "." in name:
        return None
    if getattr(sys.modules.get(module), name, None) is not fn:  # defined in a notebook, exec'd code...
        return None
    return module, name


def snippet(spec: OpSpec, case: Case, device: str, registered: str | None) -> str:
    """Python that runs exactly this check again (paste it into a test or a shell)."""
    lines = ["import base64" if any(a is not None and a.size > 24 for a in case.arrays) else "",
             "import numpy as np", "from tapegrad.testing import replay"]
    if registered:
        lines.append("from tapegrad.testing import ops")
        target = f"ops.get({registered!r})"
        ref = ""
    else:
        where = _importable(spec.ours)
        if where:
            lines.append(f"from {where[0]} import {where[1]}")
            target = where[1]
        else:
            target = spec.name if spec.name.isidentifier() else "ours"
            lines.append(f"# {target} = ...  # the op under test (defined in your code)")
        reference = spec.reference
        if isinstance(reference, str):
            ref = f", reference={reference!r}"
        else:
            ref_where = _importable(reference)
            if ref_where:
                lines.append(f"import {ref_where[0]}")
                ref = f", reference={ref_where[0]}.{ref_where[1]}"
            else:
                lines.append("# reference = ...  # the reference it was checked against")
                ref = ", reference=reference"
    arrays = ",\n    ".join(literal(a) for a in case.arrays)
    lines.append(f"inputs = [\n    {arrays},\n]")
    lines.append(f"replay({target}{ref}, inputs=inputs, kwargs={case.kwargs!r}, grads={case.grads!r}, "
                 f"dtype={case.dtype!r}, seed={case.seed}, device={device!r})")
    return "\n".join(line for line in lines if line)


def report(spec: OpSpec, case: Case, mismatch: Mismatch, device: str, registered: str | None = None) -> str:
    rtol, atol = spec.tolerance(case.dtype)
    lines = [
        f"{registered or spec.name} disagrees with {_reference_name(spec.reference)} ({case.dtype}, {device})",
        f"  what:      {mismatch.kind} of {mismatch.where}",
        f"  detail:    {mismatch.detail}",
    ]
    if mismatch.max_abs is not None:
        lines.append(f"  error:     max abs {mismatch.max_abs:.3g}, max rel {mismatch.max_rel:.3g}")
        lines.append(f"  tolerance: {mismatch.tolerance}  ({case.dtype}: rtol={rtol:g}, atol={atol:g})")
    lines.append(f"  upstream:  random normal gradients, seed {case.seed}")
    lines.append("  inputs (as shrunk by Hypothesis):")
    for i, (a, g) in enumerate(zip(case.arrays, case.grads, strict=True)):
        lines.append(f"    {i}{' (differentiated)' if g else ''}: {summary(a)}")
    if case.kwargs:
        lines.append(f"  options:   {case.kwargs!r}")
    if mismatch.ours is not None and mismatch.reference is not None and getattr(mismatch.ours, "size", 99) <= 24:
        lines.append(f"  ours:      {literal(mismatch.ours)}")
        lines.append(f"  reference: {literal(mismatch.reference)}")
    lines.append("Reproduce:")
    lines.extend("    " + line for line in snippet(spec, case, device, registered).splitlines())
    return "\n".join(lines)
