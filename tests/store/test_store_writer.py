import json

import numpy as np
import pandas as pd
import pytest
from tests.helpers.store_testdata import (
    BACKBONE,
    DIM,
    LABELS,
    PREPROCESSING,
    fill_store,
    make_rows,
    writer,
)

from geovario.errors import GeovarioError
from geovario.store import MANIFEST_NAME, StoreWriter, open_store


def test_round_trip_float16_rounding_and_exact_index(tmp_path):
    ids, coords, features, labels = make_rows(23)
    with writer(tmp_path / "s", shard_size=10) as w:
        w.append(ids, coords, features, labels=labels)
    store = open_store(tmp_path / "s")

    assert len(store) == 23
    assert [s.rows for s in store.manifest.shards] == [10, 10, 3]
    assert (store.backbone, store.dim, store.dtype) == (BACKBONE, DIM, "float16")
    assert store.preprocessing == PREPROCESSING
    assert store.label_columns == LABELS
    expected = features.astype(np.float16)
    np.testing.assert_array_equal(store.load_features(np.float16), expected)
    np.testing.assert_array_equal(store.load_features(np.float32), expected.astype(np.float32))
    assert store.load_features().dtype == np.float32
    assert store.ids.tolist() == ids
    assert all(type(i) is str for i in store.ids)
    np.testing.assert_array_equal(store.coords, coords)  # float64, bit exact
    assert store.coords.dtype == np.float64
    assert list(store.index.columns) == ["id", "latitude", "longitude", *LABELS]
    assert store.index["unique_country"].tolist() == labels["unique_country"]
    city = store.index["unique_city"]
    assert city.isna().tolist() == [v is None for v in labels["unique_city"]]
    assert city.dropna().tolist() == [v for v in labels["unique_city"] if v is not None]


def test_manifest_on_disk_matches_documented_keys(tmp_path):
    fill_store(tmp_path / "s", 12, shard_size=5)
    data = json.loads((tmp_path / "s" / MANIFEST_NAME).read_text())
    assert list(data) == ["format", "format_version", "geovario_version", "backbone", "dim",
                          "dtype", "count", "preprocessing", "label_columns", "shards"]
    assert data["format"] == "geovario-feature-store" and data["format_version"] == 1
    assert data["count"] == 12 and data["dtype"] == "float16"
    assert data["shards"][0] == {"features": "shard-000000.npy", "index": "shard-000000.parquet",
                                 "rows": 5}
    on_disk = np.load(tmp_path / "s" / "shard-000002.npy")
    assert on_disk.shape == (2, DIM) and on_disk.dtype == np.float16


def test_ids_are_stored_as_strings(tmp_path):
    with StoreWriter(tmp_path / "s", backbone="b", dim=2) as w:
        w.append(np.array([7, 8]), [[0, 0], [1, 1]], np.ones((2, 2)))
        assert "7" in w.written_ids and 7 not in w.written_ids
    assert open_store(tmp_path / "s").ids.tolist() == ["7", "8"]


def test_labels_accept_a_dataframe_and_nan_as_missing(tmp_path):
    frame = pd.DataFrame({"unique_country": ["FR", np.nan], "unique_city": [None, "Paris"]})
    with writer(tmp_path / "s", shard_size=4) as w:
        w.append(["a", "b"], [[1, 2], [3, 4]], np.zeros((2, DIM)), labels=frame)
    index = open_store(tmp_path / "s").index
    assert index["unique_country"].isna().tolist() == [False, True]
    assert index["unique_city"].tolist()[1] == "Paris"


def test_exit_on_error_commits_buffered_rows(tmp_path):
    ids, coords, features, labels = make_rows(4)
    with pytest.raises(RuntimeError), writer(tmp_path / "s", shard_size=100) as w:
        w.append(ids, coords, features, labels=labels)
        raise RuntimeError("extraction failed")
    assert open_store(tmp_path / "s").ids.tolist() == ids


