"""geovario: worldwide image geolocalization with semivariogram-guided contrastive learning.

``from geovario import Predictor`` locates photos with a run or the published GeoCLIP
(``Predictor("geoclip").predict("photo.jpg", top_k=5)``). It is imported on first use,
so ``import geovario`` and the command line start without torch.
"""

from geovario.lazy import lazy_attributes

__version__ = "0.1.0"

__getattr__ = lazy_attributes(__name__, {"Predictor": "inference.predictor",
                                         "Guess": "inference.images"})

__all__ = ["Guess", "Predictor", "__version__"]
