import csv

import numpy as np
import pandas as pd
import pytest
from tests.helpers.extract_testdata import (
    DIM,
    FAKE_NAME,
    FakeBackbone,
    FakeTransform,
    assert_identical_stores,
    expected_features,
)
from tests.helpers.osv5m_testdata import CORRUPT, MISSING, NAN_LAT, good_rows, image_of, make_osv5m

from geovario.data.osv5m import load_osv5m
from geovario.errors import GeovarioError
from geovario.extract import SKIP_LOG_NAME, extract_features
from geovario.store import open_store


def run(root, out, backbone=None, **options):
    settings = dict(batch_size=2, workers=0, chunk_size=4, progress=False)
    settings.update(options)
    return extract_features(load_osv5m(root, "train"), backbone or FakeBackbone(), out,
                            **settings)


def skip_rows(out):
    with open(out / SKIP_LOG_NAME, newline="") as fh:
        return [(row["id"], row["reason"]) for row in csv.DictReader(fh)]


def test_exactly_the_valid_rows_with_coords_labels_and_features(tmp_path):
    frame = make_osv5m(tmp_path / "osv")
    report = run(tmp_path / "osv", tmp_path / "store")
    store = open_store(tmp_path / "store")
    good = good_rows(frame)
    assert store.ids.tolist() == good["id"].tolist()  # CSV order
    np.testing.assert_array_equal(store.coords, good[["latitude", "longitude"]].astype(float))
    assert store.label_columns == ("unique_country", "unique_city")
    country = [None if c in ("", "NaN") else c for c in good["unique_country"]]
    assert [None if pd.isna(c) else c for c in store.index["unique_country"]] == country
    assert store.index["unique_city"].tolist() == good["unique_city"].tolist()
    assert (store.backbone, store.dim) == (FAKE_NAME, DIM)
    assert store.preprocessing == FakeBackbone.preprocessing
    oracle = expected_features([image_of(frame, i) for i in good["id"]])
    np.testing.assert_allclose(store.load_features(), oracle, rtol=2e-3, atol=2e-3)

    assert skip_rows(tmp_path / "store") == [(CORRUPT, "corrupt image"),
                                             (MISSING, "missing image"),
                                             (NAN_LAT, "invalid coordinates")]
    assert report.embedded == report.rows == 9
    assert report.summary() == (
        "extract: 9 embedded, 3 skipped (1 corrupt image, 1 missing image, 1 invalid "
        f"coordinates); see {tmp_path / 'store' / SKIP_LOG_NAME}")


def test_shards_follow_the_chunk_grid(tmp_path):
    make_osv5m(tmp_path / "osv")
    backbone = FakeBackbone()
    run(tmp_path / "osv", tmp_path / "store", backbone, batch_size=3)
    # 12 rows in chunks of 4: rows 3 (corrupt), 6 (missing) and 10 (NaN) leave 3, 3, 3 rows.
    assert [s.rows for s in open_store(tmp_path / "store").manifest.shards] == [3, 3, 3]
    # Batches are cut within each chunk from its readable rows: [0, 1, 2] and [3] (corrupt,
    # so not embedded); [4, 5, 7] (6 is missing); [8, 9, 11] (10 has no latitude).
    assert backbone.batches == [3, 3, 3]


def test_rerun_adds_nothing_and_lists_nothing_twice(tmp_path):
    make_osv5m(tmp_path / "osv")
    run(tmp_path / "osv", tmp_path / "store")
    before = (tmp_path / "store" / SKIP_LOG_NAME).read_bytes()
    backbone = FakeBackbone()
    report = run(tmp_path / "osv", tmp_path / "store", backbone)
    assert report.summary().startswith("extract: 0 embedded (the store now holds 9), 3 skipped")
    assert (tmp_path / "store" / SKIP_LOG_NAME).read_bytes() == before
    assert backbone.batches == []  # only the corrupt image was read again; nothing embedded


