"""Mutation testing of the op checks: plant a small error in one op's backward, run that op's generated checks,
and see whether they notice.  A check that cannot fail proves nothing; a killed mutant shows it can.

Mutants of a ``Function`` subclass with a spec (each alone, the class restored afterwards):

* ``scale``: gradient ``i`` times 1.01 (a 1 % error: what an absolute tolerance larger than the gradients,
  1e-4 against ~2e-5, let pass in an outside port of an older framework's pooling tests);
* ``zero``: gradient ``i`` replaced by zeros (a dropped gradient: max-pool's switches lost);
* ``transpose``: gradient ``i`` with its last two axes swapped, where they are equal (> 1);
* ``drop``: one term of a ``+``/``-`` (or one ``+=``/``-=`` statement) removed in the source of ``backward``
  or of a same-module helper it calls (``_conv2d_backward_arrays``).

A mutant that is never *applied* on the drawn examples (gradient ``i`` is always None, a branch never taken)
is reported as not applicable and left out of the kill rate.
"""

from __future__ import annotations

import ast
import inspect
import textwrap
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from tapegrad.autograd import Tensor

from . import ops
from .api import check_spec
from .compare import to_numpy


@dataclass
class Mutant:
    op: str  # the Function class mutated
    kind: str
    description: str
    install: Callable[[Mutant], Callable[[], None]]  # plants the error, returns the undo
    specs: list[str] = field(default_factory=list)
    applied: bool = False
    caught: bool | None = None
    failure: str = ""


def _returned(result: Any) -> tuple[list[Any], bool]:
    return (list(result), True) if isinstance(result, tuple) else ([result], False)


def _wrap_backward(
    cls: type, index: int, change: Callable[[Any], Any | None]
) -> Callable[[Mutant], Callable[[], None]]:
    original = cls.__dict__["backward"]

    def install(mutant: Mutant) -> Callable[[], None]:
        def backward(ctx: Any, *grads: Any) -> Any:
            values, was_tuple = _returned(original.__func__(ctx, *grads))
            if index < len(values) and values[index] is not None:
                changed = change(values[index])
                if changed is not None:
                    # applied only where it changes something: not on zeros, empty or symmetric gradients
                    if not mutant.applied and not np.array_equal(to_numpy(changed), to_numpy(values[index])):
                        mutant.applied = True
                    values[index] = changed
            return tuple(values) if was_tuple else values[0]

        cls.backward = staticmethod(backward)
        return lambda: setattr(cls, "backward", original)

    return install


def _swap_last(g: Any) -> Any | None:
    shape = tuple(g.shape)
    if len(shape) < 2 or shape[-1] != shape[-2] or shape[-1] < 2:
        return None
    axes = (*range(len(shape) - 2), len(shape) - 1, len(shape) - 2)
    return g.permute(*axes) if isinstance(g, Tensor) else g.transpose(axes)


def _inputs_of(cls: type) -> int:
    return len(inspect.signature(cls.__dict__["forward"].__func__).parameters) - 1


class _Drop(ast.NodeTransformer):
    """Drop one term of the ``target``-th ``+``/``-``: ``choice`` 0 keeps the left operand (``x += y`` is
    removed), 1 the right (``a - b`` -> ``-b``).  The survivor is wrapped in ``__mutant_hit__(...)`` so the
    run knows the mutated line was executed."""

    def __init__(self, target: int, choice: int) -> None:
        self.target, self.choice, self.seen, self.text = target, choice, -1, ""

    def _mine(self, node: ast.AST) -> bool:
        if not isinstance(getattr(node, "op", None), (ast.Add, ast.Sub)):
            return False
        self.seen += 1
        return self.seen == self.target

    def visit_BinOp(self, node: ast.BinOp) -> ast.AST:
        mine = self._mine(node)
        self.generic_visit(node)
        if not mine:
            return node
        if self.choice == 0:
            keep: ast.expr = node.left
        else:
            keep = node.right if isinstance(node.op, ast.Add) else ast.UnaryOp(ast.USub(), node.right)
        self.text = f"{ast.unparse(node)}  ->  {ast.unparse(keep)}"
        return ast.Call(ast.Name("__mutant_hit__", ast.Load()), [keep], [])

    def visit_AugAssign(self, node: ast.AugAssign) -> ast.AST:
        mine = self._mine(node)
        self.generic_visit(node)
        if not mine or self.choice == 1:
            return node
        self.text = f"{ast.unparse(node)}  ->  (removed)"
        return ast.Expr(ast.Call(ast.Name("__mutant_hit__", ast.Load()), [ast.Constant(None)], []))


