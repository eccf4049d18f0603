import json

import numpy as np
import pytest
from tests.helpers.store_testdata import DIM, fill_store, make_rows, writer

from geovario.errors import GeovarioError
from geovario.store import MANIFEST_NAME, FeatureStore, StoreWriter, open_store


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> FeatureStore:
    path = tmp_path_factory.mktemp("reader") / "s"
    fill_store(path, 53, shard_size=10, batch=7)  # shards of 10,10,10,10,10,3
    return open_store(path)


@pytest.fixture(scope="module")
def expected() -> np.ndarray:
    return make_rows(53)[2].astype(np.float16)


def test_gather_across_shard_boundaries_equals_concatenation(store, expected):
    rng = np.random.default_rng(1)
    rows = np.concatenate([[9, 10, 0, 52, 49, 50, 10, 10], rng.integers(0, 53, 200)])
    got = store.features(rows, dtype=np.float16)
    assert got.dtype == np.float16 and got.shape == (rows.size, DIM)
    np.testing.assert_array_equal(got, expected[rows])
    np.testing.assert_array_equal(store.features(rows.astype(np.uint32)), expected[rows])
    assert store.features(rows).dtype == np.float32


def test_ids_and_coords_are_cached_read_only(store):
    assert store.coords is store.coords and store.ids is store.ids
    with pytest.raises(ValueError, match="read-only"):
        store.coords[0, 0] = 1.0
    with pytest.raises(ValueError, match="read-only"):
        store.ids[0] = "x"


def test_gather_empty_and_whole(store, expected):
    assert store.features([]).shape == (0, DIM)
    np.testing.assert_array_equal(store.features(np.arange(53), np.float16), expected)


@pytest.mark.parametrize("batch_size", [1, 7, 10, 53, 100])
def test_iter_batches_covers_all_rows_in_order(store, expected, batch_size):
    batches = list(store.iter_batches(batch_size, dtype=np.float16))
    starts = [start for start, _ in batches]
    assert starts == list(range(0, 53, batch_size))
    assert all(len(f) == batch_size for _, f in batches[:-1])
    np.testing.assert_array_equal(np.concatenate([f for _, f in batches]), expected)


def test_rows_out_of_range_or_not_integers(store):
    with pytest.raises(GeovarioError, match="row 53 is out of range for a store of 53 rows"):
        store.features([0, 53])
    with pytest.raises(GeovarioError, match="row -1 is out of range"):
        store.features([-1])
    with pytest.raises(GeovarioError, match="rows must be a 1-D integer array"):
        store.features([0.5])
    with pytest.raises(GeovarioError, match=r"1-D integer array, got shape \(1, 1\)"):
        store.features([[1]])


def test_bad_dtype_and_batch_size(store):
    with pytest.raises(GeovarioError, match="dtype must be float16 or float32, got 'int8'"):
        store.features([0], dtype="int8")
    with pytest.raises(GeovarioError, match="dtype must be float16 or float32"):
        store.load_features(np.float64)
    with pytest.raises(GeovarioError, match="batch_size must be a positive integer, got 0"):
        next(store.iter_batches(0))


def test_ids_alone_match_index(tmp_path):
    fill_store(tmp_path / "s", 12, shard_size=5)
    fresh = open_store(tmp_path / "s")
    assert fresh.ids.tolist() == make_rows(12)[0]  # read without the full index
    assert fresh.ids.tolist() == fresh.index["id"].tolist()


def test_empty_store(tmp_path):
    StoreWriter(tmp_path / "s", backbone="b", dim=3, label_columns=["unique_country"]).close()
    store = open_store(tmp_path / "s")
    assert len(store) == 0 and store.manifest.shards == ()
    assert list(store.index.columns) == ["id", "latitude", "longitude", "unique_country"]
    assert store.coords.shape == (0, 2) and store.ids.shape == (0,)
    assert store.load_features().shape == (0, 3)
    assert list(store.iter_batches(4)) == []


# -- errors ------------------------------------------------------------------------------------


def _edit_manifest(path, **changes):
    data = json.loads((path / MANIFEST_NAME).read_text())
    data.update(changes)
    (path / MANIFEST_NAME).write_text(json.dumps(data))