def test_decoding_threads_give_the_same_store(tmp_path):
    make_osv5m(tmp_path / "osv")
    run(tmp_path / "osv", tmp_path / "a")
    report = run(tmp_path / "osv", tmp_path / "b", workers=2)
    assert_identical_stores(open_store(tmp_path / "a"), open_store(tmp_path / "b"))
    assert report.skipped == {"corrupt image": 1, "missing image": 1, "invalid coordinates": 1}


class PickyTransform(FakeTransform):
    """Fails on images whose first pixel is ``bad``."""

    def __init__(self, bad):
        self.bad = bad

    def pixels(self, image):
        if image.convert("RGB").getpixel((0, 0)) == self.bad:
            raise ValueError("cannot handle this one")
        return super().pixels(image)


class BrokenBackbone(FakeBackbone):
    """Fails to preprocess one image and embeds another as NaN."""

    def __init__(self, bad_preprocess_pixel, nan_image):
        super().__init__()
        self.nan = FakeTransform()(nan_image)
        self.transform = PickyTransform(bad_preprocess_pixel)

    def embed(self, batch):
        out = super().embed(batch)
        out[(batch == self.nan).flatten(1).all(dim=1)] = float("nan")
        return out


def test_failing_preprocess_and_nan_embeddings_are_skipped_not_fatal(tmp_path):
    from io import BytesIO

    from PIL import Image

    frame = make_osv5m(tmp_path / "osv")
    good = good_rows(frame)["id"].tolist()
    images = [Image.open(BytesIO(image_of(frame, i))) for i in good[:2]]
    backbone = BrokenBackbone(images[0].convert("RGB").getpixel((0, 0)), images[1])
    report = run(tmp_path / "osv", tmp_path / "store", backbone)
    assert open_store(tmp_path / "store").ids.tolist() == good[2:]
    rows = dict(skip_rows(tmp_path / "store"))
    assert rows[good[0]] == rows[good[1]] == "corrupt image"
    details = (tmp_path / "store" / SKIP_LOG_NAME).read_text()
    assert "preprocess failed: ValueError: cannot handle this one" in details
    assert "embedding is NaN or infinite in float16" in details
    assert report.skipped["corrupt image"] == 3


def test_store_of_another_backbone_is_refused(tmp_path):
    make_osv5m(tmp_path / "osv")
    run(tmp_path / "osv", tmp_path / "store")

    class Other(FakeBackbone):
        name = "other"

    with pytest.raises(GeovarioError, match=r"store: backbone mismatch: store has 'fake-pool'"):
        run(tmp_path / "osv", tmp_path / "store", Other())


@pytest.mark.parametrize("option, value, message", [
    ("batch_size", 0, "extract: batch_size must be an integer >= 1, got 0"),
    ("workers", -1, "extract: workers must be an integer >= 0, got -1"),
    ("chunk_size", 2.5, "extract: chunk_size must be an integer >= 1, got 2.5"),
])
def test_bad_options(tmp_path, option, value, message):
    make_osv5m(tmp_path / "osv")
    with pytest.raises(GeovarioError, match=f"^{message}$"):
        run(tmp_path / "osv", tmp_path / "store", **{option: value})


class HopelessTransform(FakeTransform):
    def pixels(self, image):
        raise TypeError("'NoneType' object is not callable")


class NoPreprocess(FakeBackbone):
    def __init__(self):
        super().__init__()
        self.transform = HopelessTransform()


def test_a_backbone_that_fails_on_every_image_stops_the_run(tmp_path, monkeypatch):
    monkeypatch.setattr("geovario.extract.run.FAIL_FAST_AFTER", 4)
    make_osv5m(tmp_path / "osv")
    with pytest.raises(GeovarioError, match=r"^extract: fake-pool: preprocessing failed on the "
                       r"first \d+ decoded images and worked on none \(preprocess failed: "
                       r"TypeError: 'NoneType' object is not callable\); a backbone problem"):
        run(tmp_path / "osv", tmp_path / "store", NoPreprocess())
