"""The backward engine: freeing the graph, retain_graph, deep chains, accumulation, grad(), allow_unused."""

from __future__ import annotations

import gc
import math
import weakref

import numpy as np
import pytest
import tapegrad.autograd as ag
import torch
from tapegrad.autograd import GraphError, ShapeError, Tensor, backward, grad

from tests.support import random_like


def _graph(x: Tensor, w: Tensor) -> tuple[Tensor, list[weakref.ref]]:
    """A small graph whose intermediates are referenced only by the tape (weakrefs to watch them die)."""
    a = x * w  # Mul saves x and w
    b = a.exp()  # Exp saves its output b
    c = (b / a).tanh()  # Div saves b and a, Tanh saves its output
    d = (c @ w.T).sum()
    refs = [weakref.ref(t) for t in (a, b, c)] + [weakref.ref(t.grad_fn) for t in (a, b, c)]
    return d, refs


def test_graph_is_freed_after_backward() -> None:
    rng = np.random.default_rng(0)
    x = Tensor(rng.uniform(0.5, 1.0, (3, 4)), requires_grad=True)
    w = Tensor(rng.uniform(0.5, 1.0, (3, 4)), requires_grad=True)
    out, refs = _graph(x, w)
    gc.collect()
    assert all(r() is not None for r in refs)  # alive: the tape holds them
    node = out.grad_fn
    out.backward()
    gc.collect()
    assert [r() for r in refs] == [None] * len(refs), "intermediate tensors or nodes survived backward"
    assert node.parents == () and node.released


def test_retained_graph_keeps_its_tensors_until_the_output_dies() -> None:
    x = Tensor(np.full((2, 2), 0.7), requires_grad=True)
    w = Tensor(np.full((2, 2), 0.9), requires_grad=True)
    out, refs = _graph(x, w)
    out.backward(retain_graph=True)
    gc.collect()
    assert all(r() is not None for r in refs)
    del out
    gc.collect()
    assert all(r() is None for r in refs)


def test_second_backward_through_a_freed_graph_is_a_clear_error() -> None:
    x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    y = (x.exp() * x).sum()
    y.backward()
    with pytest.raises(GraphError, match="second time.*retain_graph=True"):
        y.backward()
    with pytest.raises(GraphError, match="second time"):
        grad(y, x)


def test_retain_graph_allows_backward_twice_and_gradients_accumulate() -> None:
    rng = np.random.default_rng(1)
    data = rng.standard_normal((3, 2))
    x = Tensor(data, requires_grad=True)
    y = (x.tanh() * x).sum()
    y.backward(retain_graph=True)
    first = x.grad.numpy().copy()
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * first, rtol=1e-12)
    tx = torch.tensor(data, requires_grad=True)
    (tx.tanh() * tx).sum().backward()
    np.testing.assert_allclose(first, tx.grad.numpy(), rtol=1e-12)


def test_gradients_accumulate_across_separate_graphs_and_zero_grad_resets() -> None:
    x = Tensor(np.array([1.0, -2.0, 3.0]), requires_grad=True)
    (x * x).sum().backward()
    (x * 3.0).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * x.numpy() + 3.0)
    x.zero_grad()
    assert x.grad is None
    x.grad = None  # PyTorch's idiom works too
    (x * 2.0).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.full(3, 2.0))


def test_a_100000_op_chain_backpropagates_without_recursion() -> None:
    x = Tensor(np.array([1.0]), requires_grad=True)
    y = x
    for _ in range(100_000):
        y = y * 1.00001
    y.sum().backward(retain_graph=True)
    np.testing.assert_allclose(x.grad.numpy(), [1.00001**100_000], rtol=1e-9)
    assert math.isclose(x.grad.item(), math.e, rel_tol=1e-4)
    del y  # tearing down the retained 100,000-node graph must not overflow the stack either
    gc.collect()


def test_grad_returns_gradients_without_touching_dot_grad() -> None:
    x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    w = Tensor(np.array([3.0, 4.0]), requires_grad=True)
    y = (x * w).sum()
    gx, gw = grad(y, [x, w], retain_graph=True)
    assert x.grad is None and w.grad is None
    np.testing.assert_array_equal(gx.numpy(), w.numpy())
    np.testing.assert_array_equal(gw.numpy(), x.numpy())
    y.backward()
    np.testing.assert_array_equal(x.grad.numpy(), w.numpy())


def test_grad_with_respect_to_an_intermediate_tensor() -> None:
    x = Tensor(np.array([0.5, 1.5]), requires_grad=True)
    h = x.exp()
    y = (h * h).sum()
    (gh,) = grad(y, h)
    np.testing.assert_allclose(gh.numpy(), 2 * h.numpy())


