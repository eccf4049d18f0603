"""Prediction and ground-truth CSVs for the metrics, paired by id.

Both are read by :mod:`geovario.csvtable`: an ``id`` column and latitude/longitude in
degrees (also ``lat`` / ``lon``, as GeoCLIP's ``LAT`` / ``LON``); bad rows are refused.
"""

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from geovario.csvtable import LABEL_COLUMNS, find_column, listed, read_geo_csv, read_header
from geovario.errors import GeovarioError


@dataclass(frozen=True)
class CoordTable:
    """One CSV's rows: string ids, (N, 2) coordinates and, for truth files, label columns."""

    path: Path
    ids: np.ndarray
    coords: np.ndarray
    labels: pd.DataFrame | None = None


def read_coord_csv(path, *, label_columns: tuple[str, ...] = (),
                   id_required: bool = True) -> CoordTable:
    """Read ``id``, latitude, longitude and the given label columns of one CSV.

    Without ``id_required``, a file with no ``id`` column gets its line numbers as ids.

    Raises:
        GeovarioError: as :func:`geovario.csvtable.read_geo_csv`.
    """
    path = Path(path)
    has_id = id_required or find_column(path, read_header(path), ("id",)) is not None
    frame = read_geo_csv(path, keys=("id",) if has_id else (), labels=label_columns)
    labels = frame[list(label_columns)] if label_columns else None
    return CoordTable(path=path, ids=frame["id"].to_numpy(dtype=object),
                      coords=frame[["latitude", "longitude"]].to_numpy(), labels=labels)


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
        parts = [f"{len(ids)} only in {table.path} (first: {listed(ids)})"
                 for ids, table in ((only_pred, pred), (only_truth, truth)) if len(ids)]
        raise GeovarioError(f"{pred.path} and {truth.path} have different ids: "
                            f"{', '.join(parts)}")
    labels = None if truth.labels is None else truth.labels.iloc[order].reset_index(drop=True)
    return pred.coords, truth.coords[order], labels
