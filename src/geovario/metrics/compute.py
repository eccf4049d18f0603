"""All OSV-5M metrics in one call, in one fixed key order (what evaluation loops log)."""

import math

from geovario.metrics.admin import ADMIN_KEYS, admin_metrics
from geovario.metrics.distance import DISTANCE_KEYS, as_coords, distance_metrics

METRIC_KEYS = DISTANCE_KEYS + ADMIN_KEYS


def compute_metrics(pred_coords, true_coords, true_labels=None) -> dict[str, float]:
    """Distance metrics, plus admin-level accuracies when true labels are given.

    Args:
        pred_coords: (N, 2) predicted latitude/longitude in degrees (numpy, list or torch).
        true_coords: (N, 2) true latitude/longitude in degrees, same row order.
        true_labels: optional DataFrame or mapping with OSV-5M's ``unique_*`` columns.

    Returns:
        Keys in :data:`METRIC_KEYS` order: ``n``, the distance metrics, then (with labels)
        ``acc_country``, ``acc_region``, ``acc_subregion``, ``acc_city``.

    Raises:
        GeovarioError: from :func:`distance_metrics` or :func:`admin_metrics`.
    """
    pred = as_coords(pred_coords, source="compute_metrics: pred_coords")
    out = distance_metrics(pred, true_coords)
    if true_labels is not None:
        out.update(admin_metrics(pred, true_labels))
    return out


def format_metric(key: str, value) -> str:
    """A metric as geovario prints it: accuracies in %, km with 2 decimals, "n/a" if undefined.

    An accuracy is undefined (NaN, or None in JSON) when no row of its level has a true label.
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    if key == "n":
        return f"{int(value):d}"
    if key.startswith("acc_"):
        return f"{100 * value:.2f} %"
    return f"{value:.2f} km" if key.endswith("_km") else f"{value:.2f}"
