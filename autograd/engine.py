"""Reverse mode: walk the tape from the outputs back to the leaves.

* Iterative topological order (Kahn's algorithm over the graph nodes): no recursion, so a chain of 100,000 ops
  is fine.
* Unbroadcasting happens here, once, for every op: an op's backward may return a gradient of the broadcast
  shape and the engine sums it back to the input's shape.  Each gradient is then checked against its input's
  shape and dtype, and a mismatch is an error that names the op.
* After the walk each node is released (saved arrays and edges dropped) unless ``retain_graph=True``.
* With ``create_graph=True`` the backward ops run with recording on, so the gradients have a graph of their
  own.
* ``grad(outputs, inputs)`` walks only the paths between them, as Chainer's ``grad()`` does: a node off every
  path is not visited, and while a node's backward runs its ``needs_input_grad`` says False for an input that
  leads to none of ``inputs`` (a conv on the way to the image never computes its weight gradient).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from .backend import array_module
from .errors import DTypeError, GraphError, ShapeError, describe
from .function import Context
from .grad_mode import enable_grad, no_grad
from .tensor import Tensor


def backward(
    tensors: Sequence[Tensor],
    grad_tensors: Sequence[Any] | None = None,
    retain_graph: bool | None = None,
    create_graph: bool = False,
) -> None:
    """Accumulate gradients of ``tensors`` into the ``.grad`` of every leaf they depend on."""
    roots, seeds = _prepare(tensors, grad_tensors, "backward")
    retain = create_graph if retain_graph is None else retain_graph
    _run(roots, seeds, retain, create_graph, capture=None)


def grad(
    outputs: Tensor | Sequence[Tensor],
    inputs: Tensor | Sequence[Tensor],
    grad_outputs: Any = None,
    retain_graph: bool | None = None,
    create_graph: bool = False,
    allow_unused: bool = False,
    backward_for: Callable[[Context], Callable[..., Any]] | None = None,
) -> tuple[Tensor | None, ...]:
    """Gradients of ``outputs`` with respect to ``inputs``, returned rather than stored in ``.grad``.

    Like ``torch.autograd.grad``; with ``create_graph=True`` the results can be differentiated again.
    ``backward_for(node)``, when given, returns the backward to use for each node instead of its op's own
    (``fn(ctx, *grads) -> grads``): this is how ``tapegrad.viz`` runs a deconvnet or guided backprop as a
    walk over the same tape with other rules.
    """
    outputs = [outputs] if isinstance(outputs, Tensor) else list(outputs)
    inputs = [inputs] if isinstance(inputs, Tensor) else list(inputs)
    if grad_outputs is not None and not isinstance(grad_outputs, (list, tuple)):
        grad_outputs = [grad_outputs]
    for i, t in enumerate(inputs):
        if not isinstance(t, Tensor) or not t.requires_grad:
            raise GraphError(f"grad: input {i} does not require grad")
    roots, seeds = _prepare(outputs, grad_outputs, "grad")
    retain = create_graph if retain_graph is None else retain_graph
    capture: dict[Any, Any] = {}
    for i, t in enumerate(inputs):
        key = id(t) if t.grad_fn is None else (t.grad_fn, t._output_index)
        capture.setdefault(key, []).append(i)
    results: list[Tensor | None] = [None] * len(inputs)
    paths = _paths([t.grad_fn for t in roots if t.grad_fn is not None], inputs)
    _run(roots, seeds, retain, create_graph, capture=(capture, results), backward_for=backward_for, paths=paths)
    for i, r in enumerate(results):
        if r is None and not allow_unused:
            raise GraphError(
                f"grad: input {i} ({describe(inputs[i])}) was not used to compute the outputs; "
                "pass allow_unused=True to get None for it"
            )
    return tuple(results)


def _paths(starts: list[Context], inputs: list[Tensor]) -> dict[Context, tuple[bool, ...]]:
    """The nodes on a path from ``starts`` down to ``inputs``, each with which of its inputs lead there.

    A node is on a path when it made one of ``inputs`` or one of its parents leads to one (post-order DFS,
    iterative).  Its mask is ``needs_input_grad`` narrowed to those parents.
    """
    leaf_ids = {id(t) for t in inputs if t.grad_fn is None}
    made = {t.grad_fn for t in inputs if t.grad_fn is not None}
    order: list[Context] = []
    expanded_nodes: set[Context] = set()
    stack: list[tuple[Context, bool]] = [(node, False) for node in starts]
    while stack:
        node, expanded = stack.pop()
        if expanded:
            order.append(node)  # after every node it reads from
            continue
        if node in expanded_nodes:
            continue
        expanded_nodes.add(node)
        stack.append((node, True))
        for parent in node.parents:
            child = None if parent is None else parent.grad_fn
            if child is not None and child not in expanded_nodes:
                stack.append((child, False))
    leads: dict[Context, tuple[bool, ...]] = {}
    for node in order:  # parents first
        if node.released:  # kept, so that the walk reports the freed graph as backward does
            leads[node] = node.needs_input_grad
            continue
        mask = tuple(
            need
            and parent is not None
            and (id(parent) in leaf_ids if parent.grad_fn is None else parent.grad_fn in leads)
            for need, parent in zip(node.needs_input_grad, node.parents, strict=True)
        )
        if any(mask) or node in made:
            leads[node] = mask
    return leads


def _prepare(tensors: Sequence[Tensor], grads: Sequence[Any] | None, where: str) -> tuple[list, list]:
    if grads is not None and len(grads) != len(tensors):
        raise ValueError(f"{where}: got {len(tensors)} outputs but {len(grads)} gradients")
    roots, seeds = [], []
    for i, t in enumerate(tensors):
        if not isinstance(t, Tensor):
            raise TypeError(f"{where}: output {i} is a {type(t).__name__}, not a Tensor")
        if not t.requires_grad:
            raise GraphError(
                f"{where}: output {i} ({describe(t)}) does not require grad and has no grad_fn; "
                "was it computed under no_grad, or from tensors without requires_grad=True?"
            )
        g = None if grads is None else grads[i]
        if g is None:
            if t.data.size != 1:
                raise GraphError(
                    f"{where}: a gradient can be implied only for a scalar output, got shape {t.shape}; "
                    "pass the upstream gradient explicitly"
                )
            g = Tensor._make(array_module(t.data).ones_like(t.data), None, 0)  # not 1 + 0 * t: nan for inf
        elif not isinstance(g, Tensor):
            g = Tensor(g, dtype=t.dtype, device=t.device)  # a NumPy seed for a GPU output moves there
        if g.shape != t.shape:
            raise ShapeError(f"{where}: gradient {describe(g)} does not match output {i} {describe(t)}")
        roots.append(t)
        seeds.append(g)
    return roots, seeds


def _run(
    roots: list[Tensor],
    seeds: list[Tensor],
    retain: bool,
    create_graph: bool,
    capture: Any,
    backward_for: Callable[[Context], Callable[..., Any]] | None = None,
    paths: dict[Context, tuple[bool, ...]] | None = None,
) -> None:
    buffers: dict[Context, list[Any]] = {}
    leaves: dict[int, list[Any]] = {}  # id(leaf) -> [leaf, summed gradient]: hooks see the total, once
    for t, g in zip(roots, seeds, strict=True):
        if t.grad_fn is None:
            _pend(leaves, t, g)
        else:
            slot = buffers.setdefault(t.grad_fn, [None] * t.grad_fn.n_outputs)
            slot[t._output_index] = _accumulate(slot[t._output_index], g)
    if paths is not None:  # grad(): only the paths to the inputs
        for node in [n for n in buffers if n not in paths]:
            del buffers[node]
    dependencies, leaf_uses = _count_dependencies([n for n in buffers], paths)
    ready = [n for n in buffers if dependencies.get(n, 0) == 0]
    mode = enable_grad() if create_graph else no_grad()
    with mode:
        while ready:
            node = ready.pop()
            grads = buffers.pop(node)
            if paths is None:
                _process(node, grads, buffers, dependencies, ready, capture, backward_for, leaves, leaf_uses)
            else:
                needs = node.needs_input_grad
                node.needs_input_grad = paths[node]
                try:
                    _process(node, grads, buffers, dependencies, ready, capture, backward_for, leaves, leaf_uses)
                finally:
                    node.needs_input_grad = needs
            if not retain:
                node.release()
        for leaf, g in leaves.values():
            _deliver_to_leaf(leaf, g, capture)


def _count_dependencies(
    starts: list[Context], paths: dict[Context, tuple[bool, ...]] | None = None
) -> tuple[dict[Context, int], dict[int, int]]:
    """How many edges point into each node, and into each leaf (by id), from nodes reachable from ``starts``.

    With ``paths`` (``grad``), only edges between nodes on a path count, and only those are walked.  A leaf's
    count lets the walk hand it its gradient as soon as its last consumer has run (as PyTorch's AccumulateGrad
    does), so hooks on leaves (DDP's bucketed all-reduce) fire while the rest of backward is still running.
    """
    dependencies: dict[Context, int] = {}
    leaf_uses: dict[int, int] = {}
    seen = set(starts)
    stack = list(starts)
    get = dependencies.get
    while stack:
        node = stack.pop()
        if node.released:
            raise GraphError(
                f"{node.name}: trying to run backward through the graph a second time; the graph was freed "
                "by the first backward. Call backward(retain_graph=True) the first time if you need to."
            )
        for parent in node.parents:
            if parent is None:
                continue
            child = parent.grad_fn
            if child is None:
                if parent.requires_grad:
                    leaf_uses[id(parent)] = leaf_uses.get(id(parent), 0) + 1
                continue
            if not parent.requires_grad or (paths is not None and child not in paths):
                continue
            dependencies[child] = get(child, 0) + 1
            if child not in seen:
                seen.add(child)
                stack.append(child)
    return dependencies, leaf_uses


def _process(
    node: Context,
    grads: list[Any],
    buffers: dict[Context, list[Any]],
    dependencies: dict[Context, int],
    ready: list[Context],
    capture: Any,
    backward_for: Callable[[Context], Callable[..., Any]] | None,
    leaves: dict[int, list[Any]],
    leaf_uses: dict[int, int],
) -> None:
    """Run one node's backward and hand each input its gradient (the engine's inner loop: kept lean)."""
    for g in grads:
        if g is not None:
            input_grads = _call_backward(node, grads, capture, backward_for)
            break
    else:  # reached, but no gradient flows through it: only release its inputs
        input_grads = ()
    needs = node.needs_input_grad
    count = len(input_grads)
    for index, parent in enumerate(node.parents):
        if parent is None or not parent.requires_grad:
            continue
        child = parent.grad_fn
        g = input_grads[index] if index < count else None
        if g is not None and needs[index]:
            # _fit's checks, inlined for the common case (a Tensor of the right shape and dtype)
            if not isinstance(g, Tensor):
                g = Tensor._make(g, None, 0)
            data = g.data
            pdata = parent.data
            if data.shape != pdata.shape or (data.dtype is not pdata.dtype and data.dtype != pdata.dtype):
                g = _fit(g, parent, node, index)
            if child is None:
                _pend(leaves, parent, g)
            else:
                slot = buffers.get(child)
                if slot is None:
                    slot = buffers[child] = [None] * child.n_outputs
                i = parent._output_index
                current = slot[i]
                slot[i] = g if current is None else current + g
        if child is None:  # a leaf: delivered once its last consumer has run
            key = id(parent)
            left = leaf_uses.get(key)
            if left is not None:
                left -= 1
                leaf_uses[key] = left
                if left == 0:
                    entry = leaves.pop(key, None)
                    if entry is not None:
                        _deliver_to_leaf(entry[0], entry[1], capture)
            continue
        left = dependencies.get(child)
        if left is None:  # grad(): a node off every path to the inputs
            continue
        left -= 1
        dependencies[child] = left
        if left == 0:
            if child not in buffers:
                buffers[child] = [None] * child.n_outputs
            ready.append(child)


def _call_backward(
    node: Context,
    grads: list[Any],
    capture: Any,
    backward_for: Callable[[Context], Callable[..., Any]] | None,
) -> tuple[Any, ...]:
    if node.output_hooks:
        for index, hooks in node.output_hooks.items():
            if grads[index] is not None:
                grads[index] = _run_hooks(hooks, grads[index])
    if capture is not None:
        wanted, results = capture
        for index, g in enumerate(grads):
            for slot in wanted.get((node, index), ()):
                results[slot] = _accumulate(results[slot], g)
    for index, g in enumerate(grads):
        if g is None:  # an output that was not used downstream: its gradient is zero
            shape, dtype = node.output_meta[index]
            xp = array_module(*(p.data for p in node.parents if p is not None))
            grads[index] = Tensor._make(xp.zeros(shape, dtype=dtype), None, 0)
    fn = node.function.backward if backward_for is None else backward_for(node)
    input_grads = fn(node, *grads)
    if not isinstance(input_grads, tuple):
        input_grads = (input_grads,)
    if len(input_grads) < len(node.parents):
        raise GraphError(
            f"{node.name}.backward returned {len(input_grads)} gradients, expected {len(node.parents)} "
            "(one per forward argument, None for non-tensor ones)"
        )
    return input_grads


def _fit(g: Any, parent: Tensor, node: Context, index: int) -> Tensor:
    """Sum a broadcast gradient back to its input's shape, cast to its dtype, and check it."""
    if not isinstance(g, Tensor):
        g = Tensor._make(g, None, 0)
    shape = parent.data.shape
    if g.data.shape != shape:
        g = _unbroadcast(g, shape, node, index)
    if g.data.dtype != parent.data.dtype:
        if g.data.dtype.kind != "f" or parent.data.dtype.kind != "f":
            raise DTypeError(
                f"{node.name}.backward returned a {g.dtype} gradient for input {index} "
                f"of dtype {parent.dtype}"
            )
        g = g.astype(parent.data.dtype)
    return g


