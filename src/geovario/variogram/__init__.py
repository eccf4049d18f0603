"""The semivariogram engine: empirical estimate → model fit → JSON → γ(h) in torch.

>>> emp = empirical_variogram(coords_deg, features, bins=15, max_km=5000)
>>> fitted = fit_variogram(emp, model="auto")
>>> fitted.save("variogram.json"); fitted.gamma(torch.tensor([10.0, 500.0]))
"""

from geovario.variogram.empirical import EmpiricalVariogram, empirical_variogram, make_bin_edges
from geovario.variogram.fit import AUTO_MODELS, ModelFit, fit_model, fit_variogram
from geovario.variogram.fitted import FittedVariogram
from geovario.variogram.models import MODELS, VariogramModel, get_model, register_model

__all__ = [
    "AUTO_MODELS",
    "MODELS",
    "EmpiricalVariogram",
    "FittedVariogram",
    "ModelFit",
    "VariogramModel",
    "empirical_variogram",
    "fit_model",
    "fit_variogram",
    "get_model",
    "make_bin_edges",
    "register_model",
]
