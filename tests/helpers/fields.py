"""Clustered places and a two-scale field on them (GSTools), shared by the variogram tests.

Places come in three levels, like geotagged photos: "countries" uniform on the sphere,
"cities" 10–316 km from their centre and places 0.1–5 km from their city (log-uniform).
The field is the sum of two exponential fields (practical ranges 15 km and 1,500 km,
variances 0.3 and 0.6) plus white noise of variance 0.1: sill 1.
"""

import gstools as gs
import numpy as np

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
