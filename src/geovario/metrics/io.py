"""Reading prediction and ground-truth CSVs for the metrics, and pairing them by id.

Both files have an ``id`` column and latitude/longitude in degrees (``latitude`` /
``longitude``, or ``lat`` / ``lon`` in any case, as GeoCLIP's ``LAT`` / ``LON``).
Everything is read as text first: ids stay strings (``"0012"`` is not ``12``, and a
64-bit id never goes through a float), and a label cell "NA" stays Namibia's ISO
code instead of becoming pandas' NaN. Lines are counted as in a text editor, the
header being line 1.
"""

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from geovario.errors import GeovarioError
from geovario.geo import validate_coords
from geovario.metrics.admin import LABEL_COLUMNS

COORD_ALIASES = {"latitude": ("latitude", "lat"), "longitude": ("longitude", "lon")}
MAX_LISTED = 5


@dataclass(frozen=True)
class CoordTable:
    """One CSV's rows: string ids, (N, 2) coordinates and, for truth files, label columns."""

    path: Path
    ids: np.ndarray
    coords: np.ndarray
    labels: pd.DataFrame | None = None


def _listed(values) -> str:
    """The first few values, comma-separated, with "..." when there are more."""
    values = list(values)
    head = ", ".join(str(v) for v in values[:MAX_LISTED])
    return head + (", ..." if len(values) > MAX_LISTED else "")


def _read_text_csv(path: Path, **options) -> pd.DataFrame:
    """The CSV with every cell as a string and no NA guessing, or a one-line error."""
    try:
        return pd.read_csv(path, dtype=str, keep_default_na=False, na_filter=False, **options)
    except FileNotFoundError:
        raise GeovarioError(f"{path}: no such file") from None
    except OSError as error:
        raise GeovarioError(f"{path}: cannot read: {error.strerror or error}") from None
    except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError,
            ValueError) as error:
        reason = (str(error).strip().splitlines() or [type(error).__name__])[0]
        raise GeovarioError(f"{path}: not a readable CSV: {reason}") from None


def _find_column(path: Path, header: list[str], aliases: tuple[str, ...]) -> str:
    """The header name matching the first alias found (case and spaces ignored)."""
    for alias in aliases:
        matches = [name for name in header if name.strip().lower() == alias]
        if len(matches) > 1:
            raise GeovarioError(f"{path}: ambiguous columns {_listed(matches)} for '{alias}'")
        if matches:
            return matches[0]
    raise GeovarioError(f"{path}: no column {' or '.join(repr(a) for a in aliases)} "
                        f"(columns: {_listed(header)})")


def _ids(path: Path, column: pd.Series) -> np.ndarray:
    """The id column as strings, refusing empty and duplicated ids."""
    ids = column.to_numpy(dtype=object)
    empty = np.flatnonzero(column.str.strip() == "")
    if len(empty):
        raise GeovarioError(f"{path}: {len(empty)} empty ids in column 'id' at lines "
                            f"{_listed(empty + 2)}")
    duplicated = column[column.duplicated()].unique()
    if len(duplicated):
        raise GeovarioError(f"{path}: {len(duplicated)} duplicated ids in column 'id' "
                            f"(first: {_listed(duplicated)})")
    return ids


def _floats(path: Path, column: pd.Series, ids: np.ndarray) -> np.ndarray:
    """A coordinate column as float64; empty cells become NaN (caught by validate_coords)."""
    text = column.str.strip()
    values = pd.to_numeric(text.where(text != "", "nan"), errors="coerce").to_numpy(np.float64)
    bad = np.flatnonzero(np.isnan(values) & ~text.str.lower().isin(["", "nan"]).to_numpy())
    if len(bad):
        i = bad[0]
        raise GeovarioError(f"{path}: column '{column.name}' has {len(bad)} non-numbers, "
                            f"first {text.iloc[i]!r} at id {ids[i]} (line {i + 2})")
    return values


def read_coord_csv(path, *, label_columns: tuple[str, ...] = (),
                   id_required: bool = True) -> CoordTable:
    """Read ``id``, latitude, longitude and the given label columns of one CSV.

    Without ``id_required``, a file with no ``id`` column gets its line numbers as ids.

    Raises:
        GeovarioError: "<path>: ..." for a missing or unreadable file, a missing or
            ambiguous column, no rows, empty or duplicated ids, non-numeric cells, or
            NaN / out-of-range coordinates (naming the ids).
    """
    path = Path(path)
    header = [str(name) for name in _read_text_csv(path, nrows=0).columns]
    has_id = id_required or any(name.strip().lower() == "id" for name in header)
    id_col = _find_column(path, header, ("id",)) if has_id else None
    lat_col = _find_column(path, header, COORD_ALIASES["latitude"])
    lon_col = _find_column(path, header, COORD_ALIASES["longitude"])
    label_cols = [_find_column(path, header, (name,)) for name in label_columns]
    frame = _read_text_csv(path, usecols=[c for c in (id_col, lat_col, lon_col, *label_cols)
                                          if c is not None])
    if frame.empty:
        raise GeovarioError(f"{path}: no rows")
    if id_col is None:
        ids = np.array([f"line {i + 2}" for i in range(len(frame))], dtype=object)
    else:
        ids = _ids(path, frame[id_col])
    coords = np.stack([_floats(path, frame[lat_col], ids), _floats(path, frame[lon_col], ids)],
                      axis=1)
    coords = validate_coords(coords, source=str(path), ids=ids)
    labels = None
    if label_columns:
        labels = frame[label_cols].set_axis(list(label_columns), axis=1).reset_index(drop=True)
    return CoordTable(path=path, ids=ids, coords=coords, labels=labels)


def read_predictions(path) -> CoordTable:
    """Predictions: ``id`` and latitude/longitude (or lat/lon, LAT/LON) in degrees.

    Raises:
        GeovarioError: as :func:`read_coord_csv`.
    """
    return read_coord_csv(path)


def read_truth(path, *, admin: bool = False) -> CoordTable:
    """Ground truth: ``id``, latitude/longitude and, with ``admin``, OSV-5M's unique_* columns.

    Raises:
        GeovarioError: as :func:`read_coord_csv`, e.g. "<path>: no column 'unique_city'".
    """
    return read_coord_csv(path, label_columns=LABEL_COLUMNS if admin else ())


def align_on_id(pred: CoordTable, truth: CoordTable
                ) -> tuple[np.ndarray, np.ndarray, pd.DataFrame | None]:
    """Pair rows by id: (pred coords, true coords, true labels), in the predictions' order.

    Raises:
        GeovarioError: "<pred> and <truth> have different ids: N only in <pred> (first:
            ...), M only in <truth> (first: ...)" when either file has ids the other lacks.
    """
    truth_index = pd.Index(truth.ids)
    order = truth_index.get_indexer(pred.ids)
    only_pred = pred.ids[order < 0]
    only_truth = truth.ids[~truth_index.isin(pred.ids)]
    if len(only_pred) or len(only_truth):
        parts = [f"{len(ids)} only in {table.path} (first: {_listed(ids)})"
                 for ids, table in ((only_pred, pred), (only_truth, truth)) if len(ids)]
        raise GeovarioError(f"{pred.path} and {truth.path} have different ids: "
                            f"{', '.join(parts)}")
    labels = None if truth.labels is None else truth.labels.iloc[order].reset_index(drop=True)
    return pred.coords, truth.coords[order], labels
