"""Great-circle distances on a sphere of radius 6371 km (OSV-5M's convention).

All public functions take degrees. Elementwise distances use the haversine
formula; pairwise distances go through unit vectors on the sphere, where the
chord c = ‖u_i − u_j‖ gives the same great-circle distance, 2R·asin(c/2), with
no cancellation at short range and no trigonometry per pair.

The torch twins import torch when called, so that numpy-only users (the ``metrics`` and
``store`` commands) start without it.
"""

from collections.abc import Iterator
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import torch

EARTH_RADIUS_KM = 6371.0


def haversine_km(lat1, lon1, lat2, lon2) -> np.ndarray:
    """Haversine distance in km between points given in degrees (numpy, broadcasting).

    d = 2R·asin(√(sin²(Δφ/2) + cos φ₁ cos φ₂ sin²(Δλ/2))), R = 6371 km.
    """
    phi1, lam1, phi2, lam2 = (np.radians(np.asarray(x, dtype=np.float64))
                              for x in (lat1, lon1, lat2, lon2))
    a = (np.sin((phi2 - phi1) / 2) ** 2
         + np.cos(phi1) * np.cos(phi2) * np.sin((lam2 - lam1) / 2) ** 2)
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))


def haversine_km_torch(lat1: "torch.Tensor", lon1: "torch.Tensor",
                       lat2: "torch.Tensor", lon2: "torch.Tensor") -> "torch.Tensor":
    """Haversine distance in km between points in degrees (torch, broadcasting, differentiable)."""
    import torch

    phi1, lam1, phi2, lam2 = (torch.deg2rad(x) for x in (lat1, lon1, lat2, lon2))
    a = (torch.sin((phi2 - phi1) / 2) ** 2
         + torch.cos(phi1) * torch.cos(phi2) * torch.sin((lam2 - lam1) / 2) ** 2)
    return 2 * EARTH_RADIUS_KM * torch.asin(torch.sqrt(a.clamp(0.0, 1.0)))


def unit_vectors(coords_deg) -> np.ndarray:
    """(N, 2) latitude/longitude in degrees → (N, 3) unit vectors on the sphere (float64)."""
    coords = np.radians(np.asarray(coords_deg, dtype=np.float64).reshape(-1, 2))
    lat, lon = coords[:, 0], coords[:, 1]
    return np.stack([np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)], axis=1)


def unit_vectors_torch(coords_deg: "torch.Tensor") -> "torch.Tensor":
    """Torch twin of :func:`unit_vectors`; keeps the input's dtype and device."""
    import torch

    lat, lon = torch.deg2rad(coords_deg[..., 0]), torch.deg2rad(coords_deg[..., 1])
    return torch.stack([torch.cos(lat) * torch.cos(lon), torch.cos(lat) * torch.sin(lon),
                        torch.sin(lat)], dim=-1)


def chord_to_km(chord: "torch.Tensor", dtype: "torch.dtype | None" = None) -> "torch.Tensor":
    """Chord length between unit vectors → great-circle km, 2R·atan2(c/2, √(1 − c²/4)).

    The complement is formed in the chord's dtype and the angle in ``dtype`` (default the
    same), so float64 chords give float32 distances with float32's relative precision at
    every distance, antipodes included (asin(c/2) loses it near c = 2).
    """
    import torch

    half = chord * 0.5
    cosine = (1.0 - half * half).clamp(min=0.0).sqrt()
    dtype = dtype or chord.dtype
    return torch.atan2(half.to(dtype), cosine.to(dtype)) * (2 * EARTH_RADIUS_KM)


def km_to_chord(distance_km):
    """Great-circle km → chord between unit vectors, 2·sin(d / 2R), capped at 2 (numpy)."""
    return 2.0 * np.sin(np.minimum(distance_km, np.pi * EARTH_RADIUS_KM) / (2 * EARTH_RADIUS_KM))


def pairwise_unit_km(u_a: "torch.Tensor", u_b: "torch.Tensor") -> "torch.Tensor":
    """Great-circle km between every row of two unit-vector blocks, (A, 3) × (B, 3) → (A, B).

    Coordinate differences are taken per component (not through a dot product),
    so float64 stays exact to well under a metre at every distance.
    """
    diff = u_a[:, None, :] - u_b[None, :, :]
    return chord_to_km(diff.square().sum(dim=-1).sqrt())


def pairwise_km(coords_a, coords_b) -> np.ndarray:
    """Full (A, B) distance matrix in km; for large inputs use :func:`iter_pairwise_km`."""
    return np.concatenate([block for _, block in iter_pairwise_km(coords_a, coords_b)], axis=0)


def iter_pairwise_km(coords_a, coords_b,
                     chunk_rows: int = 1024) -> Iterator[tuple[int, np.ndarray]]:
    """Yield (first_row, block): distances of A's rows [first_row, first_row + chunk) to all of B.

    Memory stays O(chunk_rows · B) however large A is.
    """
    import torch

    u_b = torch.from_numpy(unit_vectors(coords_b))
    u_a = unit_vectors(coords_a)
    for start in range(0, len(u_a), chunk_rows):
        block = torch.from_numpy(u_a[start:start + chunk_rows])
        yield start, pairwise_unit_km(block, u_b).numpy()
