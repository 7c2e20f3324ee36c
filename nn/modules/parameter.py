"""``Parameter``: a Tensor that a Module registers as learnable (requires_grad=True by default)."""

from __future__ import annotations

from typing import Any

import numpy as np
from tapegrad.autograd import Tensor


class Parameter(Tensor):
    """A leaf Tensor holding a layer's weight; assigning one to a Module attribute registers it.

    An existing Tensor or array keeps its dtype and device (a float64 array stays float64).
    """

    def __init__(self, data: Any = None, requires_grad: bool = True) -> None:
        if data is None:
            data = np.empty((0,), dtype=np.float32)
        super().__init__(data.data if isinstance(data, Tensor) else data, requires_grad=requires_grad)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()

    def __reduce_ex__(self, protocol: Any) -> Any:
        # the data itself, not .numpy(): copy.deepcopy(model) must keep a GPU model on the GPU
        return (Parameter, (self.data, self.requires_grad))
