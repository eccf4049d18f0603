"""The default fit sees the first kilometres: a two-scale field on clustered places.

Places come in three levels, like geotagged photos: 80 "countries" uniform on the
sphere, 5 "cities" each, 10–316 km from its centre (log-uniform), and 7 places per city
within 0.1–5 km (log-uniform): N = 2,800, thousands of pairs under 5 km and pairs at
every distance up to 20,000 km. The field (GSTools, on the sphere) is the sum of two
exponential fields, practical ranges 15 km (variance 0.3) and 1,500 km (variance 0.6),
plus white noise of variance 0.1: sill 1.

The oracle is brute force on the same realisation: the mean of ½(z_i − z_j)² over all
pairs whose distance lies within ±20 % of the target (numpy, haversine). The library's
defaults must come within 15 % of the sill of it at 1, 25, 200 and 2,500 km; the old
defaults (20 linear bins up to half the largest distance, pair-count weights, one
stable structure) must not, which shows the test can fail.
"""

import numpy as np
import pytest
from tests.helpers.fields import R, clustered_places, two_scale_field

from geovario.variogram import empirical_variogram, fit_variogram, standard_bins

TARGETS_KM = (1, 25, 200, 2500)
SILL = 1.0
SEED = 0


def brute_force(coords, z, targets_km):
    """Mean ½(z_i − z_j)² over all pairs within ±20 % of each target distance."""
    lat, lon = np.radians(coords[:, 0]), np.radians(coords[:, 1])
    out = {t: [0.0, 0] for t in targets_km}
    for i in range(len(z) - 1):
        a = (np.sin((lat[i + 1:] - lat[i]) / 2) ** 2
             + np.cos(lat[i]) * np.cos(lat[i + 1:]) * np.sin((lon[i + 1:] - lon[i]) / 2) ** 2)
        h = 2 * R * np.arcsin(np.sqrt(np.clip(a, 0, 1)))
        d = 0.5 * (z[i + 1:] - z[i]) ** 2
        for t in targets_km:
            near = (h >= 0.8 * t) & (h <= 1.2 * t)
            out[t][0] += d[near].sum()
            out[t][1] += near.sum()
    return {t: total / count for t, (total, count) in out.items()}, {t: c for t, (_, c)
                                                                    in out.items()}


@pytest.fixture(scope="module")
def realisation():
    coords = clustered_places(SEED)
    z = two_scale_field(coords, SEED)
    truth, counts = brute_force(coords, z, TARGETS_KM)
    return coords, z, truth, counts


def errors(fitted, truth):
    return {t: abs(float(fitted.gamma(np.array(float(t)))) - truth[t]) / SILL for t in truth}


def test_default_fit_matches_brute_force_at_1_25_200_and_2500_km(realisation):
    coords, z, truth, counts = realisation
    assert len(z) == 2800 and min(counts.values()) > 500  # every target is well sampled
    fitted = fit_variogram(empirical_variogram(coords, z, dissimilarity="euclidean"))
    off = errors(fitted, truth)
    assert max(off.values()) < 0.15, (fitted.model, off)


def test_old_defaults_fail_the_same_check(realisation):
    coords, z, truth, _ = realisation
    old = fit_variogram(empirical_variogram(coords, z, standard_bins(coords, bins=20),
                                            dissimilarity="euclidean"),
                        model="stable", weighting="pairs")
    assert old.empirical.lag_km[0] > 100  # blind below the first linear bin
    assert max(errors(old, truth).values()) > 0.15
