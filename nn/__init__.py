"""tapegrad.nn: layers, losses, modules, optimizers, data loading and checkpoints, on tapegrad.autograd."""

from tapegrad.autograd.runtime import get_num_threads, set_num_threads

from . import functional, init, optim, parallel
from . import functional as F  # noqa: N812 - PyTorch's customary alias
from .checkpoint import CheckpointError, load, save
from .modules import *  # noqa: F403 - the layers are the package's public names
from .modules import __all__ as _modules_all

__all__ = [
    "CheckpointError", "F", "functional", "get_num_threads", "init", "load", "optim", "parallel", "save",
    "set_num_threads", *_modules_all,
]