def test_not_a_store(tmp_path):
    with pytest.raises(GeovarioError, match=f"{tmp_path}: not a geovario feature store "
                                            r"\(no manifest.json\)"):
        open_store(tmp_path)
    with pytest.raises(GeovarioError, match="missing: no such directory"):
        open_store(tmp_path / "missing")
    (tmp_path / MANIFEST_NAME).write_text("{not json")
    with pytest.raises(GeovarioError, match=r"manifest.json: not valid JSON \(JSONDecodeError: "):
        open_store(tmp_path)
    (tmp_path / MANIFEST_NAME).write_text(json.dumps({"format": "something-else"}))
    with pytest.raises(GeovarioError, match="not a geovario feature store manifest .*"
                                            "'something-else'"):
        open_store(tmp_path)


def test_unknown_format_version_names_both_versions(tmp_path):
    fill_store(tmp_path / "s", 3, shard_size=2)
    _edit_manifest(tmp_path / "s", format_version=2)
    with pytest.raises(GeovarioError, match=r"format version 2 is not supported \(this geovario "
                                            r"\S+ reads version 1\)"):
        open_store(tmp_path / "s")


def test_malformed_manifest_fields(tmp_path):
    fill_store(tmp_path / "s", 3, shard_size=2)
    _edit_manifest(tmp_path / "s", count=4)
    with pytest.raises(GeovarioError, match="count 4 does not match the sum of shard rows 3"):
        open_store(tmp_path / "s")
    _edit_manifest(tmp_path / "s", count=3, dtype="float32")
    with pytest.raises(GeovarioError, match="dtype 'float32' is not supported"):
        open_store(tmp_path / "s")
    data = json.loads((tmp_path / "s" / MANIFEST_NAME).read_text())
    del data["dim"]
    (tmp_path / "s" / MANIFEST_NAME).write_text(json.dumps(data))
    with pytest.raises(GeovarioError, match=r"manifest is missing key\(s\) dim"):
        open_store(tmp_path / "s")


def test_missing_shard_file_is_named(tmp_path):
    fill_store(tmp_path / "s", 5, shard_size=2)
    (tmp_path / "s" / "shard-000001.npy").unlink()
    with pytest.raises(GeovarioError, match=r"shard-000001.npy: shard file listed in "
                                            "manifest.json is missing"):
        open_store(tmp_path / "s")
    with pytest.raises(GeovarioError, match="shard-000001.npy: .* missing"):  # no resume either
        writer(tmp_path / "s", shard_size=2)


def test_missing_index_file_is_named(tmp_path):
    fill_store(tmp_path / "s", 5, shard_size=2)
    (tmp_path / "s" / "shard-000002.parquet").unlink()
    with pytest.raises(GeovarioError, match="shard-000002.parquet: shard file listed in"):
        open_store(tmp_path / "s")


def test_shard_of_the_wrong_shape_is_named(tmp_path):
    fill_store(tmp_path / "s", 5, shard_size=2)
    np.save(tmp_path / "s" / "shard-000001.npy", np.zeros((3, DIM), np.float16))
    with pytest.raises(GeovarioError, match=r"shard-000001.npy: shard has shape \(3, 8\) float16, "
                                            r"expected \(2, 8\) float16"):
        open_store(tmp_path / "s")
    np.save(tmp_path / "s" / "shard-000001.npy", np.zeros((2, DIM), np.float32))
    with pytest.raises(GeovarioError, match=r"shard-000001.npy: shard has shape \(2, 8\) float32"):
        open_store(tmp_path / "s")
    (tmp_path / "s" / "shard-000001.npy").write_bytes(b"garbage")
    with pytest.raises(GeovarioError, match="shard-000001.npy: unreadable shard"):
        open_store(tmp_path / "s")


def test_index_of_the_wrong_length_is_named(tmp_path):
    fill_store(tmp_path / "s", 5, shard_size=2)
    other = tmp_path / "s" / "shard-000002.parquet"  # 1 row
    other.replace(tmp_path / "s" / "shard-000000.parquet")
    with pytest.raises(GeovarioError, match=r"shard-000000.parquet: index shard has 1 rows .*"
                                            "expected 2 rows"):
        open_store(tmp_path / "s")