def _unbroadcast(g: Tensor, shape: tuple[int, ...], node: Context, index: int) -> Tensor:
    extra = g.ndim - len(shape)
    if extra < 0:
        _bad_gradient(g, shape, node, index)
    axes = list(range(extra))
    for i, size in enumerate(shape):
        gsize = g.data.shape[extra + i]
        if size == 1 and gsize != 1:
            axes.append(extra + i)
        elif size != gsize:
            _bad_gradient(g, shape, node, index)
    if axes:
        g = g.sum(axis=tuple(axes), keepdims=True)
    if extra:
        g = g.reshape(shape)
    return g


def _bad_gradient(g: Tensor, shape: tuple[int, ...], node: Context, index: int) -> None:
    raise ShapeError(
        f"{node.name}.backward returned a gradient of shape {g.shape} for input {index} of shape {shape}, "
        "which it cannot be summed back to"
    )


def _accumulate(current: Tensor | None, g: Tensor) -> Tensor:
    return g if current is None else current + g


def _run_hooks(hooks: list[Any], g: Tensor) -> Tensor:
    for hook in list(hooks):
        replaced = hook(g)
        if replaced is not None:
            g = replaced if isinstance(replaced, Tensor) else Tensor._make(replaced, None, 0)
    return g


def _pend(leaves: dict[int, list[Any]], leaf: Tensor, g: Tensor) -> None:
    """Sum a leaf's gradients over all paths; delivered (hooks, .grad) once, when its last consumer has run."""
    entry = leaves.get(id(leaf))
    if entry is None:
        leaves[id(leaf)] = [leaf, g]
    else:
        entry[1] = entry[1] + g


def _deliver_to_leaf(leaf: Tensor, g: Tensor, capture: Any) -> None:
    if leaf._hooks:
        g = _run_hooks(leaf._hooks, g)
    if capture is not None:
        wanted, results = capture
        for slot in wanted.get(id(leaf), ()):
            results[slot] = _accumulate(results[slot], g)
        return
    if g.grad_fn is None:
        data = g.data
        if not data.flags.c_contiguous or not getattr(data.flags, "writeable", True):
            data = data.copy()  # broadcast views are read-only: .grad is always a plain, writable array
        g = Tensor._make(data, None, 0)  # .grad never shares a Tensor object with the graph
    leaf.grad = g if leaf.grad is None else leaf.grad + g
