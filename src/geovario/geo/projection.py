"""The Equal Earth projection (Šavrič, Patterson & Jenny 2018), as GeoCLIP uses it.

GeoCLIP feeds its location encoder x and y scaled by 66.50336 / 180, which maps the
globe into roughly [-1, 1] × [-0.5, 0.5].
"""

import numpy as np

from geovario.arrays import array_namespace

A1, A2, A3, A4 = 1.340264, -0.081106, 0.000893, 0.003796
SCALE = 66.50336 / 180.0


def equal_earth(coords_deg):
    """(..., 2) latitude/longitude in degrees → (..., 2) scaled Equal Earth (x, y).

    numpy input is read as (N, 2) float64; a torch tensor keeps its dtype and device. The
    operations follow GeoCLIP's own order in the input's dtype, so that its published
    location encoder, whose σ = 256 branch magnifies the smallest difference in the
    projection, sees the same numbers.
    """
    xp = array_namespace(coords_deg)
    if xp is np:
        coords_deg = np.asarray(coords_deg, dtype=np.float64).reshape(-1, 2)
    lat, lon = xp.deg2rad(coords_deg[..., 0]), xp.deg2rad(coords_deg[..., 1])
    sqrt3 = xp.sqrt(xp.asarray(3.0, dtype=lat.dtype))
    theta = xp.arcsin(sqrt3 / 2 * xp.sin(lat))
    denominator = 3 * (9 * A4 * theta**8 + 7 * A3 * theta**6 + 3 * A2 * theta**2 + A1)
    x = 2 * sqrt3 * lon * xp.cos(theta) / denominator
    y = A4 * theta**9 + A3 * theta**7 + A2 * theta**3 + A1 * theta
    return xp.stack([x, y], axis=-1) * 66.50336 / 180


#: The former name of the torch twin, now the same function (kept for one release).
equal_earth_torch = equal_earth
