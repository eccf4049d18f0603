"""A tiny OSV-5M-shaped folder, generated with a fixed seed (used by tests/data and tests/extract).

Layout: ROOT/<split>.csv and ROOT/images/<split>/00.zip, 01.zip. Shard 00 keeps its
members under ``00/`` (as the official zips); shard 01 under a deeper ``x/01/`` folder,
so readers must match members by base name. Bad rows, one each:

- CORRUPT: its member holds the first half of a JPEG;
- MISSING: in the CSV, in no zip;
- NAN_LAT: latitude left empty in the CSV.

Also: an id with a leading zero (ids are strings), Namibia's code ``NA`` (not a missing
value), an empty label and the official loader's ``NaN`` fill (both missing), and a
zip member that no CSV row refers to.
"""

import io
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image

N_ROWS = 12
CORRUPT, MISSING, NAN_LAT = "100000000000000003", "100000000000000006", "100000000000000010"
LEADING_ZERO = "0100000000000000001"
COUNTRIES = ["FR", "NA", "JP", "BR", "", "US", "DE", "NaN", "IT", "ES", "CA", "MX"]


def jpeg_bytes(seed: int, size: tuple[int, int] = (40, 30)) -> bytes:
    """A small JPEG of smooth random colours, different for every seed."""
    rng = np.random.default_rng(seed)
    coarse = rng.integers(0, 256, (3, 4, 3), dtype=np.uint8)
    image = Image.fromarray(coarse).resize(size, Image.BILINEAR)
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=90)
    return buffer.getvalue()


def make_frame(n: int = N_ROWS, seed: int = 0) -> pd.DataFrame:
    """The metadata table as written to the CSV (strings where the CSV has them)."""
    rng = np.random.default_rng(seed)
    ids = [f"1000000000000000{k:02d}" for k in range(n)]
    ids[1] = LEADING_ZERO
    lat = rng.uniform(-60, 60, n).round(6).astype(str).astype(object)
    lon = rng.uniform(-170, 170, n).round(6).astype(str)
    lat[ids.index(NAN_LAT)] = ""
    return pd.DataFrame({
        "id": ids, "latitude": lat, "longitude": lon,
        "country": [c or "unknown" for c in COUNTRIES[:n]],
        "unique_country": COUNTRIES[:n],
        "unique_city": [f"city{k % 3}_{COUNTRIES[k] or 'x'}" for k in range(n)],
        "land_cover": rng.integers(0, 5, n),
    })


def make_osv5m(root: Path, split: str = "train", n: int = N_ROWS, seed: int = 0) -> pd.DataFrame:
    """Write the folder; return the metadata frame (as in the CSV)."""
    frame = make_frame(n, seed)
    shard_dir = root / "images" / split
    shard_dir.mkdir(parents=True, exist_ok=True)
    frame.to_csv(root / f"{split}.csv", index=False)
    half = n // 2
    for number, (folder, ids) in enumerate([("00/", frame["id"][:half]),
                                            ("x/01/", frame["id"][half:])]):
        with zipfile.ZipFile(shard_dir / f"{number:02d}.zip", "w") as archive:
            archive.writestr(folder, b"")  # a directory entry, as zip tools write
            for k, sample_id in zip(ids.index, ids, strict=True):
                if sample_id == MISSING:
                    continue
                data = jpeg_bytes(seed * 1000 + k)
                if sample_id == CORRUPT:
                    data = data[:len(data) // 2]
                archive.writestr(f"{folder}{sample_id}.jpg", data)
            if number == 1:
                archive.writestr(f"{folder}999.jpg", jpeg_bytes(999))
    return frame


def image_of(frame: pd.DataFrame, sample_id: str, seed: int = 0) -> bytes:
    """The JPEG bytes the fixture wrote for ``sample_id``."""
    return jpeg_bytes(seed * 1000 + int(frame.index[frame["id"] == sample_id][0]))


def good_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """The rows an extraction must keep, in CSV order."""
    return frame[~frame["id"].isin([CORRUPT, MISSING, NAN_LAT])]


if __name__ == "__main__":  # regenerate a copy to look at: python osv5m_testdata.py DIR
    import sys

    make_osv5m(Path(sys.argv[1]))
