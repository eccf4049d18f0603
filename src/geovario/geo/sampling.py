"""Points drawn uniformly on the sphere: the null model of "no geography"."""

import numpy as np


def uniform_sphere_points(n: int, seed: int | np.random.Generator = 0) -> np.ndarray:
    """(n, 2) latitude/longitude in degrees, uniform over the sphere's area.

    Latitude is arcsin of a uniform in [-1, 1] (equal area per latitude band), longitude
    uniform in [-180, 180).
    """
    rng = np.random.default_rng(seed)
    lat = np.degrees(np.arcsin(rng.uniform(-1, 1, n)))
    return np.stack([lat, rng.uniform(-180, 180, n)], axis=1)
