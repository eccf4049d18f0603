import numpy as np
import pandas as pd
import pytest
from tests.helpers.store_testdata import DIM, assert_same_store, fill_store, writer

from geovario.errors import GeovarioError
from geovario.store import merge_stores, open_store


@pytest.fixture
def parts(tmp_path):
    paths = [tmp_path / f"part{k}" for k in range(3)]
    for k, (path, n) in enumerate(zip(paths, (11, 0, 7), strict=True)):
        fill_store(path, n, shard_size=4, seed=k, prefix=f"rank{k}-")
    return paths


def test_merge_concatenates_in_the_order_given(parts, tmp_path):
    merged = merge_stores(parts, tmp_path / "out", shard_size=5)
    stores = [open_store(p) for p in parts]
    assert len(merged) == 18 and [s.rows for s in merged.manifest.shards] == [5, 5, 5, 3]
    assert (merged.backbone, merged.preprocessing) == (stores[0].backbone, stores[0].preprocessing)
    pd.testing.assert_frame_equal(merged.index,
                                  pd.concat([s.index for s in stores], ignore_index=True))
    np.testing.assert_array_equal(
        merged.load_features(np.float16),
        np.concatenate([s.load_features(np.float16) for s in stores]))


def test_merge_is_deterministic_and_follows_part_order(parts, tmp_path):
    merge_stores(parts, tmp_path / "a", shard_size=4)
    merge_stores(parts, tmp_path / "b", shard_size=4)
    assert_same_store(open_store(tmp_path / "a"), open_store(tmp_path / "b"))
    reversed_ids = merge_stores(parts[::-1], tmp_path / "c").ids.tolist()
    assert reversed_ids[0].startswith("rank2-") and reversed_ids[-1].startswith("rank0-")


def test_merge_refuses_overlapping_ids(tmp_path):
    fill_store(tmp_path / "p0", 5, shard_size=4)
    fill_store(tmp_path / "p1", 3, shard_size=4)  # same ids img000000..2
    with pytest.raises(GeovarioError, match=r"merge_stores: 3 id\(s\) appear in more than one "
                                            r"part, e\.g\. 'img000000' in .*p0 and .*p1"):
        merge_stores([tmp_path / "p0", tmp_path / "p1"], tmp_path / "out")
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(("override", "message"), [
    ({"dim": DIM + 1}, "dim 9 differs from"),
    ({"backbone": "other"}, "backbone 'other' differs from"),
    ({"preprocessing": {}}, r"preprocessing \{\} differs from"),
    ({"label_columns": ()}, r"label columns \(\) differs from"),
])
def test_merge_refuses_incompatible_parts(tmp_path, override, message):
    fill_store(tmp_path / "p0", 2, shard_size=4)
    writer(tmp_path / "p1", shard_size=4, **override).close()
    with pytest.raises(GeovarioError, match=f"p1: {message} .*p0"):
        merge_stores([tmp_path / "p0", tmp_path / "p1"], tmp_path / "out")


def test_merge_output_rules(parts, tmp_path):
    with pytest.raises(GeovarioError, match="merge_stores: no parts given"):
        merge_stores([], tmp_path / "out")
    with pytest.raises(GeovarioError, match="is also one of the parts"):
        merge_stores(parts, parts[2])
    merge_stores(parts[:1], tmp_path / "out")
    with pytest.raises(GeovarioError, match="out: already holds a store with 11 rows"):
        merge_stores(parts[1:], tmp_path / "out")
    assert len(open_store(tmp_path / "out")) == 11
    writer(tmp_path / "empty", shard_size=4).close()  # e.g. an interrupted merge: reusable
    assert len(merge_stores(parts, tmp_path / "empty")) == 18
