"""``geovario evaluate``: OSV-5M metrics of a trained run on a test feature store."""

import argparse
from pathlib import Path

from geovario.commands.metrics import format_table, to_json
from geovario.commands.options import add_device


def register(parser: argparse.ArgumentParser) -> None:
    """Add the ``evaluate`` command."""
    parser.description = (
        "Predict every image of a test store against a gallery and print the "
        "OSV-5M metrics; per-image predictions go to RUN/predictions-<store>.csv (for a "
        "run on the Hub, to ./predictions-<store>.csv).")
    parser.add_argument("run", metavar="RUN",
                        help="run directory, or hf:OWNER/NAME[@REVISION] on the Hugging Face Hub")
    parser.add_argument("--store", type=Path, required=True, help="test feature store")
    parser.add_argument("--gallery", default="geoclip",
                        help="geoclip (published 100K), store:DIR, or a CSV of coordinates")
    parser.add_argument("--refine", type=int, default=None, metavar="K",
                        help="predict the probability-weighted mean of the top K on the sphere")
    parser.add_argument("--predictions", type=Path, default=None,
                        help="per-image CSV (default RUN/predictions-<store name>.csv, or in "
                        "the current folder for a run on the Hub)")
    add_device(parser, "the model and the gallery")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Evaluate and print."""
    from geovario.hub import is_hub_ref
    from geovario.inference.evaluate import evaluate
    from geovario.inference.predictor import Predictor

    predictor = Predictor(args.run, gallery=args.gallery, device=args.device,
                          progress=not args.json)
    folder = Path() if is_hub_ref(args.run) else Path(args.run)  # the Hub cache is not ours
    out = args.predictions or folder / f"predictions-{args.store.resolve().name}.csv"
    metrics = evaluate(predictor, args.store, refine=args.refine, predictions_csv=out,
                       progress=not args.json)
    print(to_json(metrics) if args.json else format_table(metrics))
    return 0
