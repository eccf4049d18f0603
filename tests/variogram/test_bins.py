import math

import numpy as np
import pytest

from geovario.errors import GeovarioError
from geovario.variogram import default_bin_edges, empirical_variogram, standard_bins
from geovario.variogram.bins import is_log_layout, log_bin_edges


def haversine_max_km(coords):
    """Largest great-circle distance over all pairs, by the haversine formula in numpy."""
    lat, lon = np.radians(coords[:, 0]), np.radians(coords[:, 1])
    a = (np.sin((lat[:, None] - lat[None]) / 2) ** 2
         + np.cos(lat[:, None]) * np.cos(lat[None]) * np.sin((lon[:, None] - lon[None]) / 2) ** 2)
    return float(2 * 6371 * np.arcsin(np.sqrt(np.clip(a, 0, 1))).max())


def test_default_layout_starts_at_one_km_with_five_bins_per_decade(sphere_points):
    coords = sphere_points(300, 9)
    edges = default_bin_edges(coords)
    top = haversine_max_km(coords)  # 300 points: the 2,000-point sample is all of them
    assert edges[0] == 0.0 and edges[1] == pytest.approx(1.0)
    assert edges[-1] == pytest.approx(top, rel=1e-9)
    steps = math.ceil(5 * math.log10(top / 1.0))
    assert len(edges) == steps + 2  # [0, 1) plus the log steps
    ratios = edges[2:] / edges[1:-1]
    np.testing.assert_allclose(ratios, (top / 1.0) ** (1 / steps), rtol=1e-12)
    assert 10 ** 0.2 * 0.97 < ratios[0] <= 10 ** 0.2  # about five per decade
    assert is_log_layout(edges)


def test_compact_samples_keep_two_decades_of_log_bins():
    rng = np.random.default_rng(0)
    coords = np.stack([48.85 + rng.uniform(0, 0.05, 50), 2.35 + rng.uniform(0, 0.05, 50)], 1)
    edges = default_bin_edges(coords)
    top = haversine_max_km(coords)
    assert top < 10
    assert edges[1] == pytest.approx(top / 100, rel=1e-9) and edges[-1] == pytest.approx(top)


def test_standard_bins_are_the_default_layout_unless_bins_are_given(sphere_points):
    coords = sphere_points(200, 4)
    z = np.random.default_rng(4).normal(size=200)
    np.testing.assert_array_equal(standard_bins(coords), default_bin_edges(coords))
    default = empirical_variogram(coords, z, dissimilarity="euclidean")
    np.testing.assert_array_equal(default.bin_edges_km, standard_bins(coords))
    given = empirical_variogram(coords, z, standard_bins(coords), dissimilarity="euclidean")
    np.testing.assert_array_equal(given.gamma, default.gamma)
    capped = standard_bins(coords, max_km=5000, min_km=10, per_decade=4)
    np.testing.assert_allclose(capped, log_bin_edges(10, 5000, 4))
    linear = standard_bins(coords, bins=8, max_km=4000)
    np.testing.assert_allclose(linear, np.linspace(0, 4000, 9))
    assert not is_log_layout(linear)
    np.testing.assert_allclose(standard_bins(coords, log_bins=True, bins=4, max_km=1000),
                               [0, 1, 10, 100, 1000])


def test_standard_bins_refuse_invalid_coordinates():
    with pytest.raises(GeovarioError, match=r"variogram: coordinates: 1 invalid coordinates"):
        standard_bins([[0, 0], [95, 0], [1, 1]])


def test_log_edges_layout_and_errors():
    np.testing.assert_allclose(log_bin_edges(1, 1000, 1), [0, 1, 10, 100, 1000])
    with pytest.raises(GeovarioError, match="per_decade must be at least 1"):
        log_bin_edges(1, 10, 0)
    with pytest.raises(GeovarioError, match=r"min_km must lie in \(0, max_km=10\)"):
        log_bin_edges(20, 10)
    with pytest.raises(GeovarioError, match="min_km must be positive"):
        default_bin_edges(np.array([[0.0, 0.0], [1.0, 1.0]]), min_km=0)
