"""The kernel layer: the heavy array routines of nn and optim, each a NumPy reference and a compiled twin.

Every kernel is one :class:`Kernel` (see ``_dispatch``) that picks per call: the Numba version for float32/
float64 NumPy arrays when the kernel set is ``"compiled"`` (``TAPEGRAD_KERNELS``, default compiled when
Numba imports; :func:`set_kernels` at run time), else the NumPy version (always for CuPy arrays).  One
family per file; ``REGISTRY`` lists them all.  See docs/architecture.md, "The kernel layer".
"""

from __future__ import annotations

from ._compile import cache_dir
from ._dispatch import KERNEL_SETS, REGISTRY, Kernel, get_kernels, set_kernels
from ._geometry import taps
from .activation import relu_backward, relu_forward
from .avgpool import avg_pool, avg_unpool
from .batchnorm import batch_norm_backward, batch_norm_forward
from .conv_columns import phase_columns, wide_columns, wide_fold
from .conv_direct import conv3x3_forward, conv3x3_weight_grad
from .conv_wide import wide_output, widen
from .maxpool import max_pool, max_pool_gather, max_pool_scatter, max_unpool
from .optim import adam_step, sgd_step
from .reduction import channel_sum
from .softmax import cross_entropy, log_softmax
from .unfold import col2im, im2col

__all__ = [
    "KERNEL_SETS", "REGISTRY", "Kernel", "adam_step", "avg_pool", "avg_unpool", "batch_norm_backward",
    "batch_norm_forward", "cache_dir", "channel_sum", "col2im", "conv3x3_forward", "conv3x3_weight_grad",
    "cross_entropy", "get_kernels", "im2col", "log_softmax", "max_pool", "max_pool_gather", "max_pool_scatter",
    "max_unpool", "phase_columns", "relu_backward", "relu_forward", "set_kernels", "sgd_step", "taps",
    "wide_columns", "wide_fold", "wide_output", "widen",
]
