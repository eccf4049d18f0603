"""``geovario ablate``: the semivariogram loss's ablation on the same features and seeds."""

import argparse
from pathlib import Path

from geovario.ablation.variants import list_variants
from geovario.commands.train import (
    add_loss_arguments,
    add_training_arguments,
    configs_from_args,
    semivariogram_options,
)


def register(parser: argparse.ArgumentParser) -> None:
    """Add the ``ablate`` command."""
    parser.description = (
        "Train InfoNCE, hard-only, false-only, both and the prototype rule on the same "
        "features with the same seeds, evaluate each on a test store, compare every variant "
        "with the baseline paired by seed (bootstrap intervals over test images), and write "
        "OUT/ablation.md, OUT/ablation.json, OUT/accuracy.png and OUT/paired.png. Rerunning "
        "continues.")
    parser.add_argument("--train-store", type=Path, required=True,
                        help="feature store every variant trains on")
    parser.add_argument("--test-store", type=Path, required=True,
                        help="feature store every variant is evaluated on")
    parser.add_argument("--out", type=Path, required=True,
                        help="folder of the runs (OUT/runs/<variant>-seed<k>) and the report")
    parser.add_argument("--seeds", type=int, default=3,
                        help="seeds 0..N-1; the same seed gives every variant the same "
                        "initialisation and batches")
    parser.add_argument("--variants", default=",".join(list_variants()),
                        help="comma-separated subset of the variants")
    parser.add_argument("--baseline", default="infonce",
                        help="the variant every other one is compared to, paired by seed")
    parser.add_argument("--gallery", default="geoclip",
                        help="geoclip (published 100K), store:DIR, or a CSV of coordinates")
    parser.add_argument("--variogram", type=Path, default=None,
                        help="variogram JSON (default: fitted on a sample of the train store)")
    add_training_arguments(parser)
    add_loss_arguments(parser.add_argument_group(
        "semivariogram loss: the base settings of every semivariogram variant (a variant "
        "overrides what defines it, e.g. hard-only sets --false-negatives none)"))
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run the grid, then write and print the table."""
    from geovario.ablation import compare_to_baseline, run_ablation, summarize, write_report

    model, config = configs_from_args(args, args.train_store)
    variants = [v.strip() for v in args.variants.split(",") if v.strip()]
    results = run_ablation(args.out, config, model, test_store=args.test_store,
                           variants=variants, seeds=args.seeds, gallery=args.gallery,
                           variogram=args.variogram, loss_options=semivariogram_options(args),
                           progress=not args.quiet)
    paired = compare_to_baseline(args.out, variants, args.seeds, args.baseline) \
        if len(variants) > 1 and args.baseline in variants else None
    paths = write_report(args.out, summarize(results), args.seeds, results=results,
                         paired=paired, baseline=args.baseline)
    print(paths["markdown"].read_text())
    return 0