def test_written_ids_is_a_live_read_only_view(tmp_path):
    ids, coords, features, labels = make_rows(3)
    with writer(tmp_path / "s", shard_size=100) as w:
        view = w.written_ids
        w.append(ids, coords, features, labels=labels)
        assert len(view) == 3 and "img000001" in view and set(view) == set(ids)
        assert not hasattr(view, "add")
    with writer(tmp_path / "s", shard_size=100) as w:
        assert set(w.written_ids) == set(ids)


def test_resume_appends_after_existing_rows(tmp_path):
    fill_store(tmp_path / "s", 7, shard_size=3)
    fill_store(tmp_path / "s", 7, shard_size=3)  # everything already there: a no-op
    assert len(open_store(tmp_path / "s")) == 7
    fill_store(tmp_path / "s", 11, shard_size=3)
    fill_store(tmp_path / "ref", 11, shard_size=100)
    a, b = open_store(tmp_path / "s"), open_store(tmp_path / "ref")
    assert a.ids.tolist() == b.ids.tolist()
    np.testing.assert_array_equal(a.load_features(np.float16), b.load_features(np.float16))


# -- errors ------------------------------------------------------------------------------------


def test_duplicate_id_in_store_is_an_error(tmp_path):
    ids, coords, features, labels = make_rows(3)
    with writer(tmp_path / "s", shard_size=2) as w:
        w.append(ids, coords, features, labels=labels)
        with pytest.raises(GeovarioError, match=r"duplicate id\(s\) \['img000001'\]"):
            w.append(["new", "img000001"], coords[:2], features[:2],
                     labels={c: v[:2] for c, v in labels.items()})
        assert "new" not in w.written_ids  # a failed append adds nothing
    with writer(tmp_path / "s", shard_size=2) as w, pytest.raises(GeovarioError,
                                                                  match="duplicate id"):
        w.append(ids[:1], coords[:1], features[:1], labels={c: v[:1] for c, v in labels.items()})


def test_duplicate_id_within_one_batch_is_an_error(tmp_path):
    with StoreWriter(tmp_path / "s", backbone="b", dim=2) as w, \
            pytest.raises(GeovarioError, match=r"duplicate id\(s\) \['x'\]"):
        w.append(["x", "x"], [[0, 0], [1, 1]], np.ones((2, 2)))


def test_nan_latitude_names_the_store_and_the_id(tmp_path):
    coords = np.array([[10.0, 20.0], [np.nan, 5.0]])
    with StoreWriter(tmp_path / "s", backbone="b", dim=2) as w:
        with pytest.raises(GeovarioError, match=r"s: 1 invalid coordinates .* at ids bad-one"):
            w.append(["ok", "bad-one"], coords, np.ones((2, 2)))
        assert len(w.written_ids) == 0


def test_features_shape_must_match_ids(tmp_path):
    with StoreWriter(tmp_path / "s", backbone="b", dim=4) as w:
        with pytest.raises(GeovarioError, match=r"features have shape \(2, 3\).*expected \(2, 4\)"):
            w.append(["a", "b"], [[0, 0], [1, 1]], np.ones((2, 3)))
        with pytest.raises(GeovarioError, match=r"features have shape \(3, 4\).*for 2 ids"):
            w.append(["a", "b"], [[0, 0], [1, 1]], np.ones((3, 4)))
        with pytest.raises(GeovarioError, match=r"coords have 3 rows, expected 2"):
            w.append(["a", "b"], np.zeros((3, 2)), np.ones((2, 4)))


def test_features_overflowing_float16_are_an_error(tmp_path):
    features = np.ones((2, 2))
    features[1, 0] = 1e6
    with StoreWriter(tmp_path / "s", backbone="b", dim=2) as w, \
            pytest.raises(GeovarioError, match=r"NaN or infinite in float16 .* at ids \['b'\]"):
        w.append(["a", "b"], [[0, 0], [1, 1]], features)


