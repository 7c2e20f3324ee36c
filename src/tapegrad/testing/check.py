"""The checks run on one drawn case: forward values and dtypes, first- and second-order vector-Jacobian
products against torch (or float64 finite differences), inputs left untouched, the graph freed by backward.

Options: the spec's ``kwargs`` and a case's drawn options (a family's stride, padding...) go to both callables.

Upstream gradients are random normal (unit scale, never ones: ones hide transposed and mis-broadcast
gradients) from the case's seed; comparisons are relative (see :mod:`.compare`).
"""

from __future__ import annotations

import importlib
import weakref
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from tapegrad.autograd import Tensor, grad
from tapegrad.autograd.backend import to_device
from tapegrad.autograd.opspec import OpSpec

from . import numeric
from .case import Case
from .compare import NUMERIC_TOLERANCE, Mismatch, compare, to_numpy


def resolve(reference: Any) -> Any:
    """``"torch.nn.functional.conv2d"`` -> the function; callables and ``"numeric"`` as they are."""
    if callable(reference) or reference == "numeric":
        return reference
    module_name, _, attr = str(reference).partition(".")
    target: Any = importlib.import_module(module_name)
    for part in attr.split(".") if attr else ():
        try:
            target = getattr(target, part)
        except AttributeError:
            target = importlib.import_module(f"{target.__name__}.{part}")
    return target


def _outputs(result: Any) -> list[Any]:
    return list(result) if isinstance(result, (tuple, list)) else [result]


def _upstream(shapes: Sequence[tuple[int, ...]], dtype: Any, seed: int, offset: int = 0) -> list[np.ndarray]:
    rng = np.random.default_rng([seed, offset])
    return [rng.standard_normal(s).astype(dtype) for s in shapes]


