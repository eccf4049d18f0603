"""Inference with a run: the gallery, the predictor, photos and evaluation.

It reads a run (a folder, a Hub run or the built-in ``geoclip``) through
:mod:`geovario.inference.runs`; nothing here imports the training code.
"""

from geovario.inference.evaluate import evaluate
from geovario.inference.images import Guess
from geovario.inference.predictor import Prediction, Predictor

__all__ = ["Guess", "Prediction", "Predictor", "evaluate"]
