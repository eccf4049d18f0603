"""Inference with a trained run: the gallery, the predictor, image files and evaluation.

It reads a run directory through :mod:`geovario.rundir` and the weights through
:mod:`geovario.checkpoint`; nothing here imports the training code.
"""

from geovario.inference.evaluate import evaluate
from geovario.inference.predictor import Prediction, Predictor

__all__ = ["Prediction", "Predictor", "evaluate"]
