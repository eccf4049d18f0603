"""Regions of a region-wise variogram: spherical k-means, merging thin clusters, assignment."""

import numpy as np
import pytest
import torch
from tests.helpers.fields import destination

from geovario.errors import GeovarioError
from geovario.geo import haversine_km
from geovario.variogram.regions import find_regions, nearest_region


def blob(rng, lat, lon, n, km):
    """n places within about ``km`` of (lat, lon)."""
    points = destination(np.full(n, lat), np.full(n, lon), rng.uniform(0, km, n),
                         rng.uniform(0, 360, n))
    return np.stack(points, axis=1)


def test_three_separate_blobs_are_found_and_sorted_west_to_east():
    rng = np.random.default_rng(0)
    centres = [(48.0, 2.0), (-23.0, -46.0), (35.0, 139.0)]
    coords = np.concatenate([blob(rng, lat, lon, 150, 800) for lat, lon in centres])
    found = find_regions(coords, 3, min_points=20, seed=1)
    assert np.all(np.diff(found[:, 1]) > 0)  # west to east
    expected = sorted(centres, key=lambda c: c[1])
    for (lat, lon), (f_lat, f_lon) in zip(expected, found, strict=True):
        assert haversine_km(lat, lon, f_lat, f_lon) < 300  # the blob's mean, not its centre
    labels = nearest_region(coords, found)
    truth = np.repeat([1, 0, 2], 150)  # the blobs' west-to-east order
    np.testing.assert_array_equal(labels, truth)


def test_a_thin_cluster_is_merged_into_its_nearest_neighbour():
    rng = np.random.default_rng(1)
    big_west, big_east = blob(rng, 0.0, -60.0, 200, 1000), blob(rng, 0.0, 60.0, 200, 1000)
    island = blob(rng, 0.0, 150.0, 12, 100)  # 12 places, nearer the eastern blob
    coords = np.concatenate([big_west, big_east, island])
    three = nearest_region(coords, find_regions(coords, 3, min_points=10, seed=0))
    assert len(set(three[-12:])) == 1 and three[-1] not in set(three[:-12])  # its own region
    merged = find_regions(coords, 3, min_points=120, seed=0)
    assert len(merged) == 2
    labels = nearest_region(coords, merged)
    assert set(labels[:200]) == {0} and set(labels[200:]) == {1}  # the island joined the east
    # Nothing thick enough: a single region, the global fit.
    assert len(find_regions(coords, 3, min_points=1000, seed=0)) == 1


def test_numpy_and_torch_assignment_agree_and_follow_the_nearest_centroid():
    rng = np.random.default_rng(2)
    coords = np.stack([rng.uniform(-90, 90, 2000), rng.uniform(-180, 180, 2000)], axis=1)
    centroids = np.array([[10.0, -120.0], [50.0, 10.0], [-30.0, 140.0], [-60.0, -20.0]])
    labels = nearest_region(coords, centroids)
    tensor_labels = nearest_region(torch.tensor(coords, dtype=torch.float32), centroids)
    assert tensor_labels.dtype == torch.int64
    np.testing.assert_array_equal(tensor_labels.numpy(), labels)
    # The oracle: the centroid with the smallest haversine distance.
    distances = np.stack([haversine_km(coords[:, 0], coords[:, 1], lat, lon)
                          for lat, lon in centroids], axis=1)
    np.testing.assert_array_equal(labels, distances.argmin(axis=1))


def test_more_regions_than_distinct_places_and_bad_arguments():
    coords = np.array([[0.0, 0.0]] * 5 + [[10.0, 10.0]] * 5)
    assert len(find_regions(coords, 4, min_points=1)) == 2  # two distinct places
    with pytest.raises(GeovarioError, match="variogram: regions must be at least 1, got 0"):
        find_regions(coords, 0, min_points=1)
    with pytest.raises(GeovarioError, match="variogram: min_points must be at least 1"):
        find_regions(coords, 2, min_points=0)
