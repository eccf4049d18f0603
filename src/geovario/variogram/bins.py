"""Bin layouts of the empirical semivariogram, in km.

The default layout (:func:`default_bin_edges`) is built to see the first kilometres:
one bin [0, min_km) for near-coincident places, then ``per_decade`` log-spaced bins per
decade from min_km (1 km) up to the largest pair distance of the points. On a worldwide
sample that is 1 + 22 bins whose first lags sit at about 0.5, 1.3, 2 and 3 km, where
20 linear bins up to half the largest distance start at about 250 km and leave
γ(1 km)…γ(200 km) to extrapolation. Bins that end up with too few pairs are dropped
by the fit (``min_pairs``), so a layout may safely start below the data's closest pairs.

:func:`make_bin_edges` keeps the classical layouts (linear, or log from max_km / 1000)
for callers that ask for a number of bins. :func:`standard_bins` chooses between the two
from the points, as GSTools' ``standard_bins`` does for its ``vario_estimate``: callers
compute the edges once and hand them to
:func:`~geovario.variogram.empirical.empirical_variogram`.
"""

import math

import numpy as np

from geovario.errors import GeovarioError
from geovario.geo.distance import EARTH_RADIUS_KM, chord_to_km, unit_vectors
from geovario.geo.validate import validate_coords
from geovario.variogram.pair_ops import exact_chords

HALF_EARTH_KM = math.pi * EARTH_RADIUS_KM
#: Upper edge of the default layout's first bin [0, min_km), km.
DEFAULT_MIN_KM = 1.0
#: Log-spaced bins per decade of distance in the default layout.
DEFAULT_PER_DECADE = 5
#: The default layout spans at least this many decades, lowering min_km if needed.
MIN_DECADES = 2


def make_bin_edges(max_km: float, bins: int, *, log_bins: bool = False,
                   min_km: float | None = None) -> np.ndarray:
    """Bin edges in km: ``bins`` linear bins over [0, max_km], or log-spaced ones.

    With ``log_bins`` a first bin [0, min_km) is followed by log-spaced bins up to max_km
    (min_km defaults to max_km / 1000).

    Raises:
        GeovarioError: "variogram: ..." for a non-positive max_km, fewer than one bin, or
            min_km not in (0, max_km).
    """
    if not max_km > 0:
        raise GeovarioError(f"variogram: max_km must be positive, got {max_km}")
    if bins < 1:
        raise GeovarioError(f"variogram: bins must be at least 1, got {bins}")
    if not log_bins:
        return np.linspace(0.0, max_km, bins + 1)
    min_km = max_km / 1000 if min_km is None else min_km
    if not 0 < min_km < max_km:
        raise GeovarioError(f"variogram: min_km must lie in (0, max_km={max_km}), got {min_km}")
    return np.concatenate([[0.0], np.geomspace(min_km, max_km, bins)])


def largest_distance_km(coords_deg: np.ndarray, seed: int = 0, sample: int = 2000) -> float:
    """The largest great-circle distance among a random sample of the points (all if fewer)."""
    coords = np.asarray(coords_deg, dtype=np.float64).reshape(-1, 2)
    rng = np.random.default_rng(seed)
    take = rng.choice(len(coords), size=min(sample, len(coords)), replace=False)
    u = unit_vectors(coords[take])
    return float(chord_to_km(max(exact_chords(u[k:k + 512], u).max()
                                    for k in range(0, len(u), 512))))


def default_max_km(coords_deg: np.ndarray, seed: int = 0, sample: int = 2000) -> float:
    """Half the largest distance among a random sample of the points (the classical rule)."""
    return largest_distance_km(coords_deg, seed, sample) / 2


