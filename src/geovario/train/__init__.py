"""Training GeoCLIP-style models on cached backbone features.

The config is imported with the package; the loop (torch, DDP, the losses) on first use.
"""

from geovario.lazy import lazy_attributes
from geovario.train.config import TrainConfig

__getattr__ = lazy_attributes(__name__, {"read_run_config": "runfiles", "train": "loop",
                                         "write_run_config": "runfiles"})

__all__ = ["TrainConfig", "read_run_config", "train", "write_run_config"]
