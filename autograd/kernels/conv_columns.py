"""The stride-1 convolution's "wide" columns: images zero-padded into flat planes, one contiguous copy of the
plane per kernel tap (``nn/functional/conv_wide.py`` explains the layout), and the adjoint of both, which sums
the taps' columns back into an image (the input gradient's col2im).

Why compiled: NumPy's copies hold the GIL, so the kernel pool's threads wait on each other while they build
columns.  Measured (2026-12-02, a chunk of 8x3x32x32 with a 3x3 kernel: 940 KB of columns, 4000 chunks per
thread): NumPy's zero + plane copy + nine tap copies 62-81 µs per chunk on one thread and 94-96 µs on two
(threads slow each other down), these kernels 40 µs on one thread and 25 µs on two.  The loops copy between
one-dimensional views with a plain index, which LLVM vectorises; indexing the flat plane at ``offset + q``
instead ran 4x slower (163-204 µs per chunk).  Serial: each call is one pool thread's chunk.  Padding and
taps are one kernel with flags (not two, nor one per layout): each compiled signature costs 0.4-0.8 s on a
cold cache, and the demo's first run compiled nine of them for the convolution alone.
"""

from __future__ import annotations

from typing import Any

from ._compile import jit
from ._dispatch import kernel


def wide_columns_numpy(x: Any, padded: Any, cols: Any, ph: int, pw: int, kw: int, dh: int, dw: int, r0: int,
                       pad: bool = True, side_by_side: bool = False) -> None:
    """The wide columns of (N, C, H, W) ``x`` (any strides) for output rows from ``r0``.

    ``pad``: first write ``x`` zero-padded by ``ph``/``pw`` into the flat planes ``padded`` (N, C, L), with
    L >= (H + 2ph) * Wp and everything past the padded plane zeroed (the last taps' copies run into it); a
    later band of the same samples passes False and reuses them.  Then tap t's row of columns is the flat plane
    from the tap's offset: ``cols`` is (N, C, kh*kw, width), or (C, kh*kw, N, width) when ``side_by_side``."""
    nb, c, h, w = x.shape
    hp, wp = h + 2 * ph, w + 2 * pw
    if pad:
        padded[...] = 0
        padded[:, :, : hp * wp].reshape(nb, c, hp, wp)[:, :, ph : ph + h, pw : pw + w] = x
    target = cols.transpose(2, 0, 1, 3) if side_by_side else cols
    width = target.shape[3]
    for t in range(target.shape[2]):
        offset = (t // kw) * dh * wp + (t % kw) * dw + r0 * wp
        target[:, :, t] = padded[:, :, offset : offset + width]


@jit(parallel=False)
def _wide_columns(x, padded, cols, ph, pw, kw, dh, dw, r0, pad, side_by_side):  # noqa: ANN001, ANN202 - Numba
    nb, c, h, w = x.shape
    wp = w + 2 * pw
    taps, width = (cols.shape[1], cols.shape[3]) if side_by_side else (cols.shape[2], cols.shape[3])
    for b in range(nb):
        for ch in range(c):
            plane = padded[b, ch]
            if pad:
                top = plane[: ph * wp + pw]
                for q in range(top.shape[0]):
                    top[q] = 0
                for r in range(h):
                    start = (r + ph) * wp + pw
                    source, target = x[b, ch, r], plane[start : start + w]
                    for q in range(w):
                        target[q] = source[q]
                    gap = plane[start + w : start + w + 2 * pw]  # this row's right, the next row's left padding
                    for q in range(gap.shape[0]):
                        gap[q] = 0
                rest = plane[(h + ph) * wp + pw :]
                for q in range(rest.shape[0]):
                    rest[q] = 0
            for t in range(taps):
                offset = (t // kw) * dh * wp + (t % kw) * dw + r0 * wp
                source = plane[offset : offset + width]
                target = cols[ch, t, b] if side_by_side else cols[b, ch, t]
                for q in range(width):
                    target[q] = source[q]


def phase_columns_numpy(x: Any, phases: Any, cols: Any, ph: int, pw: int, kw: int, sh: int, sw: int, dh: int,
                        dw: int, r0: int, pad: bool = True, side_by_side: bool = False) -> None:
    """The wide columns of a strided convolution, over the input's ``sh x sw`` phases.

    Phase (pr, pc) of the zero-padded image holds its rows pr, pr + sh, ... and columns pc, pc + sw, ...: a plane
    of Hq x Wq (the padded size divided by the stride, rounded up).  Window (oh, ow) and tap (i, j) read padded
    position (oh*sh + i*dh, ow*sw + j*dw), which is phase ((i*dh) % sh, (j*dw) % sw) at (oh + (i*dh)//sh,
    ow + (j*dw)//sw): so, numbering windows over the phase width (q = oh*Wq + ow), each tap's row of columns is
    again one contiguous copy, from offset ((i*dh)//sh)*Wq + (j*dw)//sw of one flat phase plane.  ``pad``: first
    write the phases (N, C, sh*sw, L) with L >= Hq*Wq + ((kw-1)*dw)//sw, zeros everywhere else; ``cols`` is
    (N, C, kh*kw, width), or (C, kh*kw, N, width) when ``side_by_side``; ``r0``: the first output row."""
    from ..backend import array_module

    nb, c, h, w = x.shape
    hq, wq = -(-(h + 2 * ph) // sh), -(-(w + 2 * pw) // sw)
    if pad:
        padded = array_module(phases).zeros((nb, c, hq * sh, wq * sw), dtype=phases.dtype)
        padded[:, :, ph : ph + h, pw : pw + w] = x
        phases[...] = 0
        for pr in range(sh):
            for pc in range(sw):
                phases[:, :, pr * sw + pc, : hq * wq] = padded[:, :, pr::sh, pc::sw].reshape(nb, c, hq * wq)
    target = cols.transpose(2, 0, 1, 3) if side_by_side else cols
    width = target.shape[3]
    for t in range(target.shape[2]):
        i, j = t // kw, t % kw
        offset = ((i * dh) // sh + r0) * wq + (j * dw) // sw
        target[:, :, t] = phases[:, :, ((i * dh) % sh) * sw + (j * dw) % sw, offset : offset + width]


@jit(parallel=False)
def _phase_columns(x, phases, cols, ph, pw, kw, sh, sw, dh, dw, r0, pad, side_by_side):  # noqa: ANN001, ANN202
    nb, c, h, w = x.shape
    wq = (w + 2 * pw + sw - 1) // sw
    taps, width = (cols.shape[1], cols.shape[3]) if side_by_side else (cols.shape[2], cols.shape[3])
    for b in range(nb):
        for ch in range(c):
            if pad:
                for f in range(sh * sw):
                    plane = phases[b, ch, f]
                    for q in range(plane.shape[0]):
                        plane[q] = 0
                for r in range(h):
                    row, source = r + ph, x[b, ch, r]
                    base = (row // sh) * wq
                    for pc in range(sw):
                        first = (pc - pw) % sw  # the first input column of this phase
                        target = phases[b, ch, (row % sh) * sw + pc]
                        start = base + (first + pw) // sw
                        for k in range((w - first + sw - 1) // sw):
                            target[start + k] = source[first + k * sw]
            for t in range(taps):
                i, j = t // kw, t % kw
                offset = ((i * dh) // sh + r0) * wq + (j * dw) // sw
                source = phases[b, ch, ((i * dh) % sh) * sw + (j * dw) % sw, offset : offset + width]
                target = cols[ch, t, b] if side_by_side else cols[b, ch, t]
                for q in range(width):
                    target[q] = source[q]


def phase_columns_compiled(x: Any, phases: Any, cols: Any, ph: int, pw: int, kw: int, sh: int, sw: int, dh: int,
                           dw: int, r0: int, pad: bool = True, side_by_side: bool = False) -> None:
    _phase_columns(x, phases, cols, ph, pw, kw, sh, sw, dh, dw, r0, bool(pad), bool(side_by_side))


def wide_fold_numpy(taps: Any, padded: Any, out: Any, kw: int, ph: int, pw: int, dh: int, dw: int, r0: int = 0,
                    first: bool = True, last: bool = True) -> None:
    """``out`` (N, C, H, W) = the sum of the taps' columns ``taps`` (N, C, kh*kw, rows*Wp) at their offsets in
    the zero-padded flat planes ``padded`` (N, C, L; scratch, overwritten), cropped to the image.

    In bands of output rows: ``taps`` holds rows ``r0:r0 + rows``; ``first`` zeroes the planes before adding,
    ``last`` crops them into ``out`` after (one band: both)."""
    nb, c, h, w = out.shape
    hp, wp = h + 2 * ph, w + 2 * pw
    wide = taps.shape[3]
    if first:
        padded[...] = 0
    for t in range(taps.shape[2]):
        offset = (t // kw) * dh * wp + (t % kw) * dw + r0 * wp
        padded[:, :, offset : offset + wide] += taps[:, :, t]
    if last:
        out[...] = padded[:, :, : hp * wp].reshape(nb, c, hp, wp)[:, :, ph : ph + h, pw : pw + w]


@jit(parallel=False)
def _wide_fold(taps, padded, out, kw, ph, pw, dh, dw, r0, first, last):  # noqa: ANN001, ANN202 - Numba
    nb, c, h, w = out.shape
    wp = w + 2 * pw
    count, wide = taps.shape[2], taps.shape[3]
    for b in range(nb):
        for ch in range(c):
            plane = padded[b, ch]
            if first:
                for q in range(plane.shape[0]):
                    plane[q] = 0
            for t in range(count):
                offset = (t // kw) * dh * wp + (t % kw) * dw + r0 * wp
                source, target = taps[b, ch, t], plane[offset : offset + wide]
                for q in range(wide):
                    target[q] += source[q]
            if last:
                for r in range(h):
                    start = (r + ph) * wp + pw
                    source, target = plane[start : start + w], out[b, ch, r]
                    for q in range(w):
                        target[q] = source[q]


def wide_fold_compiled(taps: Any, padded: Any, out: Any, kw: int, ph: int, pw: int, dh: int, dw: int, r0: int = 0,
                       first: bool = True, last: bool = True) -> None:
    _wide_fold(taps, padded, out, kw, ph, pw, dh, dw, r0, bool(first), bool(last))


def wide_columns_compiled(x: Any, padded: Any, cols: Any, ph: int, pw: int, kw: int, dh: int, dw: int, r0: int,
                          pad: bool = True, side_by_side: bool = False) -> None:
    _wide_columns(x, padded, cols, ph, pw, kw, dh, dw, r0, bool(pad), bool(side_by_side))


wide_columns = kernel("wide_columns", wide_columns_numpy, wide_columns_compiled, arrays=3)
wide_fold = kernel("wide_fold", wide_fold_numpy, wide_fold_compiled, arrays=3)
phase_columns = kernel("phase_columns", phase_columns_numpy, phase_columns_compiled, arrays=3)
