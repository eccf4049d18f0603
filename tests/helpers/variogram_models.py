"""Every single variogram model with its shapes, and its GSTools twin (conventions converted)."""

import math

import gstools as gs

from geovario.variogram.models import MATERN_X95, single_family_names

SHAPES = {"spherical": [None], "exponential": [None], "gaussian": [None],
          "stable": [0.3, 1.0, 1.7], "matern": [0.5, 1.5, 2.5]}
CASES = [(name, shape) for name in single_family_names() for shape in SHAPES[name]]



def gstools_equivalent(name, shape, r):
    """The GSTools model equal to ours with practical range r (conventions converted by hand)."""
    if name == "spherical":
        return gs.Spherical(dim=2, len_scale=r)
    if name == "exponential":
        return gs.Exponential(dim=2, len_scale=r / 3)
    if name == "gaussian":
        return gs.Gaussian(dim=2, len_scale=r * math.sqrt(math.pi / 12))
    if name == "stable":
        return gs.Stable(dim=2, alpha=shape, len_scale=r / 3 ** (1 / shape))
    # GSTools' Matérn uses s = √ν·h/ℓ; ours s = c_ν·h/r.
    return gs.Matern(dim=2, nu=shape, len_scale=math.sqrt(shape) * r / MATERN_X95[shape])

