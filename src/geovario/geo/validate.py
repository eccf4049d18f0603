"""Coordinate validation with errors that name the offending rows."""

import numpy as np

from geovario.errors import GeovarioError


def validate_coords(coords_deg, *, source: str = "coordinates", ids=None,
                    max_listed: int = 5) -> np.ndarray:
    """Return coords as an (N, 2) float64 array of (latitude, longitude) in degrees.

    Raises:
        GeovarioError: "<source>: N invalid coordinates (NaN, |lat| > 90 or |lon| > 180)
            at rows ..." naming the first rows (or ids) that are NaN or out of range,
            or a shape that is not (N, 2).
    """
    coords = np.asarray(coords_deg, dtype=np.float64)
    if coords.ndim != 2 or coords.shape[1] != 2:
        raise GeovarioError(f"{source}: expected (N, 2) latitude/longitude, got shape "
                            f"{coords.shape}")
    lat, lon = coords[:, 0], coords[:, 1]
    with np.errstate(invalid="ignore"):
        bad = ~np.isfinite(coords).all(axis=1) | (np.abs(lat) > 90) | (np.abs(lon) > 180)
    if bad.any():
        rows = np.flatnonzero(bad)
        names = [str(ids[i]) for i in rows[:max_listed]] if ids is not None else rows[:max_listed]
        label = "ids" if ids is not None else "rows"
        listed = ", ".join(f"{name} ({float(lat[i])!r}, {float(lon[i])!r})"
                           for name, i in zip(names, rows, strict=False))
        more = ", ..." if len(rows) > max_listed else ""
        raise GeovarioError(f"{source}: {len(rows)} invalid coordinates (NaN, |lat| > 90 or "
                            f"|lon| > 180) at {label} {listed}{more}")
    return coords
