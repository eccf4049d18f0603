"""Any image collection described by a CSV: one row per image with its coordinates.

The CSV names each image by ``path`` (relative to the image folder, or absolute) or by
``id`` (the file ``<id>.jpg`` in the folder), and gives ``latitude``/``longitude``
(also accepted: ``lat``/``lon``/``lng`` in any case). With both ``id`` and ``path``,
``id`` names the row and ``path`` the file; with only ``path``, the path is the id.
Label columns (by default OSV-5M's ``unique_*`` columns present) are copied through.
"""

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from geovario.csvtable import find_column, listed, read_geo_csv, read_header
from geovario.data.samples import MissingImageError, SampleTable, table_from_frame
from geovario.errors import GeovarioError


class FileImageReader:
    """Reads row images from files; picklable and thread-safe (one open file per read)."""

    def __init__(self, paths: np.ndarray) -> None:
        self.paths = paths

    def available(self, rows: np.ndarray) -> np.ndarray:
        """Always True: a missing file shows when it is read, while decoding, not by a stat here."""
        return np.ones(len(rows), dtype=bool)

    def read(self, row: int) -> bytes:
        """The bytes of row ``row``'s file.

        Raises:
            MissingImageError: the file does not exist or cannot be opened.
        """
        path = self.paths[row]
        try:
            with open(path, "rb") as fh:
                return fh.read()
        except OSError as error:
            raise MissingImageError(f"{os.fsdecode(path)}: {error.strerror}") from None


def load_csv_folder(root: str | Path, csv: str | Path, *, labels: Sequence[str] | None = None,
                    limit: int | None = None) -> SampleTable:
    """The CSV's rows in file order, with images read from files under ``root``.

    Args:
        root: the image folder that relative paths and ids refer to.
        csv: the metadata CSV.
        labels: label columns to copy; None takes the OSV-5M ``unique_*`` columns present.
        limit: keep the first ``limit`` rows.

    Raises:
        GeovarioError: "csv: <root>: no such directory"; "<csv>: missing column 'path' or
            'id' (columns: ...)"; errors from ``read_geo_csv`` (missing coordinate or label
            column, empty or duplicate id).
    """
    root = Path(root)
    if not root.is_dir():
        raise GeovarioError(f"csv: {root}: no such directory")
    header = read_header(csv)
    keys = tuple(k for k in ("id", "path") if find_column(Path(csv), header, (k,)))
    if not keys:
        raise GeovarioError(f"{csv}: no column 'path' or 'id' (columns: {listed(header)})")
    frame = read_geo_csv(csv, keys=keys, labels=labels, limit=limit, bad_coords="nan")
    names = frame["path"] if "path" in frame else frame["id"] + ".jpg"
    paths = np.array([os.fsencode(root / name) for name in names], dtype=bytes)
    if "id" in frame:
        frame = frame.drop(columns="path", errors="ignore")
    else:  # the path is the id
        frame = frame.rename(columns={"path": "id"})
    return table_from_frame(frame, source=str(csv), reader=FileImageReader(paths))
