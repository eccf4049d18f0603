import numpy as np
import pytest

from geovario.errors import GeovarioError
from geovario.metrics import LABEL_COLUMNS, align_on_id, read_predictions, read_truth

LABEL_HEADER = ",".join(LABEL_COLUMNS)


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    return path


@pytest.mark.parametrize("header", ["id,latitude,longitude", "id,lat,lon", "id,LAT,LON",
                                    "LON,id,LAT,extra"])
def test_coordinate_column_aliases(tmp_path, header):
    names = header.split(",")
    values = {"id": "a", "latitude": "10.5", "lat": "10.5", "LAT": "10.5",
              "longitude": "-20.25", "lon": "-20.25", "LON": "-20.25", "extra": "x"}
    path = write(tmp_path, "p.csv", header + "\n" + ",".join(values[n] for n in names) + "\n")
    table = read_predictions(path)
    assert list(table.ids) == ["a"]
    np.testing.assert_array_equal(table.coords, [[10.5, -20.25]])


def test_ids_stay_strings(tmp_path):
    path = write(tmp_path, "p.csv", "id,lat,lon\n007,0,0\n7,1,1\n9007199254740993,2,2\n")
    assert list(read_predictions(path).ids) == ["007", "7", "9007199254740993"]


def test_truth_labels_read_verbatim(tmp_path):
    path = write(tmp_path, "t.csv", f"id,latitude,longitude,{LABEL_HEADER}\n"
                                    "1,-22.5,17.0,NA,Khomas_NA,,NaN\n")
    labels = read_truth(path, admin=True).labels
    assert list(labels.columns) == list(LABEL_COLUMNS)
    assert list(labels.iloc[0]) == ["NA", "Khomas_NA", None, None]  # "NA" is Namibia
    assert read_truth(path).labels is None


def test_align_on_id_follows_prediction_order(tmp_path):
    pred = read_predictions(write(tmp_path, "p.csv", "id,lat,lon\nb,2,2\na,1,1\n"))
    truth = read_truth(write(tmp_path, "t.csv", f"id,latitude,longitude,{LABEL_HEADER}\n"
                                                "a,10,10,A,,,\nb,20,20,B,,,\n"), admin=True)
    pred_coords, true_coords, labels = align_on_id(pred, truth)
    np.testing.assert_array_equal(pred_coords, [[2, 2], [1, 1]])
    np.testing.assert_array_equal(true_coords, [[20, 20], [10, 10]])
    assert list(labels["unique_country"]) == ["B", "A"]


def test_align_raises_with_counts_and_first_ids(tmp_path):
    pred = read_predictions(write(tmp_path, "p.csv", "id,lat,lon\na,0,0\nx,0,0\ny,0,0\n"))
    truth = read_truth(write(tmp_path, "t.csv", "id,lat,lon\na,0,0\nz,0,0\n"))
    with pytest.raises(GeovarioError, match=r"p\.csv and .*t\.csv have different ids: "
                                            r"2 only in .*p\.csv \(first: x, y\), "
                                            r"1 only in .*t\.csv \(first: z\)$"):
        align_on_id(pred, truth)


def test_raises_no_such_file(tmp_path):
    with pytest.raises(GeovarioError, match=r"missing\.csv: no such file"):
        read_predictions(tmp_path / "missing.csv")


def test_raises_on_directory(tmp_path):
    with pytest.raises(GeovarioError, match=r": cannot read \("):
        read_predictions(tmp_path)


@pytest.mark.parametrize("content", [b"", b"id,lat,lon\n\xff\xfe,1,2\n"])
def test_raises_not_a_readable_csv(tmp_path, content):
    path = tmp_path / "bad.csv"
    path.write_bytes(content)
    with pytest.raises(GeovarioError, match=r"bad\.csv: not a readable CSV \("):
        read_predictions(path)


def test_raises_on_missing_column(tmp_path):
    path = write(tmp_path, "p.csv", "id,lat,long\na,0,0\n")
    with pytest.raises(GeovarioError, match=r"p\.csv: no column 'longitude' or 'lon' or 'lng' "
                                            r"\(columns: id, lat, long\)"):
        read_predictions(path)


def test_lng_is_a_longitude_as_in_every_reader(tmp_path):
    table = read_predictions(write(tmp_path, "p.csv", "id,Lat,LNG\na,1.5,-2.5\n"))
    assert table.coords.tolist() == [[1.5, -2.5]]


def test_raises_on_missing_label_column(tmp_path):
    path = write(tmp_path, "t.csv", "id,lat,lon,unique_country\na,0,0,FR\n")
    with pytest.raises(GeovarioError, match=r"t\.csv: no column 'unique_region'"):
        read_truth(path, admin=True)


def test_raises_on_ambiguous_column(tmp_path):
    path = write(tmp_path, "p.csv", "id,lat,LAT,lon\na,0,0,0\n")
    with pytest.raises(GeovarioError, match=r"p\.csv: ambiguous columns lat, LAT for 'lat'"):
        read_predictions(path)


def test_raises_on_no_rows(tmp_path):
    with pytest.raises(GeovarioError, match=r"p\.csv: no rows"):
        read_predictions(write(tmp_path, "p.csv", "id,lat,lon\n"))


def test_raises_on_empty_id(tmp_path):
    path = write(tmp_path, "p.csv", "id,lat,lon\na,0,0\n,1,1\n")
    with pytest.raises(GeovarioError, match=r"p\.csv: 1 empty ids in column 'id' at lines 3"):
        read_predictions(path)


def test_raises_on_duplicated_ids(tmp_path):
    path = write(tmp_path, "p.csv", "id,lat,lon\na,0,0\nb,1,1\na,2,2\nb,3,3\n")
    with pytest.raises(GeovarioError, match=r"p\.csv: 2 duplicated ids in column 'id' "
                                            r"\(first: a, b\)"):
        read_predictions(path)


def test_raises_on_non_number(tmp_path):
    path = write(tmp_path, "p.csv", "id,lat,lon\na,0,0\nb,north,1\n")
    with pytest.raises(GeovarioError, match=r"p\.csv: column 'lat' has 1 non-numbers, "
                                            r"first 'north' at id b \(line 3\)"):
        read_predictions(path)


@pytest.mark.parametrize("row", ["b,,1", "b,NaN,1", "b,95,1", "b,0,-181"])
def test_raises_on_missing_or_out_of_range_coordinates(tmp_path, row):
    path = write(tmp_path, "p.csv", f"id,lat,lon\na,0,0\n{row}\n")
    with pytest.raises(GeovarioError, match=r"p\.csv: 1 invalid coordinates .* at ids b "):
        read_predictions(path)
