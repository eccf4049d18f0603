import numpy as np
import pandas as pd
import pytest
from tests.helpers.osv5m_testdata import jpeg_bytes

from geovario.csvtable import read_geo_csv
from geovario.data.csvfolder import load_csv_folder
from geovario.data.samples import MissingImageError
from geovario.errors import GeovarioError


@pytest.fixture
def folder(tmp_path):
    images = tmp_path / "images"
    (images / "sub").mkdir(parents=True)
    for k, name in enumerate(["a.jpg", "sub/b.jpg", "c.jpg"]):
        (images / name).write_bytes(jpeg_bytes(k))
    elsewhere = tmp_path / "elsewhere.jpg"
    elsewhere.write_bytes(jpeg_bytes(9))
    return images, elsewhere


def test_paths_relative_or_absolute_with_lat_lon_aliases(folder, tmp_path):
    images, elsewhere = folder
    csv = tmp_path / "meta.csv"
    pd.DataFrame({"path": ["a.jpg", "sub/b.jpg", str(elsewhere), "gone.jpg"],
                  "LAT": [1.5, -2.25, 90, 3], "LON": [10, 20, 180, 4],
                  "unique_country": ["FR", "NA", "", "DE"],
                  "notes": ["x", "y", "z", "w"]}).to_csv(csv, index=False)
    table = load_csv_folder(images, csv)
    assert table.ids.tolist() == ["a.jpg", "sub/b.jpg", str(elsewhere), "gone.jpg"]
    np.testing.assert_array_equal(table.coords, [[1.5, 10], [-2.25, 20], [90, 180], [3, 4]])
    assert table.labels["unique_country"].tolist() == ["FR", "NA", None, "DE"]
    assert table.reader.read(1) == jpeg_bytes(1)
    assert table.reader.read(2) == jpeg_bytes(9)
    with pytest.raises(MissingImageError, match=r"gone.jpg: No such file"):
        table.reader.read(3)


def test_ids_name_files_and_chosen_labels_are_copied(folder, tmp_path):
    images, _ = folder
    csv = tmp_path / "meta.csv"
    pd.DataFrame({"id": ["a", "c"], "lat": [1, 2], "lon": [3, 4],
                  "region": ["r1", "r2"]}).to_csv(csv, index=False)
    table = load_csv_folder(images, csv, labels=["region"], limit=1)
    assert table.ids.tolist() == ["a"] and table.labels["region"].tolist() == ["r1"]
    assert table.reader.read(0) == jpeg_bytes(0)


def test_id_and_path_together_id_names_the_row(folder, tmp_path):
    images, _ = folder
    csv = tmp_path / "meta.csv"
    pd.DataFrame({"id": ["007"], "path": ["sub/b.jpg"], "latitude": ["bad"],
                  "longitude": [5]}).to_csv(csv, index=False)
    table = load_csv_folder(images, csv)
    assert table.ids.tolist() == ["007"] and list(table.labels) == []
    assert np.isnan(table.coords[0, 0]) and not table.valid_coords()[0]
    assert table.reader.read(0) == jpeg_bytes(1)


@pytest.mark.parametrize("columns, match", [
    ({"file": ["a.jpg"], "lat": [1], "lon": [2]},
     r"meta.csv: no column 'path' or 'id' \(columns: file, lat, lon\)"),
    ({"path": ["a.jpg"], "lon": [2]},
     r"meta.csv: no column 'latitude' or 'lat' \(columns: path, lon\)"),
    ({"path": ["a.jpg"], "y": [1], "longitude": [2]}, r"no column 'latitude'"),
    ({"id": ["a", "b", "a"], "lat": [1, 2, 3], "lon": [1, 2, 3]},
     r"meta.csv: 1 duplicated ids in column 'id' \(first: a\)"),
    ({"id": ["a", " "], "lat": [1, 2], "lon": [1, 2]},
     r"meta.csv: 1 empty ids in column 'id' at lines 3"),
])
def test_bad_csv_is_a_one_line_error(folder, tmp_path, columns, match):
    images, _ = folder
    csv = tmp_path / "meta.csv"
    pd.DataFrame(columns).to_csv(csv, index=False)
    with pytest.raises(GeovarioError, match=match):
        load_csv_folder(images, csv)


def test_missing_label_column_folder_and_file(folder, tmp_path):
    images, _ = folder
    csv = tmp_path / "meta.csv"
    pd.DataFrame({"id": ["a"], "lat": [1], "lon": [2]}).to_csv(csv, index=False)
    with pytest.raises(GeovarioError, match=r"meta.csv: no column 'city'"):
        load_csv_folder(images, csv, labels=["city"])
    with pytest.raises(GeovarioError, match=r"csv: .*nope: no such directory"):
        load_csv_folder(tmp_path / "nope", csv)
    with pytest.raises(GeovarioError, match=r"none.csv: no such file"):
        load_csv_folder(images, tmp_path / "none.csv")
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(GeovarioError, match=r"empty.csv: not a readable CSV"):
        read_geo_csv(tmp_path / "empty.csv")
