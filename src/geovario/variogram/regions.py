"""Regions of a region-wise variogram: clusters of training places on the sphere.

Regions are found by spherical k-means on the places' unit vectors (Lloyd's algorithm
from ``RESTARTS`` k-means++ seedings, the tightest kept; a centroid is the normalised mean
of its members), and a place
belongs to the region of its nearest centroid (largest cosine). That one rule makes the
partition that the local variograms are fitted on the same one the loss reads at every
step, from nothing but an anchor's coordinates: no boundary file, no lookup table.

Why clusters and not continents: clusters follow where the training places are, so every
region has places (and pairs) by construction, while a continent partition leaves some
regions nearly empty on any real sample (Antarctica, Oceania, the oceans of a satellite
benchmark) and splits dense areas only along lines drawn for other reasons. A cluster
with fewer than ``min_points`` places is merged into its neighbours: its centroid is
dropped and Lloyd's iterations go on from the rest, until every region is large enough
or one region (the global fit) is left.
"""

import numpy as np

from geovario.errors import GeovarioError
from geovario.geo.distance import unit_vectors

#: Lloyd iterations at most (they stop earlier once no place changes region).
MAX_ITERATIONS = 100
#: k-means++ seedings tried; the one with the smallest Σ (1 − cos) to the centroids wins.
RESTARTS = 10


def centroid_coords(units: np.ndarray) -> np.ndarray:
    """(K, 3) unit vectors → (K, 2) latitude/longitude in degrees."""
    units = np.asarray(units, dtype=np.float64)
    lat = np.degrees(np.arcsin(np.clip(units[:, 2], -1.0, 1.0)))
    lon = np.degrees(np.arctan2(units[:, 1], units[:, 0]))
    return np.stack([lat, lon], axis=1)


def nearest_region(coords_deg, centroids_deg):
    """Index of each place's nearest centroid (largest cosine), numpy or torch.

    ``coords_deg`` (N, 2) as a numpy array gives a numpy int64 array; as a torch tensor,
    a long tensor on its device (the unit vectors in float64 either way, so both agree).
    """
    centres = unit_vectors(centroids_deg)
    if isinstance(coords_deg, np.ndarray) or not hasattr(coords_deg, "device"):
        return np.argmax(unit_vectors(coords_deg) @ centres.T, axis=1)
    import torch

    from geovario.geo.distance import unit_vectors_torch

    units = unit_vectors_torch(coords_deg.detach().double())
    return torch.argmax(units @ torch.as_tensor(centres, device=units.device).T, dim=1)


def find_regions(coords_deg, regions: int, *, min_points: int, seed: int = 0) -> np.ndarray:
    """Centroids (K, 2) in degrees of at most ``regions`` clusters of ``min_points``+ places.

    Sorted west to east by longitude, so region numbers read like a map.

    Raises:
        GeovarioError: "variogram: ..." for fewer than one region or min_points < 1.
    """
    if regions < 1:
        raise GeovarioError(f"variogram: regions must be at least 1, got {regions}")
    if min_points < 1:
        raise GeovarioError(f"variogram: min_points must be at least 1, got {min_points}")
    units = unit_vectors(coords_deg)
    rng = np.random.default_rng(seed)
    centres = min((_lloyd(units, _seed_centres(units, regions, rng)) for _ in range(RESTARTS)),
                  key=lambda c: _spread(units, c))
    while len(centres) > 1:
        counts = np.bincount(_assign(units, centres), minlength=len(centres))
        if counts.min() >= min_points:
            break
        centres = _lloyd(units, np.delete(centres, int(np.argmin(counts)), axis=0))
    coords = centroid_coords(centres)
    return coords[np.argsort(coords[:, 1], kind="stable")]


def _assign(units: np.ndarray, centres: np.ndarray) -> np.ndarray:
    return np.argmax(units @ centres.T, axis=1)


def _spread(units: np.ndarray, centres: np.ndarray) -> float:
    """Σ (1 − cos) of each place to its nearest centroid: what k-means minimises."""
    return float((1.0 - (units @ centres.T).max(axis=1)).sum())


def _seed_centres(units: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """k-means++ (Arthur & Vassilvitskii 2007): each next centre drawn ∝ squared chord."""
    centres = [units[rng.integers(len(units))]]
    closest = ((units - centres[0]) ** 2).sum(axis=1)
    while len(centres) < k and closest.sum() > 0:
        pick = rng.choice(len(units), p=closest / closest.sum())
        centres.append(units[pick])
        closest = np.minimum(closest, ((units - units[pick]) ** 2).sum(axis=1))
    return np.array(centres)


def _lloyd(units: np.ndarray, centres: np.ndarray) -> np.ndarray:
    """Lloyd's iterations on the sphere until no place changes region; empty ones dropped."""
    labels = None
    for _ in range(MAX_ITERATIONS):
        new = _assign(units, centres)
        if labels is not None and np.array_equal(new, labels):
            break
        labels = new
        sums = np.stack([np.bincount(labels, units[:, c], minlength=len(centres))
                         for c in range(3)], axis=1)
        norms = np.linalg.norm(sums, axis=1)
        keep = norms > 1e-12
        centres = sums[keep] / norms[keep, None]
    return centres