def log_bin_edges(min_km: float, max_km: float,
                  per_decade: int = DEFAULT_PER_DECADE) -> np.ndarray:
    """[0, min_km) then ⌈per_decade · log10(max_km / min_km)⌉ equal log steps up to max_km.

    Raises:
        GeovarioError: "variogram: ..." for per_decade < 1 or min_km not in (0, max_km).
    """
    if per_decade < 1:
        raise GeovarioError(f"variogram: per_decade must be at least 1, got {per_decade}")
    if not 0 < min_km < max_km:
        raise GeovarioError(f"variogram: min_km must lie in (0, max_km={max_km}), got {min_km}")
    steps = max(1, math.ceil(per_decade * math.log10(max_km / min_km) - 1e-9))
    return np.concatenate([[0.0], np.geomspace(min_km, max_km, steps + 1)])


def default_bin_edges(coords_deg: np.ndarray, *, min_km: float = DEFAULT_MIN_KM,
                      max_km: float | None = None, per_decade: int = DEFAULT_PER_DECADE,
                      seed: int = 0, sample: int = 2000) -> np.ndarray:
    """The default layout: [0, min_km), then log-spaced bins from min_km up to max_km.

    Args:
        coords_deg: (N, 2) latitude/longitude of the points, degrees.
        min_km: upper edge of the first bin; lowered to max_km / 100 when the points span
            less than two decades above it (a city-sized sample still gets log bins).
        max_km: the last edge; default the largest pair distance among ``sample`` random
            points (at most πR, half the Earth's circumference).
        per_decade: log-spaced bins per decade (5: edges 1, 1.58, 2.51, 3.98, 6.31, 10 km…).
        seed, sample: the random sample that sets max_km.

    Raises:
        GeovarioError: "variogram: ..." for a non-positive max_km or min_km, or per_decade < 1.
    """
    if max_km is None:
        max_km = min(largest_distance_km(coords_deg, seed, sample), HALF_EARTH_KM)
    if not max_km > 0:
        raise GeovarioError(f"variogram: max_km must be positive, got {max_km} (are all points "
                            "at one place?)")
    if not min_km > 0:
        raise GeovarioError(f"variogram: min_km must be positive, got {min_km}")
    min_km = min(min_km, max_km / 10**MIN_DECADES)
    return log_bin_edges(min_km, max_km, per_decade)


def is_log_layout(edges_km) -> bool:
    """Whether edges look like [0, e1, …] with e_{k+1}/e_k constant (log bins), 3+ ratios."""
    edges = np.asarray(edges_km, dtype=np.float64)
    positive = edges[edges > 0]
    if len(positive) < 4:
        return False
    ratios = np.diff(np.log(positive))
    return bool(ratios[0] > 0 and np.allclose(ratios, ratios[0], rtol=1e-6))


def standard_bins(coords_deg, *, bins: int | None = None, max_km: float | None = None,
                  log_bins: bool = False, min_km: float = DEFAULT_MIN_KM,
                  per_decade: int = DEFAULT_PER_DECADE, seed: int = 0,
                  sample: int = 2000) -> np.ndarray:
    """The bin edges (km) of the points' empirical semivariogram.

    By default (no ``bins``, no ``log_bins``) :func:`default_bin_edges`: [0, min_km) then
    ``per_decade`` log-spaced bins per decade up to max_km (default the largest distance
    in a ``sample``-point random sample). Given ``bins`` (or ``log_bins``), the classical
    :func:`make_bin_edges`: ``bins`` (default 15) linear or log-spaced bins up to max_km
    (default half the largest distance in that sample); min_km and per_decade are then
    unused.

    Raises:
        GeovarioError: "variogram: coordinates: ..." for invalid coordinates, and those of
            :func:`default_bin_edges` and :func:`make_bin_edges`.
    """
    coords = validate_coords(coords_deg, source="variogram: coordinates")
    if bins is None and not log_bins:
        return default_bin_edges(coords, min_km=min_km, max_km=max_km, per_decade=per_decade,
                                 seed=seed, sample=sample)
    return make_bin_edges(max_km or default_max_km(coords, seed, sample), bins or 15,
                          log_bins=log_bins)
