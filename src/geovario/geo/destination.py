"""The destination point: where a walk of d km along a great circle of given azimuth ends.

sin φ = sin φ0·cos δ + cos φ0·sin δ·cos az and
λ = λ0 + atan2(sin az·sin δ·cos φ0, cos δ − sin φ0·sin φ), with δ = d / R.
One formula for every user: GPS noise in training (torch, on the batch's device), town
jitter and patch pixels of the Blue Marble benchmark (numpy), each in the namespace of its
inputs (:func:`geovario.arrays.array_namespace`).
"""

import numpy as np

from geovario.arrays import array_namespace
from geovario.geo.distance import EARTH_RADIUS_KM


def plane_basis(east_km, north_km) -> list:
    """(cos δ, sin δ·cos az, sin δ·sin az) of offsets in the azimuthal equidistant plane.

    All that depends on the offset, so many centres can share one basis (patch pixels).
    """
    xp = array_namespace(east_km, north_km)
    angle = xp.hypot(east_km, north_km) / EARTH_RADIUS_KM
    azimuth = xp.arctan2(east_km, north_km)
    return [xp.cos(angle), xp.sin(angle) * xp.cos(azimuth), xp.sin(angle) * xp.sin(azimuth)]


def from_plane(lat, lon, basis) -> tuple:
    """Destinations (radians) of centres (lat, lon in radians) along a :func:`plane_basis`.

    Works in the inputs' dtype; longitudes are not wrapped.
    """
    xp = array_namespace(lat, lon)
    cos_d, north, east = basis
    sin_lat0, cos_lat0 = xp.sin(lat), xp.cos(lat)
    sin_lat = xp.clip(sin_lat0 * cos_d + cos_lat0 * north, -1.0, 1.0)
    return xp.arcsin(sin_lat), lon + xp.arctan2(east * cos_lat0, cos_d - sin_lat0 * sin_lat)


def offsets_to_latlon(lat_deg, lon_deg, east_km, north_km) -> tuple[np.ndarray, np.ndarray]:
    """Points at (east, north) km in the azimuthal equidistant plane of centres, in degrees.

    Inputs broadcast; float64; longitudes come back in [-180, 180).
    """
    basis = plane_basis(np.asarray(east_km, np.float64), np.asarray(north_km, np.float64))
    lat, lon = from_plane(np.radians(np.asarray(lat_deg, np.float64)),
                          np.radians(np.asarray(lon_deg, np.float64)), basis)
    return np.degrees(lat), (np.degrees(lon) + 180.0) % 360.0 - 180.0
