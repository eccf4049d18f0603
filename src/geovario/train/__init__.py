"""Training GeoCLIP-style models on cached backbone features."""

from geovario.train.config import TrainConfig
from geovario.train.loop import read_run_config, train, write_run_config

__all__ = ["TrainConfig", "read_run_config", "train", "write_run_config"]
