"""``--dataset bluemarble`` is the OSV-5M reader on a folder written by ``bluemarble build``."""

import sys

import numpy as np
import pandas as pd
import pytest
from tests.helpers.extract_testdata import FAKE_NAME, fake_backbones_module

from geovario import cli
from geovario.store import open_store


@pytest.mark.slow
def test_extract_a_small_blue_marble_build(tmp_path, monkeypatch, capsys):
    from geovario.data.bluemarble import BuildConfig, build_bluemarble

    build = tmp_path / "bm"
    build_bluemarble(build, BuildConfig(train=12, test=4, test_regions=2), progress=False)
    monkeypatch.setitem(sys.modules, "geovario.backbones", fake_backbones_module())
    assert cli.main(["extract", "--dataset", "bluemarble", "--root", str(build), "--split",
                     "test", "--backbone", FAKE_NAME, "--out", str(tmp_path / "store"),
                     "--workers", "0", "--quiet"]) == 0
    assert capsys.readouterr().out == "extract: 4 embedded, 0 skipped\n"
    csv = pd.read_csv(build / "test.csv", dtype={"id": str}, keep_default_na=False)
    store = open_store(tmp_path / "store")
    assert store.ids.tolist() == csv["id"].tolist()
    np.testing.assert_allclose(store.coords, csv[["latitude", "longitude"]].to_numpy())
    assert store.label_columns == ("unique_country", "unique_region", "unique_sub-region",
                                   "unique_city")
    assert [v or None for v in csv["unique_country"]] == [
        None if pd.isna(v) else v for v in store.index["unique_country"]]
