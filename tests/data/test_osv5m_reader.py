import pickle
import zipfile

import numpy as np
import pytest
from tests.helpers.osv5m_testdata import (
    CORRUPT,
    LEADING_ZERO,
    MISSING,
    N_ROWS,
    NAN_LAT,
    image_of,
    make_osv5m,
)

from geovario.data.images import CorruptImageError, decode_image
from geovario.data.osv5m import index_members, load_osv5m
from geovario.data.samples import MissingImageError
from geovario.errors import GeovarioError


@pytest.fixture
def osv(tmp_path):
    return tmp_path, make_osv5m(tmp_path)


def test_rows_in_csv_order_with_string_ids_coords_and_raw_labels(osv):
    root, frame = osv
    table = load_osv5m(root, "train")
    assert table.ids.tolist() == frame["id"].tolist()
    assert LEADING_ZERO in table.ids  # read as a string: the leading zero survives
    assert list(table.labels) == ["unique_country", "unique_city"]  # the unique_* present
    country = table.labels["unique_country"].tolist()
    assert country[1] == "NA"  # Namibia, not a missing value
    assert country[4] is None and country[7] is None  # empty cell and the "NaN" fill
    assert country[0] == "FR"
    nan_row = table.ids.tolist().index(NAN_LAT)
    expected = frame[["latitude", "longitude"]].replace("", np.nan).astype(float).to_numpy()
    np.testing.assert_array_equal(table.coords, expected)
    assert np.isnan(table.coords[nan_row, 0])
    assert table.valid_coords().tolist() == [i != NAN_LAT for i in frame["id"]]


def test_reader_returns_member_bytes_and_flags_missing_and_corrupt(osv):
    root, frame = osv
    table = load_osv5m(root, "train")
    ids = table.ids.tolist()
    assert table.reader.available(np.arange(N_ROWS)).tolist() == [i != MISSING for i in ids]
    for row, sample_id in enumerate(ids):
        if sample_id == MISSING:
            with pytest.raises(MissingImageError, match="not in any zip shard"):
                table.reader.read(row)
        elif sample_id == CORRUPT:
            with pytest.raises(CorruptImageError, match="(?i)truncated"):
                decode_image(table.reader.read(row))
        else:
            assert table.reader.read(row) == image_of(frame, sample_id)


def test_members_are_matched_by_base_name_in_any_folder(osv):
    root, _ = osv
    members = index_members(sorted((root / "images" / "train").glob("*.zip")))
    by_id = members.set_index("id")
    assert by_id.loc[LEADING_ZERO, "member"] == f"00/{LEADING_ZERO}.jpg"
    assert by_id.loc["100000000000000011", "member"] == "x/01/100000000000000011.jpg"
    assert by_id.loc["100000000000000011", "shard"] == 1
    assert "999" in by_id.index and MISSING not in by_id.index
    assert not any(m.endswith("/") for m in members["member"])  # directory entries ignored


def test_reader_survives_pickling_and_reopens_its_zips(osv):
    root, frame = osv
    reader = load_osv5m(root, "train").reader
    assert reader.read(0) == image_of(frame, frame["id"][0])  # opens shard 00 here
    clone = pickle.loads(pickle.dumps(reader))
    assert clone._open == {}  # open file handles never travel
    assert clone.read(N_ROWS - 1) == image_of(frame, frame["id"][N_ROWS - 1])


def test_present_only_and_limit(osv):
    root, frame = osv
    table = load_osv5m(root, "train", present_only=True)
    assert MISSING not in table.ids and len(table) == N_ROWS - 1
    assert load_osv5m(root, "train", limit=3).ids.tolist() == frame["id"][:3].tolist()
    kept = load_osv5m(root, "train", present_only=True, limit=7).ids.tolist()
    assert kept == [i for i in frame["id"] if i != MISSING][:7]


def test_labels_can_be_chosen(osv):
    root, frame = osv
    table = load_osv5m(root, "train", labels=["country"])
    expected = [None if c == "NaN" else c for c in frame["country"]]
    assert table.labels["country"].tolist() == expected


@pytest.mark.parametrize("setup, match", [
    (lambda r: r / "nowhere", r"osv5m: .*nowhere: no such directory \(download with: geovario "
                              r"download osv5m --root"),
    (lambda r: (r / "train.csv").unlink() or r, r"osv5m: .*train.csv not found \(download"),
    (lambda r: [p.unlink() for p in (r / "images" / "train").glob("*.zip")] and r,
     r"osv5m: no zip shards in .*images/train \(download"),
])
def test_missing_files_name_the_path_and_the_download_command(osv, setup, match):
    root, _ = osv
    with pytest.raises(GeovarioError, match=match):
        load_osv5m(setup(root), "train")


def test_unknown_split_and_missing_column(osv):
    root, frame = osv
    with pytest.raises(GeovarioError, match="osv5m: unknown split 'val'"):
        load_osv5m(root, "val")
    frame.drop(columns="longitude").to_csv(root / "train.csv", index=False)
    with pytest.raises(GeovarioError,
                       match=r"train.csv: no column 'longitude' or 'lon' or 'lng' \(columns: "):
        load_osv5m(root, "train")


def test_damaged_zip_is_named(osv):
    root, _ = osv
    (root / "images" / "train" / "01.zip").write_bytes(b"PK\x03\x04 not really")
    with pytest.raises(GeovarioError, match=r"01.zip: not a readable zip file .*download it"):
        load_osv5m(root, "train")


def test_member_failing_its_crc_is_corrupt(tmp_path):
    make_osv5m(tmp_path)
    path = tmp_path / "images" / "train" / "00.zip"
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo(f"00/{LEADING_ZERO}.jpg")
    data = bytearray(path.read_bytes())
    start = info.header_offset + 30 + len(info.filename) + len(info.extra)
    data[start + 100] ^= 0xFF  # flip a byte of the stored (uncompressed) member
    path.write_bytes(bytes(data))
    with pytest.raises(CorruptImageError, match="CRC"):
        load_osv5m(tmp_path, "train").reader.read(1)
