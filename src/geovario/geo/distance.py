"""Great-circle distances on a sphere of radius 6371 km (OSV-5M's convention).

All public functions take degrees. Elementwise distances use the haversine
formula; pairwise distances go through unit vectors on the sphere, where the
chord c = ‖u_i − u_j‖ gives the same great-circle distance, 2R·asin(c/2), with
no cancellation at short range and no trigonometry per pair.

Each function takes numpy arrays or torch tensors and works in the namespace of its
input (:func:`geovario.arrays.array_namespace`): numpy in float64, torch in the
tensor's dtype and on its device (differentiable). torch is imported only for torch
inputs and :func:`iter_pairwise_km`, so numpy-only users (the ``metrics`` and ``store``
commands) start without it.
"""

from collections.abc import Iterator

import numpy as np

from geovario.arrays import array_namespace, astype

EARTH_RADIUS_KM = 6371.0


def haversine_km(lat1, lon1, lat2, lon2):
    """Haversine distance in km between points given in degrees (broadcasting).

    d = 2R·asin(√(sin²(Δφ/2) + cos φ₁ cos φ₂ sin²(Δλ/2))), R = 6371 km.
    """
    xp = array_namespace(lat1, lon1, lat2, lon2)
    if xp is np:
        lat1, lon1, lat2, lon2 = (np.asarray(x, dtype=np.float64)
                                  for x in (lat1, lon1, lat2, lon2))
    phi1, lam1, phi2, lam2 = (xp.deg2rad(x) for x in (lat1, lon1, lat2, lon2))
    a = (xp.sin((phi2 - phi1) / 2) ** 2
         + xp.cos(phi1) * xp.cos(phi2) * xp.sin((lam2 - lam1) / 2) ** 2)
    return 2 * EARTH_RADIUS_KM * xp.arcsin(xp.sqrt(xp.clip(a, 0.0, 1.0)))


def unit_vectors(coords_deg):
    """(..., 2) latitude/longitude in degrees → (..., 3) unit vectors on the sphere.

    numpy input is read as (N, 2) float64.
    """
    xp = array_namespace(coords_deg)
    if xp is np:
        coords_deg = np.asarray(coords_deg, dtype=np.float64).reshape(-1, 2)
    lat, lon = xp.deg2rad(coords_deg[..., 0]), xp.deg2rad(coords_deg[..., 1])
    return xp.stack([xp.cos(lat) * xp.cos(lon), xp.cos(lat) * xp.sin(lon), xp.sin(lat)],
                    axis=-1)


def chord_to_km(chord, dtype=None):
    """Chord length between unit vectors → great-circle km, 2R·atan2(c/2, √(1 − c²/4)).

    The complement is formed in the chord's dtype and the angle in ``dtype`` (default the
    same; a name, numpy or torch dtype), so float64 chords give float32 distances with
    float32's relative precision at every distance, antipodes included (asin(c/2) loses
    it near c = 2).
    """
    xp = array_namespace(chord)
    half = xp.asarray(chord) * 0.5
    cosine = xp.sqrt(xp.clip(1.0 - half * half, 0.0, None))
    if dtype is not None:
        half, cosine = astype(half, dtype), astype(cosine, dtype)
    return xp.arctan2(half, cosine) * (2 * EARTH_RADIUS_KM)


def km_to_chord(distance_km):
    """Great-circle km → chord between unit vectors, 2·sin(d / 2R), capped at 2."""
    xp = array_namespace(distance_km)
    capped = xp.clip(xp.asarray(distance_km), None, np.pi * EARTH_RADIUS_KM)
    return 2.0 * xp.sin(capped / (2 * EARTH_RADIUS_KM))


def pairwise_unit_km(u_a, u_b):
    """Great-circle km between every row of two unit-vector blocks, (A, 3) × (B, 3) → (A, B).

    Coordinate differences are taken per component (not through a dot product),
    so float64 stays exact to well under a metre at every distance.
    """
    xp = array_namespace(u_a, u_b)
    diff = u_a[:, None, :] - u_b[None, :, :]
    return chord_to_km(xp.sqrt((diff * diff).sum(-1)))


def pairwise_km(coords_a, coords_b) -> np.ndarray:
    """Full (A, B) distance matrix in km; for large inputs use :func:`iter_pairwise_km`."""
    return np.concatenate([block for _, block in iter_pairwise_km(coords_a, coords_b)], axis=0)


def iter_pairwise_km(coords_a, coords_b,
                     chunk_rows: int = 1024) -> Iterator[tuple[int, np.ndarray]]:
    """Yield (first_row, block): distances of A's rows [first_row, first_row + chunk) to all of B.

    Memory stays O(chunk_rows · B) however large A is; the blocks go through torch (its
    threads), the results come back as numpy.
    """
    import torch

    u_b = torch.from_numpy(unit_vectors(coords_b))
    u_a = unit_vectors(coords_a)
    for start in range(0, len(u_a), chunk_rows):
        block = torch.from_numpy(u_a[start:start + chunk_rows])
        yield start, pairwise_unit_km(block, u_b).numpy()


#: The former names of the torch twins, now the same functions (kept for one release).
haversine_km_torch = haversine_km
unit_vectors_torch = unit_vectors
