"""``geovario evaluate``: OSV-5M metrics of a trained run on a test feature store."""

import argparse
from pathlib import Path

from geovario.commands.metrics import format_table, to_json
from geovario.commands.options import add_device, add_quiet
from geovario.commands.run_options import add_backbone_override, add_gallery, add_run


def register(parser: argparse.ArgumentParser) -> None:
    """Add the ``evaluate`` command."""
    parser.description = (
        "Predict every image of a test store against a gallery and print the "
        "OSV-5M metrics; per-image predictions go to RUN/predictions-<store>.csv (for a "
        "run on the Hub or geoclip, to ./predictions-<store>.csv).")
    add_run(parser)
    parser.add_argument("--store", type=Path, required=True, help="test feature store")
    add_gallery(parser)
    add_backbone_override(parser)
    parser.add_argument("--refine", type=int, default=None, metavar="K",
                        help="predict the probability-weighted mean of the top K on the sphere")
    parser.add_argument("--predictions", type=Path, default=None,
                        help="per-image CSV (default RUN/predictions-<store name>.csv, or in "
                        "the current folder for a run on the Hub or geoclip)")
    add_device(parser, "the model and the gallery")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    add_quiet(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Evaluate and print."""
    from geovario.inference.evaluate import evaluate
    from geovario.inference.predictor import Predictor

    progress = not (args.json or args.quiet)
    predictor = Predictor(args.run, device=args.device, gallery=args.gallery,
                          backbone=args.backbone, progress=progress)
    folder = predictor.run.own_folder or Path()  # the Hub cache and the package are not ours
    out = args.predictions or folder / f"predictions-{args.store.resolve().name}.csv"
    metrics = evaluate(predictor, args.store, refine=args.refine, predictions_csv=out,
                       progress=progress)
    print(to_json(metrics) if args.json else format_table(metrics))
    return 0
