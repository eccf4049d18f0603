"""Simulated places and fields shared by the variogram tests.

Clustered places and a two-scale field (GSTools): places come in three levels, like
geotagged photos: "countries" uniform on the sphere, "cities" 10–316 km from their centre
and places 0.1–5 km from their city (log-uniform). The field is the sum of two exponential
fields (practical ranges 15 km and 1,500 km, variances 0.3 and 0.6) plus white noise of
variance 0.1: sill 1. Places uniform in a spherical cap and an exact exponential field on
them (Cholesky), for the region-wise tests.
"""

import math

import gstools as gs
import numpy as np

from geovario.geo.distance import EARTH_RADIUS_KM, unit_vectors

R = 6371.0


def destination(lat, lon, km, bearing):
    """The point ``km`` along a great circle from (lat, lon) at ``bearing`` (radians)."""
    p1, l1, d = np.radians(lat), np.radians(lon), km / R
    p2 = np.arcsin(np.sin(p1) * np.cos(d) + np.cos(p1) * np.sin(d) * np.cos(bearing))
    l2 = l1 + np.arctan2(np.sin(bearing) * np.sin(d) * np.cos(p1),
                         np.cos(d) - np.sin(p1) * np.sin(p2))
    return np.degrees(p2), (np.degrees(l2) + 180) % 360 - 180


def clustered_places(seed, countries=80, cities=5, per_city=7):
    rng = np.random.default_rng(seed)
    lat = np.degrees(np.arcsin(rng.uniform(-1, 1, countries)))
    lon = rng.uniform(-180, 180, countries)
    lat, lon = np.repeat(lat, cities), np.repeat(lon, cities)
    lat, lon = destination(lat, lon, 10 ** rng.uniform(1, 2.5, lat.size),
                           rng.uniform(0, 2 * np.pi, lat.size))
    lat, lon = np.repeat(lat, per_city), np.repeat(lon, per_city)
    lat, lon = destination(lat, lon, 10 ** rng.uniform(-1, 0.7, lat.size),
                           rng.uniform(0, 2 * np.pi, lat.size))
    return np.stack([lat, lon], axis=1)


def two_scale_field(coords, seed):
    position = (coords[:, 0], coords[:, 1])
    fields = [gs.SRF(gs.Exponential(latlon=True, geo_scale=gs.KM_SCALE, var=var,
                                    len_scale=practical / 3), seed=seed + k)(position)
              for k, (var, practical) in enumerate([(0.3, 15.0), (0.6, 1500.0)])]
    noise = np.random.default_rng(seed).normal(0, np.sqrt(0.1), len(coords))
    return fields[0] + fields[1] + noise


def cap(rng, lat, lon, radius_km, n):
    """n places uniform in the spherical cap of ``radius_km`` around (lat, lon)."""
    z = rng.uniform(math.cos(radius_km / EARTH_RADIUS_KM), 1.0, n)
    phi = rng.uniform(0, 2 * math.pi, n)
    r = np.sqrt(1 - z**2)
    pole = unit_vectors([[lat, lon]])[0]
    east = np.cross([0.0, 0.0, 1.0], pole)
    east /= np.linalg.norm(east)
    north = np.cross(pole, east)
    v = (r * np.cos(phi))[:, None] * east + (r * np.sin(phi))[:, None] * north + z[:, None] * pole
    return np.stack([np.degrees(np.arcsin(v[:, 2])), np.degrees(np.arctan2(v[:, 1], v[:, 0]))],
                    axis=1)


def exponential_field(rng, coords, range_km, dim):
    """``dim`` independent Gaussian fields, covariance exp(−3h/range) in great-circle h.

    Exact (Cholesky), and positive definite on the sphere (Gneiting 2013); semivariance of
    ½‖f_i − f_j‖²: dim · (1 − exp(−3h/range)), practical range ``range_km``.
    """
    u = unit_vectors(coords)
    chord = np.sqrt(((u[:, None] - u[None]) ** 2).sum(-1))
    h = 2 * EARTH_RADIUS_KM * np.arcsin(np.clip(chord / 2, 0, 1))
    cov = np.exp(-3 * h / range_km) + 1e-9 * np.eye(len(u))
    return np.linalg.cholesky(cov) @ rng.normal(size=(len(u), dim))


def two_cap_field(kind: str, seed: int):
    """1,000 places in two caps (Europe, South America) and a 32-component field on them.

    ``two``: practical ranges 300 km in Europe and 2,000 km in South America (each cap its
    own field); ``stationary``: one field of range 1,000 km over both.
    """
    rng = np.random.default_rng(seed)
    a, b = cap(rng, 45.0, 10.0, 1500, 500), cap(rng, -15.0, -60.0, 4000, 500)
    coords = np.concatenate([a, b])
    if kind == "two":
        features = np.concatenate([exponential_field(rng, a, 300.0, 32),
                                   exponential_field(rng, b, 2000.0, 32)])
    else:
        features = exponential_field(rng, coords, 1000.0, 32)
    return coords, features
