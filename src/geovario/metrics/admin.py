"""Country / region / sub-region / city accuracy of OSV-5M, by offline reverse geocoding.

Checked against OSV-5M's official ``metrics/utils.py`` (``reverse``) and
``metrics/distance_based.py`` in github.com/gastruc/osv5m: the PREDICTED point is
reverse-geocoded with ``reverse_geocoder`` (nearest GeoNames place over 1000 inhabitants)
and turned into the same strings as the dataset's ``unique_*`` columns, joined by "_"
with "" for an absent field::

    unique_country    = cc
    unique_region     = admin1 _ cc
    unique_sub-region = admin2 _ admin1 _ cc
    unique_city       = name _ admin2 _ admin1 _ cc

Accuracy is the share of equal strings among the rows whose true label is present
(official: ``count_{area}`` is the number of unmasked rows).

Two deliberate differences, both about missing labels:

- the official mask is ``label != "nan"`` while its loader fills gaps with ``"NaN"``,
  so there missing rows would count as misses; here a real NaN/None, ``""``, ``"nan"``
  and ``"NaN"`` (any case, surrounding spaces ignored) are all left out;
- if every true label of a level is missing the accuracy is NaN (official: 0/0), which
  the CLI writes as ``null`` in JSON.

The labelling itself (:func:`geovario.geo.geonames.predicted_labels`) lives beside the
GeoNames loader, which datasets use too.
"""

from collections.abc import Mapping

import numpy as np
import pandas as pd

from geovario.csvtable import LABEL_COLUMNS, missing_label_mask
from geovario.errors import GeovarioError
from geovario.geo.geonames import predicted_labels
from geovario.metrics.distance import as_coords

ADMIN_LEVELS = tuple(zip(
    ("acc_country", "acc_region", "acc_subregion", "acc_city"), LABEL_COLUMNS, strict=True))
ADMIN_KEYS = tuple(key for key, _ in ADMIN_LEVELS)


def level_accuracy(predicted: np.ndarray, true_labels) -> float:
    """Share of equal labels among rows with a true label; NaN when none has one."""
    true = np.asarray(true_labels, dtype=object).reshape(-1)
    keep = ~missing_label_mask(true)
    if not keep.any():
        return float("nan")
    hits = predicted[keep] == true[keep].astype(str)
    return float(np.count_nonzero(hits) / keep.sum())


def _label_columns(true_labels, n: int) -> dict[str, np.ndarray]:
    """The four ``unique_*`` columns of a DataFrame or mapping, each checked to have n rows."""
    if not isinstance(true_labels, pd.DataFrame | Mapping):
        raise GeovarioError(f"admin_metrics: true_labels must be a DataFrame or a mapping of "
                            f"{', '.join(LABEL_COLUMNS)}, got {type(true_labels).__name__}")
    columns = {}
    for column in LABEL_COLUMNS:
        if column not in true_labels:
            raise GeovarioError(f"admin_metrics: true_labels has no column '{column}' "
                                f"(needs {', '.join(LABEL_COLUMNS)})")
        values = np.asarray(true_labels[column], dtype=object).reshape(-1)
        if len(values) != n:
            raise GeovarioError(f"admin_metrics: true_labels['{column}'] has {len(values)} "
                                f"rows but pred_coords has {n}")
        columns[column] = values
    return columns


def admin_metrics(pred_coords, true_labels) -> dict[str, float]:
    """Country, region, sub-region and city accuracy (fractions) of predicted points.

    Args:
        pred_coords: (N, 2) predicted latitude/longitude in degrees (numpy, list or torch).
        true_labels: DataFrame or mapping with OSV-5M's ``unique_country``,
            ``unique_region``, ``unique_sub-region`` and ``unique_city``, N rows each.

    Returns:
        ``acc_country``, ``acc_region``, ``acc_subregion``, ``acc_city`` in that order;
        each is NaN when no row of that level has a true label.

    Raises:
        GeovarioError: "admin_metrics: true_labels has no column '...'" or "... has N rows
            but pred_coords has M", a wrong true_labels type, or invalid coordinates.
    """
    coords = as_coords(pred_coords, source="admin_metrics: pred_coords")
    truth = _label_columns(true_labels, len(coords))
    predicted = predicted_labels(coords)
    return {key: level_accuracy(predicted[column], truth[column])
            for key, column in ADMIN_LEVELS}
