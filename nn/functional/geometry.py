"""Where the windows of a convolution or a pooling lie: one argument parser and one geometry for every window op.

``pair`` turns an int or a pair into ``(h, w)`` and is the only parser of window arguments (functionals,
modules, transforms and viz all call it), raising :class:`ArgumentError` for anything else.
``Geometry.make`` parses and checks a window op's arguments once, for conv2d, conv_transpose2d, max/avg pooling,
unpooling, im2col and col2im.

The fields always mean the same thing, whichever way the op runs: ``h, w`` is the *image* the windows are cut
from (or folded back onto) and ``grid_h, grid_w`` the number of window positions.  A convolution or a pooling
maps the image to the grid; a transposed convolution maps the grid to the image (``transposed=True``):
``in_hw`` and ``out_hw`` give the op's own input and output sizes.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, NamedTuple

from tapegrad.autograd.errors import ArgumentError, ShapeError

Taps = tuple[tuple[int, int, tuple[slice, slice], tuple[slice, slice]], ...]


def pair(value: Any, name: str, op: str, minimum: int | None = 0) -> tuple[int, int]:
    """``3`` -> ``(3, 3)``; ``(2, 3)`` stays; anything else, or a value below ``minimum``, is an ArgumentError.

    ``minimum`` is 1 for kernel sizes, strides and dilations and 0 for paddings, so that a zero stride or a
    negative padding is reported here, naming the op and the argument, rather than failing later inside NumPy
    (None: the caller checks the values itself).
    """
    if hasattr(value, "tolist") and not isinstance(value, (list, tuple)):  # a Tensor or an array
        value = value.tolist()
    if isinstance(value, (list, tuple)):
        if len(value) == 1:
            value = (value[0], value[0])
        if len(value) != 2:
            raise ArgumentError(f"{op}: {name} must be an int or a pair of ints, got {value!r}")
        items = tuple(value)
    else:
        items = (value, value)
    try:
        result = tuple(int(v) for v in items)
    except (TypeError, ValueError):
        raise ArgumentError(f"{op}: {name} must be an int or a pair of ints, got {value!r}") from None
    if any(isinstance(v, bool) or r != v for r, v in zip(result, items, strict=True)):
        raise ArgumentError(f"{op}: {name} must be an int or a pair of ints, got {value!r}")
    if minimum is not None and min(result) < minimum:
        what = "positive" if minimum == 1 else f"at least {minimum}"
        raise ArgumentError(f"{op}: {name} must be {what}, got {value!r}")
    return result  # type: ignore[return-value]


def output_size(
    size: int, kernel: int, stride: int, padding: int, dilation: int, ceil_mode: bool = False
) -> int:
    """The number of window positions along one axis, with PyTorch's ceil_mode rule.

    With ``ceil_mode`` a last, partial window is kept only when it starts inside the input or its left padding
    (a window lying entirely in the right padding is dropped), exactly as ``torch.nn.functional.max_pool2d``.
    """
    span = size + 2 * padding - dilation * (kernel - 1) - 1
    if span < 0:
        return 0
    if ceil_mode:
        out = -(-span // stride) + 1
        if (out - 1) * stride >= size + padding:
            out -= 1
        return out
    return span // stride + 1


@contextmanager
def named_errors(layer: Any) -> Iterator[None]:
    """Prefix a window op's ShapeError or ArgumentError with the layer's repr: a module delegates its checks to
    the functional it calls, and the message still names the layer."""
    try:
        yield
    except (ShapeError, ArgumentError) as exc:
        raise type(exc)(f"{layer!r}: {exc}") from None


def default_stride(stride: Any, kernel_size: Any) -> Any:
    """PyTorch's pooling default: the stride is the kernel size when it is None (or an empty list)."""
    if stride is None or (isinstance(stride, (list, tuple)) and len(stride) == 0):
        return kernel_size
    return stride