def test_label_columns_must_match(tmp_path):
    ids, coords, features, labels = make_rows(2)
    with writer(tmp_path / "s", shard_size=2) as w:
        with pytest.raises(GeovarioError, match=r"missing \['unique_country', 'unique_city'\]"):
            w.append(ids, coords, features)
        with pytest.raises(GeovarioError, match=r"unexpected \['extra'\]"):
            w.append(ids, coords, features, labels={**labels, "extra": ["x", "y"]})
        with pytest.raises(GeovarioError, match=r"'unique_city' has 1 values, expected 2"):
            w.append(ids, coords, features, labels={**labels, "unique_city": ["x"]})


def test_one_string_as_ids_is_an_error(tmp_path):
    with StoreWriter(tmp_path / "s", backbone="b", dim=2) as w, \
            pytest.raises(GeovarioError, match="got one string 'ab'"):
        w.append("ab", [[0, 0], [1, 1]], np.ones((2, 2)))


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"backbone": ""}, "backbone must be a non-empty string"),
    ({"dim": 0}, "dim must be a positive integer, got 0"),
    ({"shard_size": -1}, "shard_size must be a positive integer, got -1"),
    ({"label_columns": ["latitude"]}, "label column 'latitude' must be"),
    ({"label_columns": ["a", "a"]}, "label columns repeat a name"),
    ({"preprocessing": {"f": object()}}, "preprocessing must be a JSON object of JSON-serial"),
    ({"preprocessing": [1]}, r"preprocessing must be a JSON object \(dict\), got list"),
])
def test_invalid_arguments(tmp_path, kwargs, message):
    settings = {"backbone": "b", "dim": 2, **kwargs}
    with pytest.raises(GeovarioError, match=f"StoreWriter: {message}"):
        StoreWriter(tmp_path / "s", **settings)


@pytest.mark.parametrize(("override", "message"), [
    ({"dim": 16}, "dim mismatch: store has 8, writer was given 16"),
    ({"backbone": "other"}, "backbone mismatch: store has 'test-backbone', writer was given "
                            "'other'"),
    ({"preprocessing": {"resize": 336}}, "preprocessing mismatch: store has"),
    ({"label_columns": ("unique_country",)}, "label columns mismatch: store has"),
])
def test_resume_with_other_settings_is_an_error(tmp_path, override, message):
    fill_store(tmp_path / "s", 3, shard_size=2)
    with pytest.raises(GeovarioError, match=message):
        writer(tmp_path / "s", shard_size=2, **override)
    with writer(tmp_path / "s", shard_size=2):  # the failed open released the lock
        pass


def test_equal_preprocessing_in_another_key_order_resumes(tmp_path):
    fill_store(tmp_path / "s", 3, shard_size=2)
    reordered = dict(reversed(list(PREPROCESSING.items())))
    with writer(tmp_path / "s", shard_size=2, preprocessing=reordered) as w:
        assert len(w.written_ids) == 3


def test_refuses_a_non_empty_directory_that_is_not_a_store(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(GeovarioError, match=r"exists but is not a feature store .*'notes.txt'"):
        StoreWriter(tmp_path, backbone="b", dim=2)
    assert (tmp_path / "notes.txt").read_text() == "mine"


def test_refuses_a_path_that_is_a_file(tmp_path):
    (tmp_path / "f").write_text("x")
    with pytest.raises(GeovarioError, match="f: exists and is not a directory"):
        StoreWriter(tmp_path / "f", backbone="b", dim=2)


def test_a_second_writer_on_the_same_store_is_refused(tmp_path):
    with StoreWriter(tmp_path / "s", backbone="b", dim=2), \
            pytest.raises(GeovarioError, match="another writer has this store open"):
        StoreWriter(tmp_path / "s", backbone="b", dim=2)
    StoreWriter(tmp_path / "s", backbone="b", dim=2).close()


def test_append_after_close_is_an_error(tmp_path):
    w = StoreWriter(tmp_path / "s", backbone="b", dim=2)
    w.close()
    w.close()  # idempotent
    with pytest.raises(GeovarioError, match="writer is closed"):
        w.append(["a"], [[0, 0]], np.ones((1, 2)))
