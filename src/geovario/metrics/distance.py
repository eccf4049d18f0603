"""Distance metrics of OSV-5M: mean and median error, GeoScore, accuracy within r km.

Definitions follow OSV-5M's official ``metrics/distance_based.py`` (``HaversineMetrics``)
and ``metrics/utils.py`` (``haversine``) in github.com/gastruc/osv5m, read for this module:

- d = haversine distance on a sphere of radius 6371 km (official: 2R·atan2(√a, √(1−a)),
  the same value as geovario's 2R·asin(√a));
- the reported "Haversine" is the mean of d;
- "Geoguessr" (GeoScore) = mean of 5000 · exp(−d / 1492.7);
- "Accuracy_{r}_km_radius" = share of images with d < r, strictly.

The official code works in float32 radians; geovario in float64 degrees, so single
distances may differ by rounding (metres at most), which only matters exactly at a radius.
The median is geovario's addition. GeoCLIP's own evaluation (``geoclip/train/eval.py``,
github.com/VicenteVivan/geo-clip) counts ``d <= r`` with geopy's ellipsoidal ``geodesic``;
geovario follows OSV-5M so its numbers compare with OSV-5M's tables.
"""

import numpy as np

from geovario.errors import GeovarioError
from geovario.geo import haversine_km, validate_coords

THRESHOLDS_KM = (1, 25, 200, 750, 2500)
GEOSCORE_MAX = 5000.0
GEOSCORE_SCALE_KM = 1492.7
DISTANCE_KEYS = ("n", "mean_km", "median_km", "geoscore") + tuple(
    f"acc_{r}km" for r in THRESHOLDS_KM)


def as_coords(coords, *, source: str) -> np.ndarray:
    """(N, 2) latitude/longitude in degrees as float64 numpy, from numpy, lists or torch.

    Evaluation loops hold torch tensors (maybe on a GPU, maybe with grad); metrics are
    computed in float64 on the CPU so results do not depend on where the model ran.

    Raises:
        GeovarioError: "<source>: ..." from :func:`geovario.geo.validate_coords` for a
            shape other than (N, 2) or NaN / out-of-range coordinates.
    """
    if type(coords).__module__.startswith("torch"):  # a tensor, without importing torch
        coords = coords.detach().cpu().double().numpy()
    return validate_coords(coords, source=source)


def errors_km(pred_coords, true_coords) -> np.ndarray:
    """Per-image great-circle error in km between predicted and true (lat, lon) in degrees.

    Raises:
        GeovarioError: "errors_km: pred_coords has N rows but true_coords has M" when
            the two do not pair up, or an invalid-coordinate error naming the argument.
    """
    pred = as_coords(pred_coords, source="errors_km: pred_coords")
    true = as_coords(true_coords, source="errors_km: true_coords")
    if len(pred) != len(true):
        raise GeovarioError(f"errors_km: pred_coords has {len(pred)} rows but true_coords "
                            f"has {len(true)}")
    return haversine_km(pred[:, 0], pred[:, 1], true[:, 0], true[:, 1])


def summarize_errors_km(d_km) -> dict[str, float]:
    """Metrics from per-image errors in km, keys in :data:`DISTANCE_KEYS` order.

    Separate from :func:`distance_metrics` for loops that already hold the distances
    (and so the strict ``d < r`` rule can be tested on exact values).

    Raises:
        GeovarioError: "summarize_errors_km: no errors given" for an empty input, or
            "summarize_errors_km: N errors are NaN, negative or infinite".
    """
    d = np.asarray(d_km, dtype=np.float64).reshape(-1)
    if d.size == 0:
        raise GeovarioError("summarize_errors_km: no errors given")
    bad = ~np.isfinite(d) | (d < 0)
    if bad.any():
        raise GeovarioError(f"summarize_errors_km: {int(bad.sum())} errors are NaN, "
                            f"negative or infinite (first at index {int(np.argmax(bad))})")
    return {"n": int(d.size), **{key: float(value)
                                 for key, value in metrics_along_last_axis(d).items()}}


def metrics_along_last_axis(d_km: np.ndarray) -> dict[str, np.ndarray]:
    """The distance metrics (all but ``n``) of each row of errors, for (..., N) arrays.

    Vectorised so that thousands of bootstrap resamples cost one call; inputs are trusted
    (checked by :func:`summarize_errors_km`).
    """
    out = {"mean_km": d_km.mean(axis=-1), "median_km": np.median(d_km, axis=-1),
           "geoscore": np.mean(GEOSCORE_MAX * np.exp(-d_km / GEOSCORE_SCALE_KM), axis=-1)}
    for radius in THRESHOLDS_KM:
        out[f"acc_{radius}km"] = np.count_nonzero(d_km < radius, axis=-1) / d_km.shape[-1]
    return out


def distance_metrics(pred_coords, true_coords) -> dict[str, float]:
    """OSV-5M distance metrics for paired (lat, lon) predictions and truths in degrees.

    Returns ``n``, ``mean_km``, ``median_km``, ``geoscore`` and ``acc_{r}km`` for r in
    :data:`THRESHOLDS_KM`, accuracies as fractions in [0, 1].

    Raises:
        GeovarioError: for unpaired or invalid coordinates (see :func:`errors_km`) or
            no rows at all (see :func:`summarize_errors_km`).
    """
    return summarize_errors_km(errors_km(pred_coords, true_coords))
