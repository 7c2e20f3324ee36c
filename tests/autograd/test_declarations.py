"""An op is declared once: its Function (or ``@public`` composite) is the only place that names it, and the
exports, the Tensor methods and operators and the projection kinds are generated from that declaration."""

from __future__ import annotations

import ast
import importlib
import inspect
import sys
from pathlib import Path

import numpy as np
import tapegrad.autograd as ag
import tapegrad.nn  # noqa: F401 - its Functions are part of the walk
from tapegrad.autograd import Function, Tensor, grad
from tapegrad.autograd.function import PROJECTION_KINDS, PUBLIC, TENSOR_ATTRIBUTES
from tapegrad.autograd.opspec import OpSpec


def _functions() -> list[type[Function]]:
    found, stack = [], list(Function.__subclasses__())
    while stack:
        cls = stack.pop()
        found.append(cls)
        stack.extend(cls.__subclasses__())
    return [c for c in found if c.__module__.startswith("tapegrad.")]


def test_every_differentiable_op_declares_a_projection_kind() -> None:
    undeclared = [c.__qualname__ for c in _functions() if c.differentiable and c.projection not in PROJECTION_KINDS]
    assert not undeclared, f"declare projection = one of {PROJECTION_KINDS} on {undeclared}"


def test_the_exports_and_methods_are_generated_from_the_declarations() -> None:
    assert set(PUBLIC) <= set(ag.__all__) and set(ag.ops.__all__) == {"ToDevice", *PUBLIC}
    for attribute, fn in TENSOR_ATTRIBUTES.items():
        assert getattr(Tensor, attribute) is fn or attribute.startswith("__r"), attribute
    assert Tensor.relu is ag.relu and Tensor.__mul__ is ag.mul and Tensor.__getitem__ is ag.getitem
    assert ag.relu.__doc__ == ag.ops.unary.Relu.__doc__  # the op's docstring is the function's
    assert (2.0 - Tensor([1.0])).item() == 1.0 and (2.0 ** Tensor([3.0])).item() == 8.0  # reflected operators


def test_tensor_py_has_no_hand_written_forwarders() -> None:
    """No Tensor method whose body only calls an op function (``return _ops.x(self, ...)``)."""
    module = sys.modules["tapegrad.autograd.tensor"]  # (the package's ``tensor`` attribute is the function)
    tree = ast.parse(Path(module.__file__).read_text())
    (cls,) = [n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "Tensor"]
    forwarders = [
        f.name
        for f in cls.body
        if isinstance(f, ast.FunctionDef)
        and any(isinstance(n, ast.Attribute) and getattr(n.value, "id", None) == "_ops" for n in ast.walk(f))
        and f.name != "to"  # to() composes a cast and a device copy
    ]
    assert not forwarders, forwarders


def _resolves(reference: object) -> bool:
    if callable(reference) or reference == "numeric":
        return True
    module, _, name = str(reference).rpartition(".")
    target = importlib.import_module(module)
    return callable(getattr(target, name))


def test_every_autograd_op_has_a_spec_whose_torch_reference_resolves() -> None:
    missing, broken = [], []
    for cls in _functions():
        if not cls.__module__.startswith("tapegrad.autograd.ops") or not cls.names:
            continue
        specs = cls.spec if isinstance(cls.spec, tuple) else (cls.spec,)
        if cls.differentiable and not all(isinstance(s, OpSpec) for s in specs):
            missing.append(cls.__name__)
        broken += [s.name for s in specs if isinstance(s, OpSpec) and not _resolves(s.reference)]
    assert not missing and not broken, (missing, broken)


def test_retained_is_what_backward_reads_and_empties_on_release() -> None:
    x = Tensor(np.array([1.0, -2.0]), requires_grad=True)
    y = x * 3.0
    assert y.grad_fn.retained[0] is x and y.grad_fn.retained[1] == 3.0  # by index: the arguments themselves
    r = x.relu()
    (out,) = r.grad_fn.retained
    assert out.grad_fn is r.grad_fn and np.array_equal(out.numpy(), r.numpy())  # the output, re-wrapped
    r.sum().backward()
    assert r.grad_fn.retained == ()
    assert inspect.isfunction(ag.ops.unary.Relu.public)


def test_grad_walks_only_the_paths_to_its_inputs() -> None:
    """Chainer's grad(): a node's backward sees needs_input_grad narrowed to the inputs that lead to ``inputs``."""
    seen = []

    class Spy(Function):
        projection = "linear"

        @staticmethod
        def forward(ctx, a, b):  # noqa: ANN001, ANN205
            return a * b

        @staticmethod
        def backward(ctx, g):  # noqa: ANN001, ANN205
            seen.append(ctx.needs_input_grad)
            a, b = ctx.parents
            return g * b, g * a

    x, w = Tensor(np.ones(3), requires_grad=True), Tensor(np.full(3, 2.0), requires_grad=True)
    y = Spy.apply(x, w).sum()
    (gx,) = grad(y, x, retain_graph=True)
    assert seen == [(True, False)] and np.array_equal(gx.numpy(), [2.0, 2.0, 2.0])
    y.backward()
    assert seen[-1] == (True, True) and y.grad_fn.needs_input_grad == (True, False, False)  # restored
