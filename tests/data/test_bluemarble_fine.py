"""The fine Blue Marble split: test places 0.5-5 km from a training place, and a gallery
that holds candidates that close (the training places added to the 100K)."""

import dataclasses
import json

import numpy as np
import pandas as pd
import pytest
from geopy.distance import great_circle

from geovario.data.bluemarble import FINE_SEPARATION_KM, BuildConfig, build_bluemarble
from geovario.data.places import near_split
from geovario.errors import GeovarioError
from geovario.inference.gallery import load_gallery

FINE = BuildConfig(train=300, test=60, pixels=8, seed=5, split="fine", shard_size=1000)


def haversine_by_hand(a_deg: np.ndarray, b_deg: np.ndarray) -> np.ndarray:
    """(len(a), len(b)) great-circle km, R = 6371, written out here as the oracle."""
    lat1, lon1 = np.radians(a_deg[:, None, 0]), np.radians(a_deg[:, None, 1])
    lat2, lon2 = np.radians(b_deg[None, :, 0]), np.radians(b_deg[None, :, 1])
    h = (np.sin((lat2 - lat1) / 2) ** 2
         + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2)
    return 2 * 6371.0 * np.arcsin(np.sqrt(h))


def coords_of(table: pd.DataFrame) -> np.ndarray:
    return table[["latitude", "longitude"]].to_numpy()


@pytest.fixture(scope="module")
def fine(tmp_path_factory):
    out = tmp_path_factory.mktemp("fine") / "bm"
    build_bluemarble(out, FINE, progress=False)
    read = {s: pd.read_csv(out / f"{s}.csv", dtype={"id": str}, keep_default_na=False)
            for s in ("train", "test")}
    return out, read["train"], read["test"]


def test_near_split_puts_each_test_point_between_the_bounds_of_its_nearest_train_place(
        sphere_points):
    # Dense points (about 40 km apart) so that other train places crowd some anchors.
    coords = sphere_points(300_000, seed=4)
    train, test, anchors = near_split(coords, 2000, 300, 1.0, 4.0, np.random.default_rng(0))
    assert len(set(train)) == 2000 and test.shape == (300, 2)
    nearest = haversine_by_hand(test, coords[train]).min(axis=1)
    assert nearest.min() >= 1.0 - 1e-6 and nearest.max() <= 4.0 + 1e-6
    assert len(set(anchors)) == 300  # each test point its own anchor: its own cluster
    sphere = great_circle(radius=6371.0)
    for point, anchor in zip(test[:50], anchors[:50], strict=True):
        assert 1.0 - 1e-6 <= sphere.measure(tuple(point), tuple(coords[train[anchor]])) \
            <= 4.0 + 1e-6
    # The walk length is uniform over [min, max]: about half of them under 2.5 km.
    assert 0.35 < np.mean(nearest < 2.5) < 0.65


def test_near_split_is_deterministic_for_its_seed(sphere_points):
    coords = sphere_points(5000, seed=1)
    first = near_split(coords, 500, 50, 0.5, 5.0, np.random.default_rng(3))
    again = near_split(coords, 500, 50, 0.5, 5.0, np.random.default_rng(3))
    other = near_split(coords, 500, 50, 0.5, 5.0, np.random.default_rng(4))
    for a, b in zip(first, again, strict=True):
        assert np.array_equal(a, b)
    assert not np.array_equal(first[1], other[1])


def test_fine_build_keeps_every_test_place_within_the_stated_bounds(fine):
    out, train, test = fine
    low, high = FINE_SEPARATION_KM
    nearest = haversine_by_hand(coords_of(test), coords_of(train)).min(axis=1)
    assert nearest.min() >= low - 1e-6 and nearest.max() <= high + 1e-6
    assert test.cluster.nunique() == len(test) == 60
    params = json.loads((out / "bluemarble.json").read_text())["params"]
    assert (params["split"], params["min_separation_km"], params["max_separation_km"]) == (
        "fine", low, high)


def test_fine_gallery_has_a_candidate_within_the_bound_of_every_test_place(fine):
    out, train, test = fine
    gallery = load_gallery(f"geoclip+csv:{out / 'train.csv'}")
    published = load_gallery("geoclip")
    assert len(gallery) == len(published) + len(train)
    assert np.array_equal(gallery.coords[:len(published)], published.coords)
    assert gallery.name == f"geoclip-100k+{out / 'train.csv'}"
    nearest = haversine_by_hand(coords_of(test), gallery.coords).min(axis=1)
    assert nearest.max() <= FINE_SEPARATION_KM[1] + 1e-6
    # The 100K alone leaves most test places without a candidate that close.
    alone = haversine_by_hand(coords_of(test), published.coords).min(axis=1)
    assert np.mean(alone <= FINE_SEPARATION_KM[1]) < 0.5


def test_fine_split_bounds_are_checked(tmp_path):
    cases = [({"min_separation_km": 6.0}, "min_separation_km must be <= max_separation_km "
                                          r"\(5\) on the fine split, got 6"),
             ({"max_separation_km": 80.0}, r"max_separation_km must be in \(0, 50\], got 80"),
             ({"split": "interleaved", "max_separation_km": 5.0},
              r"max_separation_km must be unset \(it bounds the fine split only\), got 5.0"),
             ({"test": 400}, "near_split: each test point needs its own train place; 400 test "
                             "asks for more than the 300 train places")]
    for change, message in cases:
        with pytest.raises(GeovarioError, match=message):
            build_bluemarble(tmp_path / "out", dataclasses.replace(FINE, **change),
                             progress=False)
