"""``linear``: the fully connected layer ``x @ weight.T + bias`` (weight is (out_features, in_features))."""

from __future__ import annotations

from tapegrad.autograd import Tensor
from tapegrad.autograd.errors import DTypeError, ShapeError, describe
from tapegrad.autograd.opspec import OpSpec


def linear(x: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """Like ``torch.nn.functional.linear``: any number of leading batch dimensions.

    Built from the autograd primitives (transpose, matmul, add) so that every visualisation rule and
    second-order gradient that works for them works here too.
    """
    if weight.ndim != 2:
        raise ShapeError(f"linear: weight must be 2-D (out_features, in_features), got {describe(weight)}")
    if x.ndim == 0 or x.shape[-1] != weight.shape[1]:
        raise ShapeError(
            f"linear: input {describe(x)} must have {weight.shape[1]} features in its last dimension "
            f"to match weight {describe(weight)}"
        )
    if bias is not None and bias.shape != (weight.shape[0],):
        raise ShapeError(f"linear: bias must have shape ({weight.shape[0]},), got {describe(bias)}")
    # PyTorch raises here ("mat1 and mat2 must have the same dtype"), and so does conv2d: promoting silently
    # would turn a float32 model float64 (twice the memory and time) or accept integer pixels unnormalised
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and t.dtype != x.dtype:
            raise DTypeError(f"linear: input {describe(x)} and {name} {describe(t)} must have the same dtype")
    out = x @ weight.transpose()
    return out if bias is None else out + bias


# How the op is checked (tapegrad.testing turns this into tests and the coverage table).
SPECS = (OpSpec("linear", lambda x, w, b: linear(x, w, b), "torch.nn.functional.linear", inputs="linear"),)