class _Run:
    """One case of one spec on one device; each method raises :class:`Mismatch` at the first disagreement."""

    def __init__(self, spec: OpSpec, case: Case, device: str) -> None:
        self.spec, self.case, self.device = spec, case, device
        self.dtype = np.dtype(case.dtype)
        rtol, atol = spec.tolerance(case.dtype)
        self.tol = (rtol, atol)
        self.reference = resolve(spec.reference)
        self.numeric = self.reference == "numeric"
        self.differences = self.numeric  # compared with finite differences (also torch's missing double backward)
        self.reference_kwargs = {**dict(spec.kwargs), **case.kwargs}
        self.wanted = [i for i, (a, g) in enumerate(zip(case.arrays, case.grads, strict=True)) if g and a is not None]

    # --- building inputs and calling ---------------------------------------------------------------------------
    def ours_inputs(self, arrays: Sequence[np.ndarray | None] | None = None) -> list[Any]:
        arrays = self.case.arrays if arrays is None else arrays
        # copies: an op that writes into its input must not change what the reference sees
        return [None if a is None else Tensor(to_device(a.copy(), self.device), requires_grad=i in self.wanted)
                for i, a in enumerate(arrays)]

    def call_ours(self, inputs: list[Any]) -> list[Any]:
        try:
            return _outputs(self.spec.ours(*inputs, **self.reference_kwargs))
        except Exception as exc:  # noqa: BLE001 - any failure of the op on a valid input is the finding
            raise Mismatch("forward", "the op", f"raised {type(exc).__name__}: {exc}") from exc

    def torch_inputs(self) -> list[Any]:
        import torch

        return [None if a is None else torch.tensor(np.array(a), requires_grad=i in self.wanted)
                for i, a in enumerate(self.case.arrays)]

    def float64_outputs(self, arrays: Sequence[np.ndarray | None]) -> list[np.ndarray]:
        """Our op in float64 on (float-cast) arrays, as NumPy arrays: the numeric reference's function."""
        cast = [None if a is None else (a.astype(np.float64) if a.dtype.kind == "f" else a) for a in arrays]
        outs = _outputs(self.spec.ours(*[None if a is None else Tensor(to_device(a, self.device)) for a in cast],
                                       **self.reference_kwargs))
        return [to_numpy(o).astype(np.float64) for o in outs]

    # --- the checks --------------------------------------------------------------------------------------------
    def run(self) -> None:
        inputs = self.ours_inputs()
        outs = self.call_ours(inputs)
        self.untouched(inputs, "forward")
        refs = self.forward(outs)
        differentiable = self.differentiable(outs, refs)
        if self.wanted and differentiable:
            self.first_order(inputs, outs, refs, differentiable)  # empties `outs`: the graph must then be freed
            self.untouched(inputs, "backward")
            if self.spec.second_order:
                self.second_order(differentiable)

    def untouched(self, inputs: list[Any], when: str) -> None:
        for i, (before, t) in enumerate(zip(self.case.arrays, inputs, strict=True)):
            if before is not None and not np.array_equal(before, to_numpy(t), equal_nan=True):
                raise Mismatch("mutation", f"input {i}", f"the op's {when} changed the input in place")

    def forward(self, outs: list[Any]) -> list[Any]:
        if self.numeric:
            if self.dtype == np.float64:
                refs: list[Any] = [None] * len(outs)
            else:
                refs = self.float64_outputs(self.case.arrays)
        else:
            refs = _outputs(self.reference(*self.torch_inputs(), **self.reference_kwargs))
        if len(outs) != len(refs):
            raise Mismatch("forward", "the outputs", f"{len(outs)} outputs, the reference has {len(refs)}")
        for k, (o, r) in enumerate(zip(outs, refs, strict=True)):
            if not isinstance(o, Tensor):
                raise Mismatch("forward", f"output {k}", f"is a {type(o).__name__}, not a Tensor")
            want = self.dtype if r is None or self.numeric else to_numpy(r).dtype
            if o.dtype.kind == "f" and o.dtype != want:
                raise Mismatch("dtype", f"output {k}", f"is {o.dtype}, expected {want}")
            if r is not None:
                rtol, atol = self.tol
                compare(o, r, rtol, atol, "forward value", f"output {k}")
        return refs

    def differentiable(self, outs: list[Any], refs: list[Any]) -> list[int]:
        chosen = []
        for k, (o, r) in enumerate(zip(outs, refs, strict=True)):
            if o.dtype.kind != "f":
                continue
            theirs = o.requires_grad if self.numeric else bool(getattr(r, "requires_grad", False))
            if theirs and not o.requires_grad and self.wanted:
                raise Mismatch("gradient", f"output {k}", "does not require grad, the reference's does")
            if o.requires_grad:
                chosen.append(k)
        return chosen

    def _vs(self, outs: list[Any], differentiable: list[int]) -> list[np.ndarray]:
        return _upstream([tuple(outs[k].shape) for k in differentiable], self.dtype, self.case.seed)

    def first_order(self, inputs: list[Any], outs: list[Any], refs: list[Any], differentiable: list[int]) -> None:
        vs = self._vs(outs, differentiable)
        nodes = [weakref.ref(outs[k].grad_fn) for k in differentiable if outs[k].grad_fn is not None]
        got = grad([outs[k] for k in differentiable], [inputs[i] for i in self.wanted],
                   grad_outputs=[Tensor(to_device(v, self.device)) for v in vs], allow_unused=True)
        got_np = [to_numpy(g) for g in got]
        for k, g in zip(self.wanted, got, strict=True):
            if g is not None and (g.shape != inputs[k].shape or g.dtype != inputs[k].dtype):
                raise Mismatch("gradient", f"input {k}",
                               f"gradient is {g.dtype}{g.shape}, the input {inputs[k].dtype}{inputs[k].shape}")
        for node in nodes:
            if node() is not None and not node().released:
                raise Mismatch("graph", "backward", f"{node().name} kept its saved arrays after backward")
        del got
        outs.clear()
        alive = [n() for n in nodes if n() is not None]
        if alive:
            raise Mismatch("graph", "backward", f"{alive[0].name}'s node is still referenced after backward and "
                           "after its outputs were dropped (a reference cycle or a global keeps the graph)")
        expected = self.reference_grads(refs, vs, differentiable)
        rtol, atol = self._grad_tol()
        for k, g, e in zip(self.wanted, got_np, expected, strict=True):
            self._compare_grad(g, e, rtol, atol, "first-order gradient", f"input {k}")

    def reference_grads(self, refs: list[Any], vs: list[np.ndarray], differentiable: list[int]) -> list[Any]:
        if self.numeric:
            xs = self._float64_arrays()
            vs64 = [v.astype(np.float64) for v in vs]

            def scalar(current: list[Any]) -> float:
                outs = self.float64_outputs(current)
                return numeric.dot([outs[k] for k in differentiable], vs64)

            return numeric.partials(scalar, xs, self.wanted)
        import torch

        # the reference's inputs are the leaves of its forward: recompute with fresh leaves to get at them
        t_in = self.torch_inputs()
        t_out = _outputs(self.reference(*t_in, **self.reference_kwargs))
        got = torch.autograd.grad([t_out[k] for k in differentiable], [t_in[i] for i in self.wanted],
                                  grad_outputs=[torch.from_numpy(v) for v in vs], allow_unused=True)
        return [None if g is None else g.detach().numpy(force=True) for g in got]

    def _float64_arrays(self) -> list[Any]:
        return [None if a is None else a.astype(np.float64) if a.dtype.kind == "f" else a.copy()
                for a in self.case.arrays]

    def _grad_tol(self) -> tuple[float, float]:
        rtol, atol = self.tol
        if self.numeric or self.differences:
            return max(rtol, NUMERIC_TOLERANCE[0]), max(atol, NUMERIC_TOLERANCE[1])
        return rtol, atol

    @staticmethod
    def _compare_grad(g: Any, e: Any, rtol: float, atol: float, kind: str, where: str) -> None:
        if e is None and g is None:
            return
        if e is None:
            if np.any(g):
                raise Mismatch(kind, where, "the reference has no gradient here, ours is non-zero", ours=g)
            return
        if g is None:
            if np.any(e):
                raise Mismatch(kind, where, "ours is None (unused), the reference's is non-zero", reference=e)
            return
        compare(g, e, rtol, atol, kind, where)

    def second_order(self, differentiable: list[int]) -> None:
        """d/d(x, v) of <w, grad(<v, f(x)>, x)>: double backward through the op's own backward."""
        inputs = self.ours_inputs()
        outs = self.call_ours(inputs)
        vs = self._vs(outs, differentiable)
        v_t = [Tensor(to_device(v, self.device), requires_grad=True) for v in vs]
        xs = [inputs[i] for i in self.wanted]
        gs = grad([outs[k] for k in differentiable], xs, grad_outputs=v_t, create_graph=True, allow_unused=True)
        ws = _upstream([tuple(x.shape) for x in xs], self.dtype, self.case.seed, 1)
        terms = [(g * Tensor(to_device(w, self.device))).sum() for g, w in zip(gs, ws, strict=True)
                 if g is not None and g.requires_grad]
        leaves = [*xs, *v_t]
        if terms:
            total = terms[0]
            for t in terms[1:]:
                total = total + t
            got = [to_numpy(g) for g in grad(total, leaves, allow_unused=True)]
        else:
            got = [None] * len(leaves)
        expected = self.reference_second(differentiable, vs, ws)
        rtol, atol = self._grad_tol()
        names = [f"input {i}" for i in self.wanted] + [f"upstream gradient of output {k}" for k in differentiable]
        for name, g, e in zip(names, got, expected, strict=True):
            self._compare_grad(g, e, rtol, atol, "second-order gradient", name)

    def reference_second(self, differentiable: list[int], vs: list[np.ndarray], ws: list[np.ndarray]) -> list[Any]:
        if self.numeric:
            return self._numeric_second(differentiable, vs, ws)
        import torch

        t_in = self.torch_inputs()
        t_out = _outputs(self.reference(*t_in, **self.reference_kwargs))
        t_v = [torch.tensor(v, requires_grad=True) for v in vs]
        xs = [t_in[i] for i in self.wanted]
        gs = torch.autograd.grad([t_out[k] for k in differentiable], xs, grad_outputs=t_v, create_graph=True,
                                 allow_unused=True)
        terms = [(g * torch.from_numpy(w)).sum() for g, w in zip(gs, ws, strict=True)
                 if g is not None and g.requires_grad]
        if not terms:
            return [None] * (len(xs) + len(t_v))
        try:
            got = torch.autograd.grad(sum(terms), [*xs, *t_v], allow_unused=True)
        except RuntimeError as exc:  # torch has no double backward for this op (hardsigmoid): differences
            if "not implemented" not in str(exc):
                raise
            self.differences = True
            return self._numeric_second(differentiable, vs, ws)
        return [None if g is None else g.detach().numpy(force=True) for g in got]

    def _numeric_second(self, differentiable: list[int], vs: list[np.ndarray], ws: list[np.ndarray]) -> list[Any]:
        xs = self._float64_arrays()
        vs64 = [v.astype(np.float64) for v in vs]
        ws64 = [w.astype(np.float64) for w in ws]

        def projected(current: list[Any]) -> float:
            leaves = [None if a is None else Tensor(to_device(a, self.device), requires_grad=i in self.wanted)
                      for i, a in enumerate(current)]
            outs = _outputs(self.spec.ours(*leaves, **self.reference_kwargs))
            gs = grad([outs[k] for k in differentiable], [leaves[i] for i in self.wanted],
                      grad_outputs=[Tensor(to_device(v, self.device)) for v in vs64], allow_unused=True)
            return numeric.dot([to_numpy(g) for g in gs], ws64)

        by_x = numeric.partials(projected, xs, self.wanted)

        def outputs(current: list[Any]) -> list[np.ndarray]:
            outs = self.float64_outputs(current)
            return [outs[k] for k in differentiable]

        by_v = numeric.along(outputs, xs, dict(zip(self.wanted, ws64, strict=True)))
        return [*by_x, *by_v]


def run_case(spec: OpSpec, case: Case, device: str = "cpu") -> None:
    """Run every check of ``spec`` on ``case``; raise :class:`Mismatch` at the first disagreement."""
    _Run(spec, case, device).run()


Checker = Callable[[OpSpec, Case, str], None]
