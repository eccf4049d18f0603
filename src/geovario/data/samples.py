"""What extraction needs from any dataset: metadata rows in a fixed order and an image reader.

Every dataset (OSV-5M zip shards, a CSV + image folder, Blue Marble) is loaded into a
``SampleTable``: ids, coordinates and label strings in the dataset's own order, and a
picklable ``ImageReader`` that returns the encoded bytes of row ``i`` inside a
DataLoader worker. Bad rows are kept, not dropped: extraction skips and reports them.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import numpy as np
import pandas as pd

from geovario.errors import GeovarioError

# OSV-5M's label columns (ISO country, admin1, admin2, city), copied into the store when present.
LABEL_COLUMNS = ("unique_country", "unique_region", "unique_sub-region", "unique_city")
# Label strings that mean "missing": an empty cell, and the official loader's fill value.
MISSING_LABELS = ("", "NaN")

REASON_CORRUPT = "corrupt image"
REASON_MISSING = "missing image"
REASON_COORDS = "invalid coordinates"
SKIP_REASONS = (REASON_CORRUPT, REASON_MISSING, REASON_COORDS)

_LATITUDE = ("latitude", "lat")
_LONGITUDE = ("longitude", "lon", "lng")


class MissingImageError(Exception):
    """An image a row refers to is not there (raised by readers, counted by extraction)."""


class ImageReader(Protocol):
    """Reads one row's encoded image; built in the main process, used in DataLoader workers."""

    def available(self, rows: np.ndarray) -> np.ndarray:
        """Cheap check in the main process: False where the image is known to be missing."""

    def read(self, row: int) -> bytes:
        """The encoded image of ``row``; raises MissingImageError when it is not there."""


@dataclass(frozen=True)
class SampleTable:
    """A dataset in its fixed order: row ``i`` is ``ids[i]``, ``coords[i]``, ``labels[c][i]``.

    Attributes:
        source: what to name in messages (the CSV file).
        ids: unique non-empty id strings (object array).
        coords: (N, 2) float64 latitude/longitude in degrees; NaN or out of range where the
            CSV was bad (those rows are skipped at extraction).
        reader: reads row ``i``'s image bytes.
        labels: label column -> object array of str, None where missing.
    """

    source: str
    ids: np.ndarray
    coords: np.ndarray
    reader: ImageReader
    labels: dict[str, np.ndarray] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.ids)

    def valid_coords(self) -> np.ndarray:
        """Boolean mask of rows with finite coordinates, |lat| <= 90 and |lon| <= 180."""
        lat, lon = self.coords[:, 0], self.coords[:, 1]
        with np.errstate(invalid="ignore"):
            return np.isfinite(self.coords).all(axis=1) & (np.abs(lat) <= 90) & (np.abs(lon) <= 180)


def _find(columns: Sequence[str], names: Sequence[str]) -> str | None:
    """The first column whose lower-cased name is one of ``names``."""
    lowered = {c.lower(): c for c in reversed(list(columns))}
    return next((lowered[n] for n in names if n in lowered), None)


def read_header(csv: str | Path) -> list[str]:
    """The column names of a CSV file.

    Raises:
        GeovarioError: "<csv>: no such file"; "<csv>: cannot read CSV ...".
    """
    csv = Path(csv)
    if not csv.is_file():
        raise GeovarioError(f"{csv}: no such file")
    try:
        return [str(c) for c in pd.read_csv(csv, nrows=0).columns]
    except (OSError, ValueError, pd.errors.ParserError) as error:
        raise GeovarioError(f"{csv}: cannot read CSV: {error}") from None


def read_metadata(csv: str | Path, *, keys: Sequence[str] = ("id",),
                  labels: Sequence[str] | None = None, limit: int | None = None) -> pd.DataFrame:
    """Read a metadata CSV into columns ``*keys, latitude, longitude, *labels``, in file order.

    Keys and labels are read as raw strings (ids stay strings, ``"NA"`` stays Namibia);
    labels in ``MISSING_LABELS`` become None. Coordinates are parsed as floats (also from
    ``lat``/``lon``/``lng`` in any case); unparsable ones become NaN, to be skipped later.

    Args:
        csv: the CSV file.
        keys: string columns that must exist (e.g. ``("id",)`` or ``("path",)``).
        labels: label columns to copy (all must exist); None takes the ``LABEL_COLUMNS``
            present.
        limit: read only the first ``limit`` rows.

    Raises:
        GeovarioError: "<csv>: no such file"; "<csv>: cannot read CSV ..."; "<csv>: missing
            column 'X' (columns: ...)"; "<csv>: line L: empty 'id'"; "<csv>: duplicate id
            'X' at lines L1 and L2".
    """
    csv = Path(csv)
    header = read_header(csv)
    lat, lon = _find(header, _LATITUDE), _find(header, _LONGITUDE)
    wanted = [c for c in LABEL_COLUMNS if c in header] if labels is None else list(labels)
    for name, found in [*((k, k if k in header else None) for k in keys),
                        ("latitude", lat), ("longitude", lon),
                        *((c, c if c in header else None) for c in wanted)]:
        if found is None:
            raise GeovarioError(f"{csv}: missing column {name!r} (columns: {', '.join(header)})")
    strings = [*keys, *wanted]
    try:
        frame = pd.read_csv(csv, usecols=[*strings, lat, lon], nrows=limit,
                            dtype={c: str for c in [*strings, lat, lon]},
                            keep_default_na=False, na_filter=False)
    except (OSError, ValueError, pd.errors.ParserError) as error:
        raise GeovarioError(f"{csv}: cannot read CSV: {error}") from None
    out = pd.DataFrame({k: frame[k].str.strip() for k in keys})
    out["latitude"] = pd.to_numeric(frame[lat].str.strip(), errors="coerce").astype(np.float64)
    out["longitude"] = pd.to_numeric(frame[lon].str.strip(), errors="coerce").astype(np.float64)
    for column in wanted:
        out[column] = frame[column].astype(object).where(~frame[column].isin(MISSING_LABELS), None)
    key = keys[0]
    empty = np.flatnonzero(out[key].to_numpy() == "")
    if empty.size:
        raise GeovarioError(f"{csv}: line {empty[0] + 2}: empty {key!r}")
    duplicated = np.flatnonzero(out[key].duplicated(keep=False).to_numpy())
    if duplicated.size:
        first = out[key].iloc[duplicated[0]]
        lines = [r + 2 for r in duplicated if out[key].iloc[r] == first][:2]
        raise GeovarioError(f"{csv}: duplicate {key} {first!r} at lines {lines[0]} and "
                            f"{lines[1]}")
    return out


def table_from_frame(frame: pd.DataFrame, *, source: str, reader: ImageReader,
                     id_column: str = "id") -> SampleTable:
    """Build a SampleTable from ``read_metadata``'s frame (labels: columns after longitude)."""
    columns = list(frame.columns)
    labels = columns[columns.index("longitude") + 1:]
    return SampleTable(
        source=source,
        ids=frame[id_column].to_numpy(dtype=object),
        coords=frame[["latitude", "longitude"]].to_numpy(dtype=np.float64),
        reader=reader,
        labels={c: frame[c].to_numpy(dtype=object) for c in labels},
    )
