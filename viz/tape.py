"""Walk the recorded tape from one activation down to the image with a rule table (the engine of every
method).

The walk is ``tapegrad.autograd.grad`` with ``backward_for``: each node runs the rule the table gives for its
op. Only the data path matters, and ``grad`` itself walks only the paths from the activation to the image
(Chainer's path pruning, in the engine): a conv node never computes its weight gradient, a linear node never
its ``x^T g``, however the parameters were flagged.
"""

from __future__ import annotations

from typing import Any

from tapegrad.autograd import Tensor, grad
from tapegrad.autograd.errors import GraphError
from tapegrad.autograd.function import Context

from .rules import rule_for


def depends_on(start: Context, source: Tensor) -> set[Context]:
    """The nodes reachable from ``start`` whose value depends on ``source`` (iteratively, no recursion)."""
    target = source.grad_fn
    order: list[Context] = []
    seen = {start}
    stack: list[tuple[Context, bool]] = [(start, False)]
    while stack:  # post-order DFS: a node after all its parents
        node, expanded = stack.pop()
        if expanded:
            order.append(node)
            continue
        stack.append((node, True))
        for parent in node.parents:
            child = None if parent is None else parent.grad_fn
            if child is not None and child not in seen:
                seen.add(child)
                stack.append((child, False))
    on_path: set[Context] = set()
    for node in order:
        if node is target or any(_feeds(p, source, on_path) for p in node.parents):
            on_path.add(node)
    return on_path


def _feeds(parent: Tensor | None, source: Tensor, on_path: set[Context]) -> bool:
    if parent is None:
        return False
    if parent is source:
        return True
    if source.grad_fn is not None and parent.grad_fn is source.grad_fn:  # the node's edge to an op's output
        return parent._output_index == source._output_index
    return parent.grad_fn is not None and parent.grad_fn in on_path


def walk(activation: Tensor, image: Tensor, seed: Any, method: str, retain_graph: bool = False) -> Tensor:
    """Project ``seed`` (shaped like ``activation``) down to ``image`` with ``method``'s rules.

    Parameters
    ----------
    activation
        A tensor computed from ``image`` with recording on (e.g. a layer's output captured by a hook).
    image
        The input the projection lands on; must require grad.
    seed
        The signal placed on ``activation`` (ZF: the chosen activation's own value, zero elsewhere).
    method
        ``"deconvnet"``, ``"guided"`` or ``"saliency"``.
    """
    if activation.grad_fn is None:
        raise GraphError(
            f"project: the chosen activation {activation.shape} has no recorded graph; run the forward pass "
            "with recording on and an image that requires grad (not under no_grad)"
        )
    on_path = depends_on(activation.grad_fn, image)
    if activation.grad_fn not in on_path:
        raise GraphError("project: the chosen activation does not depend on the image it is projected onto")

    def backward_for(node: Context) -> Any:
        return rule_for(node.function, method)

    (result,) = grad(
        activation, image, grad_outputs=seed, retain_graph=retain_graph, backward_for=backward_for
    )
    return result
