"""``tapegrad.experiment``: the reference experiment (train a small CNN, then look inside it), used by the
CLI.
"""

from .config import TrainConfig
from .datasets import Data, load_data
from .model import ReferenceCNN, build_model
from .state import load_checkpoint, model_from_checkpoint
from .training import RunResult, evaluate, train

__all__ = ["Data", "ReferenceCNN", "RunResult", "TrainConfig", "build_model", "evaluate", "load_checkpoint",
           "load_data", "model_from_checkpoint", "train"]
