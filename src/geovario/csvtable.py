"""The one reader of geotagged CSVs: dataset metadata, predictions, ground truth, galleries.

Every CSV geovario reads has rows with latitude/longitude in degrees (``latitude`` /
``longitude``, or ``lat`` / ``lon`` / ``lng``, in any case, surrounding spaces ignored),
usually an ``id`` column and sometimes OSV-5M's ``unique_*`` labels. Everything is read
as text first: ids stay strings (``"0012"`` is not ``12``, and a 64-bit id never goes
through a float), and a label "NA" stays Namibia's ISO code instead of becoming NaN.
A label that is empty or ``nan`` in any case (OSV-5M's loader writes gaps as ``"NaN"``)
is missing: None. Lines are counted as in a text editor, the header being line 1.

Bad coordinates are an error naming the row, except where a long job reads them
(extraction, ``bad_coords="nan"``): there they become NaN, and the row is skipped and
counted instead of stopping the job.
"""

from collections.abc import Sequence
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from geovario.errors import GeovarioError, input_error
from geovario.geo.validate import validate_coords

#: Accepted names of the coordinate columns, in order of preference.
COORDINATE_NAMES = {"latitude": ("latitude", "lat"), "longitude": ("longitude", "lon", "lng")}
#: OSV-5M's label columns: ISO country, admin1, admin2, city.
LABEL_COLUMNS = ("unique_country", "unique_region", "unique_sub-region", "unique_city")
#: Label cells that mean "no label", compared trimmed and lower-cased.
MISSING_LABELS = frozenset({"", "nan"})
MAX_LISTED = 5


def listed(values) -> str:
    """The first few values, comma-separated, with "..." when there are more."""
    values = list(values)
    head = ", ".join(str(v) for v in values[:MAX_LISTED])
    return head + (", ..." if len(values) > MAX_LISTED else "")


def read_text_csv(path: Path, **options) -> pd.DataFrame:
    """The CSV with every cell as a string and no NA guessing, or a one-line error."""
    try:
        return pd.read_csv(path, dtype=str, keep_default_na=False, na_filter=False, **options)
    except FileNotFoundError:
        raise input_error(path, "no such file") from None
    except OSError as error:
        raise input_error(path, "cannot read", cause=error) from None
    except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError,
            ValueError) as error:
        raise input_error(path, "not a readable CSV", cause=error) from None


def read_header(path: str | Path) -> list[str]:
    """The column names of a CSV file."""
    return [str(name) for name in read_text_csv(Path(path), nrows=0).columns]


def find_column(path: Path, header: Sequence[str], names: Sequence[str]) -> str | None:
    """The header name matching the first of ``names`` found (case and spaces ignored)."""
    for name in names:
        matches = [column for column in header if column.strip().lower() == name.lower()]
        if len(matches) > 1:
            raise GeovarioError(f"{path}: ambiguous columns {listed(matches)} for '{name}'")
        if matches:
            return matches[0]
    return None


def require_column(path: Path, header: Sequence[str], names: Sequence[str]) -> str:
    """:func:`find_column`, or a one-line error naming what is missing and what is there."""
    found = find_column(path, header, names)
    if found is None:
        raise GeovarioError(f"{path}: no column {' or '.join(repr(n) for n in names)} "
                            f"(columns: {listed(header)})")
    return found


def missing_label_mask(labels) -> np.ndarray:
    """True where a label is missing: None/NaN, or a cell in :data:`MISSING_LABELS`."""
    series = pd.Series(np.asarray(labels, dtype=object).reshape(-1), dtype=object)
    text = series.astype(str).str.strip().str.lower()
    return (series.isna() | text.isin(MISSING_LABELS)).to_numpy()


def _keys(path: Path, column: pd.Series, name: str) -> pd.Series:
    """A key column as trimmed strings, refusing empty and duplicated keys."""
    keys = column.str.strip()
    empty = np.flatnonzero((keys == "").to_numpy())
    if len(empty):
        raise GeovarioError(f"{path}: {len(empty)} empty ids in column '{name}' at lines "
                            f"{listed(empty + 2)}")
    duplicated = keys[keys.duplicated()].unique()
    if len(duplicated):
        raise GeovarioError(f"{path}: {len(duplicated)} duplicated ids in column '{name}' "
                            f"(first: {listed(duplicated)})")
    return keys


def _floats(path: Path, column: pd.Series, ids, strict: bool) -> np.ndarray:
    """A coordinate column as float64; empty cells are NaN, other non-numbers too or an error."""
    text = column.str.strip()
    values = pd.to_numeric(text.where(text != "", "nan"), errors="coerce").to_numpy(np.float64)
    bad = np.flatnonzero(np.isnan(values) & ~text.str.lower().isin(["", "nan"]).to_numpy())
    if strict and len(bad):
        i = bad[0]
        raise GeovarioError(f"{path}: column '{column.name}' has {len(bad)} non-numbers, "
                            f"first {text.iloc[i]!r} at id {ids[i]} (line {i + 2})")
    return values


def read_geo_csv(path: str | Path, *, keys: Sequence[str] = ("id",),
                 labels: Sequence[str] | None = (), limit: int | None = None,
                 bad_coords: Literal["raise", "nan"] = "raise") -> pd.DataFrame:
    """Read ``*keys, latitude, longitude, *labels`` from a CSV, in file order.

    Args:
        keys: string columns that must exist; the first names the rows and must be
            unique and non-empty. With no keys, the rows get an ``id`` column
            ``line N``.
        labels: label columns to copy (all must exist); None takes the
            :data:`LABEL_COLUMNS` present. Missing labels become None.
        limit: read only the first ``limit`` rows.
        bad_coords: ``"raise"`` refuses non-numeric, NaN or out-of-range coordinates,
            naming the rows; ``"nan"`` turns them into NaN for the caller to skip.

    Raises:
        GeovarioError: "<path>: ..." for a missing or unreadable file, a missing or
            ambiguous column, no rows, empty or duplicated ids, or bad coordinates.
    """
    path = Path(path)
    header = read_header(path)
    key_columns = [require_column(path, header, (key,)) for key in keys]
    lat = require_column(path, header, COORDINATE_NAMES["latitude"])
    lon = require_column(path, header, COORDINATE_NAMES["longitude"])
    if labels is None:
        labels = [name for name in LABEL_COLUMNS if find_column(path, header, (name,))]
    label_columns = [require_column(path, header, (name,)) for name in labels]
    frame = read_text_csv(path, usecols=[*key_columns, lat, lon, *label_columns], nrows=limit)
    if frame.empty:
        raise GeovarioError(f"{path}: no rows")
    out = pd.DataFrame({key: _keys(path, frame[column], key) if i == 0
                        else frame[column].str.strip()
                        for i, (key, column) in enumerate(zip(keys, key_columns, strict=True))})
    if not keys:
        out["id"] = [f"line {i + 2}" for i in range(len(frame))]
    ids = out[keys[0] if keys else "id"].to_numpy(dtype=object)
    strict = bad_coords == "raise"
    coords = np.stack([_floats(path, frame[lat], ids, strict),
                       _floats(path, frame[lon], ids, strict)], axis=1)
    if strict:
        coords = validate_coords(coords, source=str(path), ids=ids)
    out["latitude"], out["longitude"] = coords[:, 0], coords[:, 1]
    for name, column in zip(labels, label_columns, strict=True):
        values = frame[column].to_numpy(dtype=object)
        out[name] = pd.Series(np.where(missing_label_mask(values), None, values), dtype=object)
    return out
