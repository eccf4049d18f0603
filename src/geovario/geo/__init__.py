"""Geodesy: haversine distances, the Equal Earth projection, coordinate validation.

Every function takes numpy arrays or torch tensors and answers in the same kind
(:mod:`geovario.arrays`); the ``*_torch`` names are the former torch twins, now aliases.
"""

from geovario.geo.distance import (
    EARTH_RADIUS_KM,
    haversine_km,
    haversine_km_torch,
    iter_pairwise_km,
    pairwise_km,
    unit_vectors,
    unit_vectors_torch,
)
from geovario.geo.projection import equal_earth, equal_earth_torch
from geovario.geo.sampling import uniform_sphere_points
from geovario.geo.validate import validate_coords

__all__ = [
    "EARTH_RADIUS_KM",
    "equal_earth",
    "equal_earth_torch",
    "haversine_km",
    "haversine_km_torch",
    "iter_pairwise_km",
    "pairwise_km",
    "unit_vectors",
    "uniform_sphere_points",
    "unit_vectors_torch",
    "validate_coords",
]
