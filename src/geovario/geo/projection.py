"""The Equal Earth projection (Šavrič, Patterson & Jenny 2018), as GeoCLIP uses it.

GeoCLIP feeds its location encoder x and y scaled by 66.50336 / 180, which maps the
globe into roughly [-1, 1] × [-0.5, 0.5].
"""

import math
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import torch

A1, A2, A3, A4 = 1.340264, -0.081106, 0.000893, 0.003796
SCALE = 66.50336 / 180.0
_SQRT3_HALF = math.sqrt(3.0) / 2.0


def _equal_earth(lat_rad, lon_rad, xp):
    theta = xp.arcsin(_SQRT3_HALF * xp.sin(lat_rad))
    t2 = theta * theta
    t6 = t2 * t2 * t2
    x = (2 * math.sqrt(3.0) * lon_rad * xp.cos(theta)
         / (3 * (9 * A4 * t6 * t2 + 7 * A3 * t6 + 3 * A2 * t2 + A1)))
    y = A4 * t6 * t2 * theta + A3 * t6 * theta + A2 * t2 * theta + A1 * theta
    return x * SCALE, y * SCALE


def equal_earth(coords_deg) -> np.ndarray:
    """(N, 2) latitude/longitude in degrees → (N, 2) scaled Equal Earth (x, y)."""
    coords = np.radians(np.asarray(coords_deg, dtype=np.float64).reshape(-1, 2))
    x, y = _equal_earth(coords[:, 0], coords[:, 1], np)
    return np.stack([x, y], axis=1)


def equal_earth_torch(coords_deg: "torch.Tensor") -> "torch.Tensor":
    """Torch twin of :func:`equal_earth`: (..., 2) degrees → (..., 2), same dtype and device.

    The operations follow GeoCLIP's own order in the input's dtype, so that its published
    location encoder, whose σ = 256 branch magnifies the smallest difference in the
    projection, sees the same numbers.
    """
    import torch

    lat, lon = torch.deg2rad(coords_deg[..., 0]), torch.deg2rad(coords_deg[..., 1])
    sqrt3 = torch.sqrt(torch.tensor(3.0, dtype=lat.dtype, device=lat.device))
    theta = torch.asin(sqrt3 / 2 * torch.sin(lat))
    denominator = 3 * (9 * A4 * theta**8 + 7 * A3 * theta**6 + 3 * A2 * theta**2 + A1)
    x = 2 * sqrt3 * lon * torch.cos(theta) / denominator
    y = A4 * theta**9 + A3 * theta**7 + A2 * theta**3 + A1 * theta
    return torch.stack([x, y], dim=-1) * 66.50336 / 180
