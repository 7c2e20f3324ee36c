"""The primitive ops.  Each is a small ``Function`` with its forward and its vector-Jacobian product.

Nothing is listed here by hand: every op module declares its public names on the op itself (``Function.names``,
or ``@public`` for a composite), and importing the modules fills :data:`~tapegrad.autograd.function.PUBLIC`,
which becomes this package's namespace and ``__all__``, and the Tensor methods and operators.
"""

from ..function import PUBLIC, install_tensor_methods
from ..tensor import Tensor
from . import activation, arithmetic, compare, contract, creation, indexing, join, reduction, select, shape, unary  # noqa: F401
from .unary import ToDevice  # noqa: F401 - exported: Tensor.to uses it, users may too

globals().update(PUBLIC)
install_tensor_methods(Tensor)

__all__ = sorted(["ToDevice", *PUBLIC])
