"""conv2d forward and forward+backward on the issue's four shapes, with MyGrad and the Tinyml way beside."""

from __future__ import annotations

from typing import Any

from .common import close, randn, rng, tg, th
from .harness import Case, Impl

# name, input (N, C, H, W), out channels, kernel, stride, padding
SHAPES = [
    ("a", (32, 3, 32, 32), 16, 3, 1, 1),
    ("b", (16, 16, 64, 64), 32, 3, 1, 1),
    ("c", (8, 3, 224, 224), 32, 5, 2, 0),
    ("d", (64, 64, 16, 16), 64, 3, 1, 0),
]


def _out(size: int, k: int, s: int, p: int) -> int:
    return (size + 2 * p - k) // s + 1


def conv_flops(shape: tuple[int, ...], o: int, k: int, s: int, p: int) -> float:
    n, c, h, w = shape
    return 2.0 * n * o * _out(h, k, s, p) * _out(w, k, s, p) * c * k * k


def _conv_fn() -> Any:
    from tapegrad.nn import functional as F  # noqa: N812

    if hasattr(F, "conv2d"):
        return F.conv2d
    from tapegrad.nn.functional.conv import conv2d  # before the nn helper exports it

    return conv2d


def make_conv(shape: tuple[int, ...], o: int, k: int, s: int, p: int, backward: bool) -> Any:
    def make(device: str) -> dict[str, Impl]:
        import torch
        import torch.nn.functional as TF  # noqa: N812

        conv2d = _conv_fn()
        gen = rng(1)
        n, c, h, w = shape
        x = randn(gen, *shape)
        wt = randn(gen, o, c, k, k, scale=(c * k * k) ** -0.5)
        b = randn(gen, o, scale=0.1)
        gout = randn(gen, n, o, _out(h, k, s, p), _out(w, k, s, p))
        tx, tw, tb, tg_out = tg(x, device, True), tg(wt, device, True), tg(b, device, True), tg(gout, device)
        px, pw, pb, pg = th(x, device, True), th(wt, device, True), th(b, device, True), th(gout, device)

        def ours() -> Any:
            tx.grad = tw.grad = tb.grad = None
            out = conv2d(tx, tw, tb, stride=s, padding=p)
            if backward:
                out.backward(tg_out)
            return out

        def torch_side() -> Any:
            px.grad = pw.grad = pb.grad = None
            out = TF.conv2d(px, pw, pb, stride=s, padding=p)
            if backward:
                out.backward(pg)
            return out

        impls: dict[str, Impl] = {"tapegrad": ours, "torch": torch_side}
        problems = [close("output", ours(), torch_side())]
        if backward:
            problems += [
                close("grad x", tx.grad, px.grad),
                close("grad w", tw.grad, pw.grad),
                close("grad b", tb.grad, pb.grad),
            ]
        if device == "cpu":
            impls.update(_peers(x, wt, b, gout, k, s, p, backward))
        _report(problems)
        torch.set_grad_enabled(True)
        return impls

    return make


def _peers(x: Any, w: Any, b: Any, gout: Any, k: int, s: int, p: int, backward: bool) -> dict[str, Impl]:
    from . import tinyml

    peers: dict[str, Impl] = {}
    ref = tinyml.Conv(x.shape, k, s, p)

    def tiny() -> Any:
        out, cols = ref.forward(x, w, b)
        if backward:
            ref.backward(gout, cols, w)
        return out

    peers["tinyml"] = tiny
    try:
        import mygrad as mg
        from mygrad.nnet.layers import conv_nd
    except ImportError:
        return peers
    # MyGrad refuses windows that do not tile the input exactly ((H + 2p - k) % s != 0); PyTorch ignores the
    # unused last rows/columns, so MyGrad gets the input without them: the same windows, the same output
    h, wd = x.shape[2:]
    x = x[:, :, : h - (h + 2 * p - k) % s, : wd - (wd + 2 * p - k) % s].copy()
    mx, mw, mb = mg.tensor(x), mg.tensor(w), mg.tensor(b.reshape(1, -1, 1, 1))

    def mygrad_side() -> Any:
        out = conv_nd(mx, mw, stride=s, padding=p) + mb
        if backward:
            out.backward(gout)
        return out

    peers["mygrad"] = mygrad_side
    return peers


def _report(problems: list[str | None]) -> None:
    for problem in problems:
        if problem:
            print(f"    WARNING: tapegrad and torch disagree: {problem}")


def cases() -> list[Case]:
    found = []
    for name, shape, o, k, s, p in SHAPES:
        n, c, h, w = shape
        label = f"{n}x{c}x{h}x{w}->{o} k{k}" + (f" s{s}" if s != 1 else "") + (f" p{p}" if p else "")
        flops = conv_flops(shape, o, k, s, p)
        found.append(
            Case(
                f"conv2d ({name}) fwd",
                "conv2d",
                make_conv(shape, o, k, s, p, False),
                flops,
                target=None,  # issue 11 sets no bound on forwards alone
                note=label,
            )
        )
        found.append(
            Case(
                f"conv2d ({name}) fwd+bwd",
                "conv2d",
                make_conv(shape, o, k, s, p, True),
                3 * flops,
                target=1.2,  # issue 11
                note=label,
            )
        )
    return found