def _count_terms(tree: ast.AST) -> int:
    return sum(isinstance(n, (ast.BinOp, ast.AugAssign)) and isinstance(n.op, (ast.Add, ast.Sub))
               for n in ast.walk(tree))


def _functions_to_mutate(cls: type) -> list[tuple[str, Any, Any]]:
    """(name, function, where it is installed) for ``backward`` and the same-module helpers it calls."""
    backward = cls.__dict__["backward"].__func__
    module = inspect.getmodule(backward)
    found = [("backward", backward, cls)]
    tree = ast.parse(textwrap.dedent(inspect.getsource(backward)))
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id.startswith("_"):
            helper = getattr(module, node.func.id, None)
            if inspect.isfunction(helper) and helper.__module__ == module.__name__:
                found.append((node.func.id, helper, module))
    return found


def _drop_mutants(cls: type) -> Iterator[Mutant]:
    for name, fn, home in _functions_to_mutate(cls):
        source = textwrap.dedent(inspect.getsource(fn))
        terms = _count_terms(ast.parse(source))
        for target in range(terms):
            for choice in (0, 1):
                tree = ast.parse(source)
                tree.body[0].decorator_list = []
                dropper = _Drop(target, choice)
                tree = ast.fix_missing_locations(dropper.visit(tree))
                if not dropper.text:
                    continue
                yield Mutant(cls.__name__, "drop", f"{name}: {dropper.text}", _install_source(fn, home, name, tree))


def _install_source(fn: Any, home: Any, name: str, tree: ast.AST) -> Callable[[Mutant], Callable[[], None]]:
    def install(mutant: Mutant) -> Callable[[], None]:
        def hit(value: Any) -> Any:
            mutant.applied = True
            return value

        namespace = dict(fn.__globals__)
        namespace["__mutant_hit__"] = hit
        exec(compile(tree, f"<mutant of {name}>", "exec"), namespace)  # noqa: S102 - our own source, mutated
        new = namespace[fn.__name__]
        original = home.__dict__[name]
        setattr(home, name, staticmethod(new) if isinstance(home, type) else new)
        return lambda: setattr(home, name, original)

    return install


def mutants(cls: type) -> list[Mutant]:
    """Every mutant of ``cls.backward`` (see the module docstring)."""
    found = []
    for i in range(_inputs_of(cls)):
        found.append(Mutant(cls.__name__, "scale", f"gradient {i} x 1.01",
                            _wrap_backward(cls, i, lambda g: g * 1.01)))
        found.append(Mutant(cls.__name__, "zero", f"gradient {i} dropped (zeros)",
                            _wrap_backward(cls, i, lambda g: g * 0)))
        found.append(Mutant(cls.__name__, "transpose", f"gradient {i} transposed (last two axes)",
                            _wrap_backward(cls, i, _swap_last)))
    found.extend(_drop_mutants(cls))
    return found


def targets() -> dict[type, list[str]]:
    """Function classes with specs -> the names of their specs (the checks a mutant of the class must fail)."""
    out: dict[type, list[str]] = {}
    for name in ops.names():
        cls = ops.owner(name)
        if cls is not None and "backward" in cls.__dict__:
            out.setdefault(cls, []).append(name)
    return out


@contextmanager
def planted(mutant: Mutant) -> Iterator[None]:
    undo = mutant.install(mutant)
    try:
        yield
    finally:
        undo()


def run(mutant: Mutant, specs: list[str], max_examples: int) -> Mutant:
    """Run ``specs``' checks with ``mutant`` planted; record whether any failed (caught) and if it was applied."""
    mutant.specs = specs
    mutant.caught = False
    with planted(mutant):
        for name in specs:
            try:
                with np.errstate(all="ignore"):
                    check_spec(ops.get(name), max_examples=max_examples, shrink=False)
            except Exception as exc:  # noqa: BLE001 - a failing check (assertion or error) is a caught mutant
                mutant.caught = True
                mutant.failure = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
                break
    return mutant
