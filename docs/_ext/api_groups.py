"""Sphinx extension: ``.. autopackage:: tapegrad.nn`` documents every public name of a package, grouped.

A package re-exports names defined in many small modules (``tapegrad.autograd`` has ~90: the tensor, the
engine, gradient checking, a dozen families of ops).  One flat alphabetical list of them is hard to read,
and documenting each submodule instead would give every name a second, internal address.  This directive
keeps the public address (``tapegrad.autograd.add``) and groups the names by the module that defines them,
under a heading named after that module with the first paragraph of its docstring — so the reference reads
like the source tree and never needs a hand-kept list.  ``:first:`` lists modules (relative names) to put
before the rest; ``:exclude:`` names to leave out.  Names come from ``__all__`` (or, without one, the public
functions and classes defined in the package); modules are skipped.
"""

from __future__ import annotations

import importlib
import inspect
from typing import Any

from docutils import nodes
from docutils.statemachine import StringList
from sphinx.application import Sphinx
from sphinx.util.docutils import SphinxDirective
from sphinx.util.nodes import nested_parse_with_titles


def public_objects(package: str) -> list[tuple[str, Any]]:
    module = importlib.import_module(package)
    names = getattr(module, "__all__", None)
    if names is None:
        names = [
            n for n, v in vars(module).items()
            if not n.startswith("_") and callable(v) and getattr(v, "__module__", "").startswith(package)
        ]
    return [(n, getattr(module, n)) for n in names if not inspect.ismodule(getattr(module, n))]


def summary(module_name: str) -> str:
    """The first paragraph of the defining module's docstring (what the group is about), or nothing."""
    doc = inspect.getdoc(importlib.import_module(module_name)) or ""
    return doc.strip().split("\n\n")[0]


def directive_for(obj: Any) -> tuple[str, list[str]]:
    if inspect.isclass(obj):
        if issubclass(obj, BaseException):
            return "autoexception", []
        return "autoclass", [":members:", ":show-inheritance:"]
    if callable(obj):
        return "autofunction", []
    return "autodata", [":annotation:"]


class AutoPackage(SphinxDirective):
    required_arguments = 1
    option_spec = {
        "exclude": lambda text: [s.strip() for s in text.split(",") if s.strip()],
        "first": lambda text: [s.strip() for s in text.split(",") if s.strip()],
    }

    def run(self) -> list[nodes.Node]:
        package = self.arguments[0]
        excluded = set(self.options.get("exclude", []))
        groups: dict[str, list[tuple[str, Any]]] = {}
        for name, obj in public_objects(package):
            if name in excluded:
                continue
            source = getattr(obj, "__module__", None) if (inspect.isclass(obj) or callable(obj)) else None
            groups.setdefault(source or package, []).append((name, obj))
        first = [f"{package}.{m}" for m in self.options.get("first", [])]
        def rank(m: str) -> tuple[bool, int, bool, str]:
            return (m not in first, first.index(m) if m in first else 0, m == package, m)

        order = sorted(groups, key=rank)
        lines: list[str] = []
        for module_name in order:
            if module_name == package:
                title, intro = "Other names", ""
            else:
                title, intro = module_name[len(package) + 1:], summary(module_name)
            lines += [title, "-" * len(title), ""]
            if intro:
                lines += intro.splitlines() + [""]
            for name, obj in groups[module_name]:
                kind, options = directive_for(obj)
                lines.append(f".. {kind}:: {package}.{name}")
                lines += [f"   {o}" for o in options]
                lines.append("")
        content = StringList(lines, source=f"<autopackage {package}>")
        container = nodes.section()
        container.document = self.state.document
        nested_parse_with_titles(self.state, content, container)
        return container.children


def setup(app: Sphinx) -> dict[str, Any]:
    app.add_directive("autopackage", AutoPackage)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