def test_allow_unused() -> None:
    x = Tensor(np.array([1.0]), requires_grad=True)
    unused = Tensor(np.array([2.0]), requires_grad=True)
    y = (x * 2.0).sum()
    with pytest.raises(GraphError, match="not used.*allow_unused"):
        grad(y, [x, unused], retain_graph=True)
    gx, gu = grad(y, [x, unused], allow_unused=True)
    assert gu is None
    np.testing.assert_array_equal(gx.numpy(), [2.0])


def test_diamond_and_multiple_outputs_with_random_upstream_gradients() -> None:
    rng = np.random.default_rng(2)
    data = rng.standard_normal((2, 3))
    g1, g2 = random_like((2, 3), np.float64, 3), random_like((3,), np.float64, 4)
    x = Tensor(data, requires_grad=True)
    h = x.sigmoid()
    y1, y2 = h * x, (h + x.exp()).sum(0)
    backward([y1, y2], [g1, g2])
    tx = torch.tensor(data, requires_grad=True)
    th = tx.sigmoid()
    torch.autograd.backward([th * tx, (th + tx.exp()).sum(0)], [torch.from_numpy(g1), torch.from_numpy(g2)])
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-12)


def test_outputs_of_a_multi_output_op_used_separately() -> None:
    x = Tensor(np.arange(4.0), requires_grad=True)
    a, b = x.split(2)
    (a * b).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 3.0, 0.0, 1.0])


def test_backward_on_a_leaf_and_on_an_output_that_needs_no_grad() -> None:
    x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    x.backward(np.array([3.0, 4.0]))
    np.testing.assert_array_equal(x.grad.numpy(), [3.0, 4.0])
    with pytest.raises(GraphError, match="does not require grad"):
        Tensor(np.array(1.0)).backward()


def test_seed_gradient_must_match_the_output() -> None:
    x = Tensor(np.ones((2, 3)), requires_grad=True)
    with pytest.raises(ShapeError, match=r"does not match output"):
        (x * 2.0).backward(np.ones((3, 2)))
    with pytest.raises(ValueError, match="2 outputs but 1 gradients"):
        backward([x * 2.0, x * 3.0], [np.ones((2, 3))])


def test_grad_is_a_plain_writable_array_of_the_leaf_dtype() -> None:
    x = Tensor(np.ones((1, 3), np.float32), requires_grad=True)
    (x.broadcast_to((4, 3)) * 2.0).sum().backward()
    assert x.grad.dtype == np.float32 and x.grad.shape == (1, 3) and not x.grad.requires_grad
    x.grad.data[0, 0] = 5.0  # writable, not a read-only broadcast view
    assert x.grad.data.flags.c_contiguous


def test_empty_tensors_backpropagate() -> None:
    x = Tensor(np.zeros((0, 3)), requires_grad=True)
    (x * 2.0).sum().backward()
    assert x.grad.shape == (0, 3)


def test_backward_with_create_graph_records_the_gradient() -> None:
    x = Tensor(np.array([2.0]), requires_grad=True)
    (x**3).sum().backward(create_graph=True)
    g = x.grad
    assert g.requires_grad
    (gg,) = grad(g.sum(), x)
    np.testing.assert_allclose(gg.numpy(), [12.0])



def test_backward_in_several_threads_at_once() -> None:
    import threading

    rng = np.random.default_rng(7)
    datas = [rng.standard_normal((4, 3)) for _ in range(4)]
    results: dict[int, np.ndarray] = {}
    errors: list[BaseException] = []

    def work(i: int) -> None:
        try:
            x = Tensor(datas[i], requires_grad=True)
            for _ in range(30):
                ((x * x).tanh() @ x.T).sum().backward()
            results[i] = x.grad.numpy()
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors
    for i, data in enumerate(datas):
        tx = torch.tensor(data, requires_grad=True)
        ((tx * tx).tanh() @ tx.T).sum().backward()
        np.testing.assert_allclose(results[i], 30 * tx.grad.numpy(), rtol=1e-10)


def test_only_the_inputs_that_need_grad_get_it() -> None:
    a, b = Tensor(np.ones(2), requires_grad=True), Tensor(np.full(2, 2.0))
    y = ag.cat([a * b, b]).sum() + ag.where(b > 1, a, b).sum()
    y.backward()
    assert b.grad is None
    np.testing.assert_array_equal(a.grad.numpy(), [3.0, 3.0])


@pytest.mark.filterwarnings("ignore:divide by zero:RuntimeWarning")
def test_an_infinite_scalar_output_still_seeds_a_gradient_of_one() -> None:
    data = np.array([0.0, 1.0, 2.0])
    x = Tensor(data, requires_grad=True)
    x.log().sum().backward()  # the output is -inf, yet d/dx of the finite terms is finite, as in torch
    tx = torch.tensor(data, requires_grad=True)
    tx.log().sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), tx.grad.numpy())
