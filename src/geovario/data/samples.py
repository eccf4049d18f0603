"""What extraction needs from any dataset: metadata rows in a fixed order and an image reader.

Every dataset (OSV-5M zip shards, a CSV + image folder, Blue Marble) reads its CSV with
:func:`geovario.csvtable.read_geo_csv` (bad coordinates kept as NaN) into a
``SampleTable``: ids, coordinates and label strings in the dataset's own order, and a
picklable, thread-safe ``ImageReader`` that returns the encoded bytes of row ``i`` in
extraction's decoding threads. Bad rows are kept, not dropped: extraction skips and reports them.
"""

from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
import pandas as pd

REASON_CORRUPT = "corrupt image"
REASON_MISSING = "missing image"
REASON_COORDS = "invalid coordinates"
SKIP_REASONS = (REASON_CORRUPT, REASON_MISSING, REASON_COORDS)


class MissingImageError(Exception):
    """An image a row refers to is not there (raised by readers, counted by extraction)."""


class ImageReader(Protocol):
    """Reads one row's encoded image; called from several decoding threads at once."""

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


def table_from_frame(frame: pd.DataFrame, *, source: str, reader: ImageReader,
                     id_column: str = "id") -> SampleTable:
    """A SampleTable from ``csvtable.read_geo_csv``'s frame (labels: columns after longitude)."""
    columns = list(frame.columns)
    labels = columns[columns.index("longitude") + 1:]
    return SampleTable(
        source=source,
        ids=frame[id_column].to_numpy(dtype=object),
        coords=frame[["latitude", "longitude"]].to_numpy(dtype=np.float64),
        reader=reader,
        labels={c: frame[c].to_numpy(dtype=object) for c in labels},
    )
