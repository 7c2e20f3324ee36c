"""tapegrad.autograd: a tape-based reverse-mode autodiff ``Tensor`` on NumPy (CPU) or CuPy (GPU).

>>> from tapegrad.autograd import Tensor
>>> x = Tensor([1.0, 2.0, 3.0], requires_grad=True)
>>> (x * x).sum().backward()
>>> x.grad
tensor([2., 4., 6.])
"""

from . import ops
from .backend import array_module, get_default_device, gpu_available, set_default_device
from .engine import backward, grad
from .errors import DeviceError, DTypeError, GraphError, ShapeError, TapegradError
from .function import Context, Function
from .grad_mode import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from .gradcheck import GradcheckError, gradcheck, gradgradcheck
from .ops import *  # noqa: F403 - the primitives are the package's public functions
from .random import manual_seed
from .tensor import Tensor, tensor

__all__ = [
    "Context", "DTypeError", "DeviceError", "Function", "GradcheckError", "GraphError", "ShapeError",
    "TapegradError", "Tensor", "array_module", "backward", "enable_grad", "get_default_device", "gpu_available",
    "grad", "gradcheck", "gradgradcheck", "is_grad_enabled", "manual_seed", "no_grad", "ops", "set_default_device",
    "set_grad_enabled", "tensor",
    *ops.__all__,
]
