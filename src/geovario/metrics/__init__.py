"""OSV-5M evaluation metrics, vectorised: distances, GeoScore, accuracies, admin levels."""

from geovario.metrics.admin import ADMIN_KEYS, LABEL_COLUMNS, admin_metrics, predicted_labels
from geovario.metrics.compute import METRIC_KEYS, compute_metrics
from geovario.metrics.distance import (
    DISTANCE_KEYS,
    GEOSCORE_SCALE_KM,
    THRESHOLDS_KM,
    distance_metrics,
    errors_km,
    summarize_errors_km,
)
from geovario.metrics.io import CoordTable, align_on_id, read_predictions, read_truth

__all__ = [
    "ADMIN_KEYS",
    "DISTANCE_KEYS",
    "GEOSCORE_SCALE_KM",
    "LABEL_COLUMNS",
    "METRIC_KEYS",
    "THRESHOLDS_KM",
    "CoordTable",
    "admin_metrics",
    "align_on_id",
    "compute_metrics",
    "distance_metrics",
    "errors_km",
    "predicted_labels",
    "read_predictions",
    "read_truth",
    "summarize_errors_km",
]
