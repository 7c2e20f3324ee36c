"""``einsum``: Einstein summation as one differentiable op.

The gradient with respect to operand ``i`` is itself an einsum: the upstream gradient contracted with the other
operands onto operand ``i``'s subscripts.  Two cases need one extra constant operand each, so the rule stays one
einsum: a letter repeated in operand ``i`` (a diagonal, ``"ii->i"``) is split in two and tied by an identity
matrix, and a letter only operand ``i`` has (summed away, ``"ij->i"``) is broadcast back by a vector of ones.
The backward calls ``einsum`` on Tensors, so it can be differentiated again.
"""

from __future__ import annotations

import string
from collections.abc import Sequence
from typing import Any

from ..backend import array_module
from ..errors import ShapeError
from ..function import Context, Function
from ..opspec import Arg, OpSpec
from ..tensor import Tensor

_LETTERS = string.ascii_letters


def _parse(equation: str, shapes: Sequence[tuple[int, ...]]) -> tuple[list[str], str]:
    """Explicit subscripts (no ``...``, an output always given) from NumPy/torch einsum notation."""
    equation = equation.replace(" ", "")
    lhs, arrow, rhs = equation.partition("->")
    terms = lhs.split(",")
    if len(terms) != len(shapes):
        raise ShapeError(f"einsum: {equation!r} has {len(terms)} operands but {len(shapes)} were given")
    used = set(equation) - set(".,->")
    free = [c for c in _LETTERS if c not in used]
    pairs = zip(terms, shapes, strict=True)
    width = max((len(s) - len(t.replace("...", "")) for t, s in pairs if "..." in t), default=0)
    ellipsis = "".join(free[:width])
    explicit = []
    for term, shape in zip(terms, shapes, strict=True):
        if "..." in term:
            n = len(shape) - len(term.replace("...", ""))
            term = term.replace("...", ellipsis[width - n :] if n else "")
        if len(term) != len(shape) or not all(c in _LETTERS for c in term):
            raise ShapeError(f"einsum: subscripts {term!r} do not fit an operand of shape {shape}")
        explicit.append(term)
    if arrow:
        out = rhs.replace("...", ellipsis)
    else:  # NumPy's implicit output: the broadcast axes, then letters seen once, in alphabetical order
        counts = {c: "".join(explicit).count(c) for c in set("".join(explicit))}
        out = ellipsis + "".join(sorted(c for c, k in counts.items() if k == 1 and c not in ellipsis))
    if len(set(out)) != len(out) or any(c not in "".join(explicit) for c in out):
        raise ShapeError(f"einsum: output subscripts {out!r} of {equation!r} repeat or name an unknown letter")
    return explicit, out


class Einsum(Function):
    """Einstein summation (``torch.einsum``): ``einsum("ij,jk->ik", a, b)`` is ``a @ b``.

    The operands may be given one by one or as one list; ``...`` stands for broadcast leading axes and an
    omitted output takes NumPy's implicit one.  Every operand's gradient is an einsum of the upstream gradient
    with the other operands, so the op can be differentiated to any order.
    """

    names, projection, keeps_parents = "einsum", "linear", True  # its backward reads the operands off ctx.parents
    spec = (
        OpSpec(
            "einsum_matmul",
            lambda a, b: Einsum.public("ij,jk->ik", a, b),
            lambda a, b: __import__("torch").einsum("ij,jk->ik", a, b),
            (Arg((2, 3)), Arg((3, 4))),
        ),
        OpSpec(
            "einsum_trace_outer",
            # letters from "a": the fresh letter backward picks for the repeated one must skip the taken ones
            lambda a, b: Einsum.public("aa,b->b", a, b),
            lambda a, b: __import__("torch").einsum("aa,b->b", a, b),
            (Arg((3, 3)), Arg((2,))),
        ),
        OpSpec(
            "einsum_batch_ellipsis",
            lambda a, b: Einsum.public("...ij,...jk", a, b),
            lambda a, b: __import__("torch").einsum("...ij,...jk", a, b),
            (Arg((2, 2, 3)), Arg((2, 3, 2))),
        ),
    )

    @staticmethod
    def call(equation: str, *operands: Any) -> Tensor:
        if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
            operands = tuple(operands[0])
        tensors = [t if isinstance(t, Tensor) else Tensor(t) for t in operands]
        if not tensors:
            raise ShapeError("einsum: expected at least one operand")
        terms, out = _parse(equation, [t.shape for t in tensors])
        return Einsum.apply(*tensors, terms=tuple(terms), out=out)

    @staticmethod
    def forward(ctx: Context, *arrays: Any, terms: tuple[str, ...], out: str) -> Any:
        sizes: dict[str, int] = {}
        for term, array in zip(terms, arrays, strict=True):
            for letter, size in zip(term, array.shape, strict=True):
                if sizes.setdefault(letter, size) != size:
                    raise ShapeError(
                        f"einsum: subscript {letter!r} has size {sizes[letter]} in one operand and {size} in another"
                    )
        ctx.terms, ctx.out, ctx.sizes = terms, out, sizes
        equation = ",".join(terms) + "->" + out
        return array_module(*arrays).einsum(equation, *arrays)

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> tuple[Any, ...]:
        operands = ctx.parents
        grads = []
        for i, term in enumerate(ctx.terms):
            if not ctx.needs_input_grad[i]:
                grads.append(None)
                continue
            grads.append(_operand_grad(ctx, i, term, g, operands))
        return tuple(grads)


def _operand_grad(ctx: Context, i: int, term: str, g: Tensor, operands: Sequence[Tensor]) -> Tensor:
    xp = array_module(g.data)
    terms = [ctx.out] + [t for j, t in enumerate(ctx.terms) if j != i]
    tensors: list[Any] = [g] + [operands[j] for j in range(len(ctx.terms)) if j != i]
    taken = set("".join(ctx.terms) + ctx.out)
    spare = iter(c for c in _LETTERS if c not in taken)
    target = ""
    for letter in term:
        if letter in target:  # a repeated letter: a fresh one, tied to the first by an identity matrix
            fresh = next(spare)
            terms.append(letter + fresh)
            tensors.append(Tensor._make(xp.eye(ctx.sizes[letter], dtype=g.dtype), None, 0))
            letter = fresh
        target += letter
    have = set("".join(terms))
    for letter in dict.fromkeys(target):
        if letter not in have:  # summed away in the forward: broadcast back with ones
            terms.append(letter)
            tensors.append(Tensor._make(xp.ones(ctx.sizes[letter], dtype=g.dtype), None, 0))
    return Einsum.apply(*tensors, terms=tuple(terms), out=target)
