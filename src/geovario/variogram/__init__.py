"""The semivariogram engine: empirical estimate → model fit → JSON → γ(h) in torch.

>>> edges = standard_bins(coords_deg)  # log bins from 1 km to the widest pair
>>> emp = empirical_variogram(coords_deg, features, edges)
>>> fitted = fit_variogram(emp)  # model="auto": single and nested models, balanced weights
>>> fitted.save("variogram.json"); fitted.gamma(torch.tensor([10.0, 500.0]))
"""

from geovario.variogram.bins import default_bin_edges, make_bin_edges, standard_bins
from geovario.variogram.blending import blend
from geovario.variogram.empirical import EmpiricalVariogram, empirical_variogram
from geovario.variogram.fit import WEIGHTINGS, ModelFit, auto_families, fit_model, fit_variogram
from geovario.variogram.fitted import FitRecord, FittedVariogram
from geovario.variogram.models import (
    FAMILIES,
    NestedModel,
    VariogramModel,
    get_model,
    register_model,
    register_nested,
)
from geovario.variogram.structures import Structure

__all__ = [
    "FAMILIES",
    "WEIGHTINGS",
    "EmpiricalVariogram",
    "FitRecord",
    "FittedVariogram",
    "ModelFit",
    "NestedModel",
    "Structure",
    "VariogramModel",
    "auto_families",
    "blend",
    "default_bin_edges",
    "empirical_variogram",
    "fit_model",
    "fit_variogram",
    "get_model",
    "make_bin_edges",
    "register_model",
    "register_nested",
    "standard_bins",
]
