"""``geovario metrics PREDICTIONS.csv --truth TRUTH.csv [--admin] [--json]``.

Scores predictions against ground truth with OSV-5M's metrics. ``--json`` prints one
JSON object (NaN written as null) so scripts can read it; otherwise a table.
"""

import argparse
import json

from geovario.fileio import finite_or_none
from geovario.metrics import align_on_id, compute_metrics, read_predictions, read_truth
from geovario.metrics.compute import format_metric


def register(parser: argparse.ArgumentParser) -> None:
    """Add the ``metrics`` sub-command."""
    parser.description = (
        "Mean/median error, GeoScore and accuracy within 1/25/200/750/2500 km "
        "(and, with --admin, country/region/sub-region/city accuracy) of "
        "predictions joined to the ground truth by id.")
    parser.add_argument("predictions", metavar="PREDICTIONS.csv",
                        help="CSV with id and latitude/longitude (or lat/lon, LAT/LON)")
    parser.add_argument("--truth", required=True, metavar="TRUTH.csv",
                        help="CSV with id, latitude/longitude and, for --admin, OSV-5M's "
                             "unique_country, unique_region, unique_sub-region, unique_city")
    parser.add_argument("--admin", action="store_true",
                        help="also score country/region/sub-region/city by reverse geocoding")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Read both files, join on id, compute and print the metrics."""
    pred = read_predictions(args.predictions)
    truth = read_truth(args.truth, admin=args.admin)
    pred_coords, true_coords, true_labels = align_on_id(pred, truth)
    result = compute_metrics(pred_coords, true_coords, true_labels)
    print(to_json(result) if args.json else format_table(result))
    return 0


def to_json(result: dict) -> str:
    """One strict JSON object (no NaN literals), keys in the metrics' order."""
    return json.dumps({key: finite_or_none(value) for key, value in result.items()},
                      allow_nan=False)


def format_table(result: dict) -> str:
    """Aligned ``key  value`` lines, each value as :func:`format_metric` writes it."""
    return "\n".join(f"{key:<14}{format_metric(key, value):>12}" for key, value in result.items())