class Geometry(NamedTuple):
    """The windows of a 2-D window op: kernel, stride, padding, dilation, the image and the grid of windows."""

    kh: int
    kw: int
    sh: int
    sw: int
    ph: int
    pw: int
    dh: int
    dw: int
    h: int
    w: int
    grid_h: int
    grid_w: int
    transposed: bool = False

    @classmethod
    def make(
        cls,
        op: str,
        hw: tuple[int, int],
        kernel: Any,
        stride: Any = None,
        padding: Any = 0,
        dilation: Any = 1,
        ceil_mode: bool = False,
        transposed: bool = False,
        *,
        output_padding: Any = 0,
        input: str = "",  # noqa: A002 - the input's description (``describe(x)``) for the error messages
    ) -> Geometry:
        """Parse and check a window op's arguments; ``hw`` is the op's input size (H, W).

        ``stride=None`` is the kernel size (pooling's default).  An ``op`` named like a pooling follows pooling's
        rule too: the padding is at most half the kernel.  For an ordinary window op the padded input must
        hold at least one (dilated) kernel; for a transposed convolution (``transposed=True``) ``hw`` is the
        grid and the image is (H - 1)*stride - 2*padding + dilation*(k - 1) + output_padding + 1, where
        ``output_padding`` must be smaller than the stride or the dilation.
        """
        kh, kw = pair(kernel, "kernel_size", op, 1)
        sh, sw = pair(default_stride(stride, kernel), "stride", op, 1)
        ph, pw = pair(padding, "padding", op, 0)
        dh, dw = pair(dilation, "dilation", op, 1)
        h, w = (int(s) for s in hw)
        of = f" (input {input})" if input else ""
        if transposed:
            oph, opw = pair(output_padding, "output_padding", op, 0)
            if not (oph < sh or oph < dh) or not (opw < sw or opw < dw):
                raise ArgumentError(
                    f"{op}: output_padding {(oph, opw)} must be smaller than either the stride {(sh, sw)} or "
                    f"the dilation {(dh, dw)}"
                )
            image_h = (h - 1) * sh - 2 * ph + dh * (kh - 1) + oph + 1
            image_w = (w - 1) * sw - 2 * pw + dw * (kw - 1) + opw + 1
            if image_h <= 0 or image_w <= 0:
                raise ShapeError(
                    f"{op}: an input of {h}x{w} with kernel {kh}x{kw}, stride {(sh, sw)}, padding {(ph, pw)} and "
                    f"dilation {(dh, dw)} gives an empty output ({image_h}x{image_w}){of}"
                )
            return cls(kh, kw, sh, sw, ph, pw, dh, dw, image_h, image_w, h, w, True)
        pooling = "pool" in op.lower()
        if pooling and (ph > kh // 2 or pw > kw // 2):  # PyTorch's rule (on the undilated kernel)
            raise ArgumentError(f"{op}: padding {(ph, pw)} must be at most half of the kernel size {(kh, kw)}")
        grid_h = output_size(h, kh, sh, ph, dh, ceil_mode)
        grid_w = output_size(w, kw, sw, pw, dw, ceil_mode)
        if grid_h <= 0 or grid_w <= 0:
            window = "window" if pooling else "kernel"
            spans = [(dh * (kh - 1) + 1, h + 2 * ph, "vertically"), (dw * (kw - 1) + 1, w + 2 * pw, "horizontally")]
            span, size, direction = next(axis for axis in spans if axis[0] > axis[1])
            raise ShapeError(
                f"{op}: the {window} ({kh}x{kw}, dilation {dh}x{dw}) is larger than the padded input "
                f"({h + 2 * ph}x{w + 2 * pw} = {h}x{w} plus padding {ph}x{pw}): the (dilated) {window} spans {span} "
                f"pixels {direction} but the padded input has only {size}{of}"
            )
        return cls(kh, kw, sh, sw, ph, pw, dh, dw, h, w, grid_h, grid_w)

    @property
    def in_hw(self) -> tuple[int, int]:
        """The op's input size: the image, or the grid for a transposed convolution."""
        return (self.grid_h, self.grid_w) if self.transposed else (self.h, self.w)

    @property
    def out_hw(self) -> tuple[int, int]:
        """The op's output size: the grid, or the image for a transposed convolution."""
        return (self.h, self.w) if self.transposed else (self.grid_h, self.grid_w)

    def taps(self) -> Taps:
        """For each kernel tap (i, j): the window positions that put that tap inside the image, and the strided
        image slice those positions read.

        Positions outside read the zero padding: nothing is read there, so no padded copy is ever made.
        """
        return _taps(self)


@functools.lru_cache(maxsize=256)
def _taps(g: Geometry) -> Taps:
    """``Geometry.taps``, cached: every chunk of every call with the same geometry reuses the slices."""
    rows = [_tap_range(i * g.dh, g.ph, g.sh, g.h, g.grid_h) for i in range(g.kh)]
    columns = [_tap_range(j * g.dw, g.pw, g.sw, g.w, g.grid_w) for j in range(g.kw)]
    return tuple(
        (i, j, (r[0], c[0]), (r[1], c[1])) for i, r in enumerate(rows) for j, c in enumerate(columns)
    )


def _tap_range(offset: int, padding: int, stride: int, size: int, out: int) -> tuple[slice, slice]:
    """Window positions o with 0 <= o*stride - padding + offset < size, and the image slice they read."""
    lo = min(out, max(0, -(-(padding - offset) // stride)))
    hi = max(lo, min(out, (size - 1 + padding - offset) // stride + 1))
    start = lo * stride - padding + offset
    return slice(lo, hi), slice(start, start + (hi - lo - 1) * stride + 1 if hi > lo else start, stride)
