"""``tapegrad.nn.functional`` (imported as ``F``): stateless layers on ``tapegrad.autograd`` primitives.

Names, argument order and defaults mirror ``torch.nn.functional``.
"""

from .activation import (  # noqa: F401
    elu,
    gelu,
    hardsigmoid,
    hardswish,
    leaky_relu,
    log_softmax,
    mish,
    relu,
    relu6,
    selu,
    sigmoid,
    silu,
    softmax,
    softsign,
    tanh,
)
from .conv import conv2d, conv_transpose2d  # noqa: F401
from .dropout import dropout  # noqa: F401
from .im2col import col2im, im2col  # noqa: F401
from .linear import linear  # noqa: F401
from .loss import cross_entropy, mse_loss, nll_loss  # noqa: F401
from .normalization import batch_norm  # noqa: F401
from .pooling import adaptive_avg_pool2d, avg_pool2d, max_pool2d, max_unpool2d  # noqa: F401
