"""Per-region bins of the pairs anchored in each region add up to the global bins."""

import numpy as np
import pytest

from geovario.errors import GeovarioError
from geovario.variogram import default_bin_edges, empirical_variogram
from geovario.variogram.regional_pairs import regional_empirical


@pytest.fixture
def places(sphere_points):
    coords = sphere_points(300, 5)
    rng = np.random.default_rng(5)
    labels = rng.integers(0, 3, len(coords))
    return coords, labels, default_bin_edges(coords)


@pytest.mark.parametrize(("dim", "dissimilarity", "rtol"), [
    (2, "euclidean", 1e-12),  # float64 products: exact to rounding
    (16, "cosine", 1e-6),  # float32 products, tiles of other shapes than the global pass
])
def test_regions_add_up_to_the_global_bins(places, dim, dissimilarity, rtol):
    coords, labels, edges = places
    features = np.random.default_rng(6).normal(size=(len(coords), dim)) + coords[:, :1] / 50
    whole = empirical_variogram(coords, features, bin_edges_km=edges,
                                dissimilarity=dissimilarity)
    parts = regional_empirical(coords, features, labels, 3, edges, dissimilarity=dissimilarity)
    counts = np.array([p.pairs for p in parts])
    # Every unordered pair is anchored once at each of its ends.
    np.testing.assert_array_equal(counts.sum(axis=0), 2 * whole.pairs)
    ok = whole.pairs > 0
    for column, total in (("gamma", whole.gamma), ("lag_km", whole.lag_km)):
        values = np.array([np.nan_to_num(getattr(p, column)) for p in parts])
        mean = (counts * values).sum(axis=0)[ok] / counts.sum(axis=0)[ok]
        np.testing.assert_allclose(mean, total[ok], rtol=rtol)
    assert [p.n_points for p in parts] == np.bincount(labels, minlength=3).tolist()


def test_a_region_by_brute_force(places):
    """Region 1's bin means by a plain loop over its anchors and every other place."""
    coords, labels, edges = places
    features = np.random.default_rng(7).normal(size=(len(coords), 3))
    part = regional_empirical(coords, features, labels, 3, edges,
                              dissimilarity="euclidean")[1]
    from geovario.geo import haversine_km

    sums, counts = np.zeros(len(edges) - 1), np.zeros(len(edges) - 1)
    for i in np.flatnonzero(labels == 1):
        h = haversine_km(coords[i, 0], coords[i, 1], coords[:, 0], coords[:, 1])
        d = 0.5 * ((features - features[i]) ** 2).sum(axis=1)
        k = np.searchsorted(edges, h, side="right") - 1
        keep = (np.arange(len(coords)) != i) & (k >= 0) & (k < len(edges) - 1)
        np.add.at(sums, k[keep], d[keep])
        np.add.at(counts, k[keep], 1)
    np.testing.assert_array_equal(part.pairs, counts)
    ok = counts > 0
    np.testing.assert_allclose(part.gamma[ok], sums[ok] / counts[ok], rtol=1e-10)
    assert np.isnan(part.gamma[~ok]).all()


def test_bad_input(places):
    coords, labels, edges = places
    with pytest.raises(GeovarioError, match="300 places but 299 feature rows"):
        regional_empirical(coords, np.ones((299, 2)), labels, 3, edges)
    with pytest.raises(GeovarioError, match="unknown dissimilarity 'manhattan'"):
        regional_empirical(coords, np.ones((300, 2)), labels, 3, edges,
                           dissimilarity="manhattan")
    with pytest.raises(GeovarioError, match=r"cosine dissimilarity of zero feature vectors at "
                                            r"rows \[0\]"):
        regional_empirical(coords, np.r_[[[0.0, 0.0]], np.ones((299, 2))], labels, 3, edges)
